"""A person's data on request: the export of everything held, and the erasure that keeps the refusal
(hashed) and the counts (contacts.privacy)."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from contacts.models import CallAttempt, CallTask, OutboxMessage
from contacts.privacy import erase_customer
from customers.models import Consent, Customer, Sale, Suppression, Vehicle
from customers.refusals import apply_suppression_list, suppressed_pairs
from tests import factories
from tests.contacts.factories import make_call_task, make_outbox_message

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def held(moscow):
    """A customer with a car, a sale, a visit, an open call with an attempt, a pending SMS and an e-mail consent."""
    customer = factories.CustomerFactory(dealership=moscow, first_name="Ольга", last_name="Смирнова",
                                         phone="+79161112233", email="Olga@Example.ru", address="Москва, ул. Ленина 1")
    task = make_call_task(moscow, customer=customer)
    CallAttempt.objects.create(call_task=task, customer=customer, outcome="no_answer", note="перезвонить вечером",
                               started_at=NOW - dt.timedelta(days=1, minutes=2), ended_at=NOW - dt.timedelta(days=1))
    make_outbox_message(moscow, send_on=dt.date(2026, 12, 5), customer=customer, channel="sms", body="Ольга, ждём вас")
    factories.ServiceVisitFactory(vehicle=customer.vehicles.get())
    Consent.objects.create(customer=customer, channel="email", is_allowed=True, changed_at=NOW, reason="сама попросила")
    return customer


def test_the_export_holds_everything_about_the_customer(held):
    out = io.StringIO()
    # when
    call_command("export_customer_data", str(held.pk), stdout=out)
    # then
    data = json.loads(out.getvalue())
    assert data["customer"]["last_name"] == "Смирнова" and data["customer"]["phone"] == "+79161112233"
    assert [v["vin"] for v in data["vehicles"]] == [held.vehicles.get().vin]
    assert len(data["sales"]) == 1 and len(data["service_visits"]) == 1
    assert len(data["calls"]) == 1 and data["call_attempts"][0]["note"] == "перезвонить вечером"
    assert data["messages"][0]["body"] == "Ольга, ждём вас"
    assert data["consents"][0]["reason"] == "сама попросила"
    assert data["refusals"] == [] and len(data["touchpoints"]) == 2


def test_managers_download_it_from_the_customer_page_and_agents_cannot(client, held, manager, agent, caplog):
    # given
    client.force_login(agent)
    assert client.get(reverse("contacts:customer_data", args=[held.pk])).status_code == 403
    client.force_login(manager)
    page = client.get(reverse("customers:detail", args=[held.pk])).content.decode()
    assert reverse("contacts:customer_data", args=[held.pk]) in page
    # when
    with caplog.at_level(logging.INFO, logger="contacts.privacy"):
        response = client.get(reverse("contacts:customer_data", args=[held.pk]))
    # then
    assert response["Content-Disposition"] == f'attachment; filename="customer-{held.pk}.json"'
    assert json.loads(response.content)["customer"]["first_name"] == "Ольга"
    assert f"personal data of customer {held.pk} exported by mike" in caplog.text


def test_erasure_keeps_the_refusal_as_a_hash_and_the_counts(held, caplog):
    # given
    sales, attempts = Sale.objects.count(), CallAttempt.objects.count()
    # when
    with caplog.at_level(logging.INFO, logger="contacts.privacy"):
        kept = erase_customer(customer=held, now=NOW, requested_by="mike")
    # then: nothing that names the person is left
    erased = Customer.objects.get(pk=held.pk)
    assert (erased.first_name, erased.last_name, erased.phone, erased.email, erased.address, erased.birthday,
            erased.external_id) == ("", "—", "", "", "", None, None)
    vehicle = Vehicle.objects.get(owner=erased)
    assert vehicle.vin.startswith("ERASED") and vehicle.plate == "" and not vehicle.is_active
    assert CallAttempt.objects.get(customer=erased).note == ""
    message = OutboxMessage.objects.get(customer=erased)
    assert (message.body, message.recipient, message.status) == ("", "", OutboxMessage.Status.CANCELLED)
    assert CallTask.objects.get(customer=erased).status == CallTask.Status.CANCELLED
    assert CallTask.objects.get(customer=erased).script == ""
    assert not Suppression.objects.exclude(value="").exists()
    assert set(Suppression.objects.values_list("kind", "channel")) == {
        ("phone", "call"), ("phone", "sms"), ("email", "email")}
    assert all(len(h) == 64 for h in Suppression.objects.values_list("value_hash", flat=True))
    # and the counts the figures need stay
    assert (Sale.objects.count(), CallAttempt.objects.count()) == (sales, attempts)
    assert kept["refusals_hashed"] == 3 and kept["sales"] == 1 and kept["call_attempts"] == 1
    assert f"customer {held.pk} erased on request by mike" in caplog.text
    # and the same phone or e-mail, imported again, comes back refused
    again = factories.CustomerFactory(dealership=held.dealership, phone="+79161112233", email="olga@example.ru")
    other = factories.CustomerFactory(dealership=held.dealership)
    refused = suppressed_pairs([(again.pk, again.phone, "", again.email), (other.pk, other.phone, "", "")])
    assert {pk: {channel for channel, _purpose in pairs} for pk, pairs in refused.items()} == {
        again.pk: {"call", "sms", "email"}}
    assert apply_suppression_list(customer_ids=[again.pk], now=timezone.now()) == 3
    assert not again.allows("call")


def test_the_erase_button_needs_the_confirmation(client, held, manager):
    # given
    client.force_login(manager)
    url = reverse("contacts:customer_erase", args=[held.pk])
    # when: not confirmed
    client.post(url)
    # then
    assert Customer.objects.get(pk=held.pk).last_name == "Смирнова"
    # when: confirmed
    response = client.post(url, {"confirm": "erase"}, follow=True)
    # then: the page still opens, with no name on it
    assert response.status_code == 200
    assert Customer.objects.get(pk=held.pk).last_name == "—"
    assert "Смирнова" not in response.content.decode()


def test_the_erase_command(held):
    call_command("erase_customer", str(held.pk), "--yes", stdout=io.StringIO())
    assert Customer.objects.get(pk=held.pk).phone == ""
