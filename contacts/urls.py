from __future__ import annotations

from django.urls import path

from contacts import views

app_name = "contacts"
urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("floor/", views.floor, name="floor"),
    path("inbox/", views.inbox, name="inbox"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
