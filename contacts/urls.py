from __future__ import annotations

from django.urls import path

from contacts import dashboard_urls, views

app_name = "contacts"
urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("floor/", views.floor, name="floor"),
    path("inbox/", views.inbox, name="inbox"),
] + dashboard_urls.urlpatterns
