"""Routes of the manager dashboards, spliced into contacts/urls.py."""

from __future__ import annotations

from django.urls import path

from contacts import dashboard

urlpatterns = [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
]
