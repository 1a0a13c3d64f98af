from __future__ import annotations

from django.urls import path

from contacts import dashboard_urls, operations_views, privacy_views
from contacts.views import agent, floor, inbox

app_name = "contacts"
urlpatterns = [
    path("queue/", agent.queue, name="queue"),
    path("next/", agent.next_call, name="next"),
    path("pause/", agent.pause, name="pause"),
    path("task/<int:pk>/", agent.call, name="call"),
    path("task/<int:pk>/outcome/", agent.record_outcome, name="outcome"),
    path("task/<int:pk>/release/", agent.release, name="release"),
    path("task/<int:pk>/heartbeat/", agent.heartbeat, name="heartbeat"),
    path("task/<int:pk>/reassign/", floor.reassign, name="reassign"),
    path("undo/<int:attempt_id>/", agent.undo, name="undo"),
    path("inbound/<int:customer_id>/", agent.inbound_call, name="inbound"),
    path("floor/", floor.floor, name="floor"),
    path("floor/problems/", operations_views.problems, name="problems"),
    path("floor/capacity/<int:dealership_id>/", floor.set_capacity, name="capacity"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/<int:pk>/<str:action>/", inbox.handoff_action, name="handoff"),
    path("customers/<int:pk>/data.json", privacy_views.customer_data_download, name="customer_data"),
    path("customers/<int:pk>/erase/", privacy_views.customer_erase, name="customer_erase"),
    path("inbox/badge/", inbox.inbox_badge, name="inbox_badge"),
] + dashboard_urls.urlpatterns
