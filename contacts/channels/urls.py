from __future__ import annotations

from django.urls import path

from contacts.channels import webhooks

app_name = "channels"
urlpatterns = [
    path("delivery/<slug:provider>/<str:token>/", webhooks.delivery_report, name="delivery"),
    path("inbound/sms/", webhooks.inbound_sms, name="inbound_sms"),
    path("inbound/email/", webhooks.inbound_email, name="inbound_email"),
    path("unsubscribe/<str:token>/", webhooks.unsubscribe_page, name="unsubscribe"),
]
