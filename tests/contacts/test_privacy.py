"""A person's data on request: the export of everything held, and the erasure that keeps the refusal
(hashed) and the counts (contacts.privacy)."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import models
from django.urls import reverse
from django.utils import timezone

from audit import trail
from audit.models import AuditEntry
from contacts import calls, metrics
from contacts.calls import handoffs
from contacts.models import (
    CallAttempt,
    CallTask,
    CallTaskItem,
    Department,
    Handoff,
    HandoffEvent,
    OutboxMessage,
    Problem,
)
from contacts.privacy import customer_data, erase_customer
from contacts.problems import record_problem
from customers.contact_details import correct_phones
from customers.duplicates import merge_customers
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


# ------------------------------------------------------------------------------------- the audit trail and what
# others wrote about the person

CALL_NOW = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)  # Monday, 11:00 in Moscow: the held call's day
OLD_PHONE = "+79160001122"
DUPLICATE_PHONE = "+79167778899"


@pytest.fixture
def talked_about(held, agent, manager):
    """``held``, and what the people at the dealership wrote about her through the product: her old phone
    and her maiden name in the audit trail (corrected on the customer page, changed in the admin), a
    duplicate of her merged into her (its own entry, its external id), a hot lead with results typed per
    topic, a forwarded hand-off with notes and a result naming her. Beside her, another customer the
    erasure must not touch."""
    customer = Customer.objects.get(pk=held.pk)
    Customer.objects.filter(pk=held.pk).update(phone=OLD_PHONE)
    customer.refresh_from_db()
    correct_phones(customer=customer, phone="+79161112233", phone_alt="")
    with trail.acting(actor=manager, source=trail.Source.ADMIN):  # as the admin's change form records it
        trail.record(object_type=trail.ObjectType.CUSTOMER, object_id=held.pk, action=trail.Action.UPDATE,
                     changes=trail.diff({"last_name": "Кузнецова"}, {"last_name": "Смирнова"}),
                     dealership_id=held.dealership_id, customer_id=held.pk)
    LogEntry.objects.create(user=manager, content_type=ContentType.objects.get_for_model(Customer),
                            object_id=str(held.pk), object_repr=str(customer), action_flag=CHANGE,
                            change_message='[{"changed": {"fields": ["Last name"]}}]')
    duplicate = factories.CustomerFactory(dealership=held.dealership, first_name="Ольга", last_name="Смирнова",
                                          phone="+79160009988", external_id="DMS-OLGA-2")
    correct_phones(customer=duplicate, phone=DUPLICATE_PHONE, phone_alt="")
    merge_customers(survivor=customer, merged=duplicate, now=CALL_NOW, decided_by=manager)
    task = CallTask.objects.get(customer=held)
    CallTask.objects.filter(pk=task.pk).update(status="claimed", claimed_by=agent, claimed_at=CALL_NOW)
    calls.record_outcome(task=task, agent=agent, outcome="hot_lead", now=CALL_NOW, topic="purchase", temperature="hot",
                         note="Ольга Смирнова хочет новую машину", results={"0": "Смирнова: звонить на +79161112233"})
    handoff = Handoff.objects.get(customer=held)
    handoffs.forward_handoff(handoff=handoff, to=Department.objects.get(code="trade_in"), by=manager,
                          note="Смирнова сдаёт машину в трейд-ин, Olga@Example.ru", now=CALL_NOW)
    handoffs.record_handoff_outcome(handoff=handoff, by=manager, outcome="test_drive", now=CALL_NOW,
                                 note="Ольга приедет на тест-драйв, +79161112233")
    record_problem(stage="messages", day=CALL_NOW.date(), subject=f"customer:{held.pk}", now=CALL_NOW,
                   error="SendError: the provider refused +79161112233 (Смирнова)", customer_id=held.pk)
    bystander = factories.CustomerFactory(dealership=held.dealership, first_name="Пётр", last_name="Волков",
                                          phone="+79035556677", email="petr@example.ru")
    correct_phones(customer=bystander, phone="+79035556688", phone_alt="")
    return held, bystander, duplicate


def _everything_stored() -> str:
    """Every text and JSON value of every table, as one lower-case text."""
    texts = []
    for model in apps.get_models():
        fields = [f.attname for f in model._meta.concrete_fields
                  if isinstance(f, (models.CharField, models.TextField, models.JSONField))]
        if fields and model._meta.managed:
            for row in model._base_manager.values_list(*fields):
                texts.append(json.dumps(row, ensure_ascii=False, default=str))
    return "\n".join(texts).lower()


def test_the_export_holds_the_customers_audit_entries_and_is_recorded(talked_about, manager):
    held, _bystander, duplicate = talked_about
    with trail.acting(actor=manager, source=trail.Source.CUSTOMER_PAGE):
        data = customer_data(customer=held, now=NOW, requested_by="mike")
    changed = {name for entry in data["audit_entries"] for name in entry["changes"]}
    assert changed == {"phone", "last_name"}
    assert {entry["customer_id"] for entry in data["audit_entries"]} == {held.pk, duplicate.pk}
    assert [row["external_id"] for row in data["merged_customers"]] == ["DMS-OLGA-2"]
    assert data["call_items"][0]["result"] == "Смирнова: звонить на +79161112233"
    # and the export is an entry of the trail, with its counts and nothing personal
    export = AuditEntry.objects.get(action=trail.Action.EXPORT)
    assert (export.customer_id, export.actor, export.source) == (held.pk, manager, trail.Source.CUSTOMER_PAGE)
    assert export.changes["audit_entries"] == [None, len(data["audit_entries"])]
    assert export.changes["requested_by"] == [None, "mike"]
    assert "смирнова" not in json.dumps(export.changes, ensure_ascii=False).lower()


SEARCHED = ("ольга", "смирнова", "кузнецова", "+79161112233", "9161112233", OLD_PHONE, "9160001122",
            DUPLICATE_PHONE, "9167778899", "dms-olga-2", "olga@example.ru", "ленина")


def test_after_the_erasure_her_data_is_nowhere_in_the_database_and_the_figures_are_the_same(talked_about, manager):
    # given
    held, bystander, _duplicate = talked_about
    vehicle = held.vehicles.get()
    searched = (*SEARCHED, vehicle.vin.lower(), *([vehicle.plate.lower()] if vehicle.plate else []))
    stored = _everything_stored()
    assert all(value in stored for value in searched)  # the search finds them before
    scope = metrics.Scope(dealership_ids=(held.dealership_id,), start=dt.date(2025, 12, 1), end=dt.date(2026, 11, 30),
                          as_of=dt.date(2026, 12, 2))
    figures = metrics.all_figures(scope)
    counts = {model.__name__: model._base_manager.count() for model in apps.get_models()}
    bystander_entries = list(AuditEntry.objects.filter(customer_id=bystander.pk).values("changes"))
    # when
    with trail.acting(actor=manager, source=trail.Source.CUSTOMER_PAGE):
        kept = erase_customer(customer=held, now=NOW, requested_by="mike")
    # then: none of her values is stored anywhere
    stored = _everything_stored()
    assert [value for value in searched if value in stored] == []
    # and the other customer is untouched
    assert "волков" in stored and "+79035556688" in stored and "petr@example.ru" in stored
    assert list(AuditEntry.objects.filter(customer_id=bystander.pk).values("changes")) == bystander_entries
    # and the rows stay: her entries say which field changed, with the values erased
    phone_entry = AuditEntry.objects.get(customer_id=held.pk, object_type="customer", changes__has_key="phone")
    assert phone_entry.changes["phone"] == ["erased", "erased"]
    assert CallTaskItem.objects.get(call_task__customer=held).result == "erased"
    assert Handoff.objects.get(customer=held).result == "erased"
    assert set(HandoffEvent.objects.filter(handoff__customer=held).exclude(note="").values_list("note", flat=True)) == {
        "erased"}
    # every table keeps its rows; the refusal of all contact and its entries are added
    grown = {"AuditEntry", "Consent", "Suppression"}
    assert {name: n for name, n in counts.items() if name not in grown} == {
        model.__name__: model._base_manager.count() for model in apps.get_models() if model.__name__ not in grown}
    # (her phones, the merged duplicate's as her second, and her e-mail: 2 + 2 + 1 refusals, hashed)
    assert kept["refusals_hashed"] == 5
    assert (Consent.objects.count(), Suppression.objects.count()) == (counts["Consent"] + 2, counts["Suppression"] + 5)
    refusals = AuditEntry.objects.filter(customer_id=held.pk, action=trail.Action.REFUSE)
    assert [entry.changes["reason"] for entry in refusals] == [[None, "erased on request"]] * refusals.count() != []
    assert AuditEntry.objects.count() == counts["AuditEntry"] + 1 + refusals.count()  # the erasure, its refusals
    assert metrics.all_figures(scope) == figures
    # and the erasure is an entry of the trail, with what was kept and nothing personal
    erasure = AuditEntry.objects.get(action=trail.Action.ERASE)
    assert (erasure.customer_id, erasure.actor, erasure.at) == (held.pk, manager, NOW)
    assert erasure.changes["audit_entries"] == [None, kept["audit_entries"]] and kept["audit_entries"] == 3
    assert kept["call_items"] == 1 and kept["handoff_events"] >= 2 and kept["merged_customers"] == 1
    assert Problem.objects.get(customer=held).error == "SendError: the provider refused erased (erased)"


@pytest.mark.parametrize("path", ["contacts:customer_data", "contacts:customer_erase"])
def test_the_pages_record_who_exported_and_erased(client, held, manager, path):
    client.force_login(manager)
    url = reverse(path, args=[held.pk])
    # when
    if path == "contacts:customer_erase":
        client.post(url, {"confirm": "erase"}, REMOTE_ADDR="10.0.0.7")
    else:
        client.get(url, REMOTE_ADDR="10.0.0.7")
    # then
    action = trail.Action.ERASE if path == "contacts:customer_erase" else trail.Action.EXPORT
    entry = AuditEntry.objects.get(action=action)
    assert (entry.actor_name, entry.address, entry.customer_id) == ("mike", "10.0.0.7", held.pk)


def test_an_erased_value_is_said_in_the_readers_language():
    from django.template import Context, Template
    from django.utils import translation

    from contacts.privacy import ERASED

    page = Template("{% load wording %}{{ value|erased_words }} {{ other|erased_words }}")
    with translation.override("ru"):
        assert page.render(Context({"value": ERASED, "other": "звонил жене"})) == "стёрто звонил жене"
    with translation.override("en"):
        assert page.render(Context({"value": ERASED, "other": None})) == "erased None"
