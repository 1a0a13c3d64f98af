from __future__ import annotations

from django.urls import path

from contacts.configuration import views

app_name = "configuration"
urlpatterns = [
    path("program/", views.program, name="program"),
]
