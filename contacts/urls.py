from __future__ import annotations

from django.urls import path

from contacts import dashboard_urls, operations_views, privacy_views, views

app_name = "contacts"
urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("next/", views.next_call, name="next"),
    path("task/<int:pk>/", views.call, name="call"),
    path("task/<int:pk>/outcome/", views.record_outcome, name="outcome"),
    path("task/<int:pk>/release/", views.release, name="release"),
    path("task/<int:pk>/heartbeat/", views.heartbeat, name="heartbeat"),
    path("task/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("undo/<int:attempt_id>/", views.undo, name="undo"),
    path("inbound/<int:customer_id>/", views.inbound_call, name="inbound"),
    path("floor/", views.floor, name="floor"),
    path("floor/problems/", operations_views.problems, name="problems"),
    path("floor/capacity/<int:dealership_id>/", views.set_capacity, name="capacity"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/<str:action>/", views.handoff_action, name="handoff"),
    path("customers/<int:pk>/data.json", privacy_views.customer_data_download, name="customer_data"),
    path("customers/<int:pk>/erase/", privacy_views.customer_erase, name="customer_erase"),
] + dashboard_urls.urlpatterns
