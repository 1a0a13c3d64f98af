"""Refusals from every path, and the suppression list that outlives the customer (customers.refusals,
contacts.refusals)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import User
from django.urls import reverse

from contacts.calls import set_do_not_contact
from contacts.models import CallTask, OutboxMessage, Touchpoint, TouchpointTemplate
from contacts.planning.chunk import replan
from contacts.queues import build_queue
from customers import refusals
from customers.importing import import_file
from customers.models import Consent, Customer, OdometerReading, Sale, Suppression, Vehicle
from tests import factories
from tests.contacts.factories import make_call_task

pytestmark = pytest.mark.django_db
# Monday 2026-11-23, 07:30 in Moscow.
NOW = dt.datetime(2026, 11, 23, 4, 30, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 23)
PHONE = "+79161234567"
VIN = "XTA21099043567891"


def _due_for_service(dealership, **customer) -> Customer:
    """Due for maintenance early in December 2026: a call is built on DAY (as tests/contacts/queues/helpers)."""
    owner = factories.CustomerFactory(dealership=dealership, **customer)
    sale = factories.SaleFactory(vehicle__owner=owner, vehicle__vin=VIN, sold_on=dt.date(2025, 12, 20), external_id="S-1")
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=dt.date(2025, 12, 20), odometer_km=0, source="sale")
    factories.OdometerReadingFactory(vehicle=sale.vehicle, read_on=dt.date(2026, 10, 1), odometer_km=12300)
    replan(vehicle_ids=[sale.vehicle.id], now=NOW)
    return owner


def _pending_sms(customer: Customer) -> OutboxMessage:
    vehicle = Vehicle.objects.filter(owner=customer).first() or factories.VehicleFactory(owner=customer)
    touchpoint = Touchpoint.objects.create(
        vehicle=vehicle, customer=customer, template=TouchpointTemplate.objects.get(code="birthday"),
        cycle_start=dt.date(2025, 11, 1), occurrence=1, due_on=DAY, window_start=DAY, window_end=DAY,
        reason="birthday", status=Touchpoint.Status.ISSUED,
    )
    return OutboxMessage.objects.create(dealership=customer.dealership, customer=customer, touchpoint=touchpoint,
                                        channel="sms", recipient=customer.phone, body="С днём рождения",
                                        send_on=DAY)


def _statuses(customer: Customer) -> tuple[list[str], list[str]]:
    return (sorted(CallTask.objects.filter(customer=customer).values_list("status", flat=True)),
            sorted(OutboxMessage.objects.filter(customer=customer).values_list("status", flat=True)))


# --- one workflow, every path ---------------------------------------------------------------------


def test_a_refusal_keeps_the_phones_and_email_on_the_suppression_list(moscow):
    # given
    customer = factories.CustomerFactory(dealership=moscow, phone=PHONE, phone_alt="+79260001122", email="Petr@Example.ru")
    # when
    set_do_not_contact(customer=customer, channels=["call", "email"], now=NOW, reason="не звоните мне")
    # then
    assert sorted(Suppression.objects.values_list("kind", "value", "channel", "refused_at", "reason", "source")) == [
        ("email", "petr@example.ru", "email", NOW, "не звоните мне", "call"),
        ("phone", "+79161234567", "call", NOW, "не звоните мне", "call"),
        ("phone", "+79260001122", "call", NOW, "не звоните мне", "call"),
    ]


def _admin_post_data(response) -> dict[str, object]:
    """The change form's own fields and inline formsets as the page rendered them, ready to post."""
    data: dict[str, object] = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is not None and value is not False:  # an unchecked box is not posted
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{name}"] = value
        for inline_form in formset.forms:
            for name in inline_form.fields:
                value = inline_form.initial.get(name)
                if value is not None:
                    data[inline_form.add_prefix(name)] = value.pk if hasattr(value, "pk") else value
            if inline_form.instance.pk:
                data[inline_form.add_prefix("id")] = inline_form.instance.pk
                data[inline_form.add_prefix(formset.fk.name)] = formset.instance.pk
    return data


def test_a_refusal_entered_in_the_admin_cancels_calls_and_messages_at_once(client, moscow):
    # given: an open call and today's pending SMS
    admin_user = User.objects.create_superuser("root", "root@example.ru", "pw")
    customer = factories.CustomerFactory(dealership=moscow, phone=PHONE)
    task = make_call_task(moscow, customer=customer)
    message = _pending_sms(customer)
    client.force_login(admin_user)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    data = _admin_post_data(client.get(url))
    # when: two refusals added in the consent inline
    data.update({"consents-TOTAL_FORMS": 2, "consents-0-channel": "call", "consents-0-reason": "попросил по телефону",
                 "consents-1-channel": "sms", "consents-1-reason": "попросил по телефону"})
    response = client.post(url, data)
    # then
    assert response.status_code == 302, response.context and response.context["errors"]
    task.refresh_from_db()
    message.refresh_from_db()
    assert (task.status, task.outcome, message.status) == ("cancelled", "do_not_call", "cancelled")
    assert set(Touchpoint.objects.filter(customer=customer).values_list("status", "resolution")) == {
        ("suppressed", "do_not_contact:call"), ("suppressed", "do_not_contact:sms")}
    assert set(Consent.objects.filter(customer=customer).values_list("channel", "is_allowed", "reason")) == {
        ("call", False, "попросил по телефону"), ("sms", False, "попросил по телефону")}
    assert set(Suppression.objects.values_list("value", "channel", "source")) == {(PHONE, "call", "admin"), (PHONE, "sms", "admin")}


def test_consent_given_again_in_the_admin_lifts_the_suppression(client, moscow):
    # given
    admin_user = User.objects.create_superuser("root", "root@example.ru", "pw")
    customer = factories.CustomerFactory(dealership=moscow, phone=PHONE)
    set_do_not_contact(customer=customer, channels=["call"], now=NOW, reason="asked")
    client.force_login(admin_user)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    data = _admin_post_data(client.get(url))
    # when
    data["consents-0-is_allowed"] = "on"
    data["consents-0-reason"] = "agreed again in the showroom"
    assert client.post(url, data).status_code == 302
    # then
    assert Consent.objects.get(customer=customer).is_allowed is True
    assert not Suppression.objects.exists()


def test_a_refusal_through_the_api_cancels_the_open_call(client, moscow):
    # given
    user = factories.make_user("integration", "agent", dealerships=(moscow,))
    token = factories.api_token(user)
    customer = factories.CustomerFactory(dealership=moscow, phone=PHONE)
    task = make_call_task(moscow, customer=customer)
    # when
    response = client.post(reverse("api-customers-refusal", args=[customer.pk]),
                           {"channels": ["call"], "reason": "не звонить"}, content_type="application/json",
                           headers={"Authorization": f"Token {token}"})
    # then
    assert response.status_code == 200
    assert response.json()["refused"] == ["call"]
    task.refresh_from_db()
    assert task.status == "cancelled"
    assert Suppression.objects.get().source == "api"


@pytest.mark.parametrize(("body", "field"), [({"channels": ["fax"]}, "channels"), ({"channels": []}, "channels"), ({}, "channels")])
def test_a_bad_refusal_through_the_api_is_a_400_naming_the_field(client, moscow, body, field):
    user = factories.make_user("integration", "agent", dealerships=(moscow,))
    customer = factories.CustomerFactory(dealership=moscow)
    client.force_login(user)
    response = client.post(reverse("api-customers-refusal", args=[customer.pk]), body, content_type="application/json")
    assert response.status_code == 400 and field in response.json()
    assert not Consent.objects.exists()


def test_another_dealerships_customer_cannot_be_refused_through_the_api(client, moscow, yekaterinburg):
    user = factories.make_user("integration", "agent", dealerships=(moscow,))
    stranger = factories.CustomerFactory(dealership=yekaterinburg)
    client.force_login(user)
    response = client.post(reverse("api-customers-refusal", args=[stranger.pk]), {"channels": ["call"]},
                           content_type="application/json")
    assert response.status_code == 404
    assert not Consent.objects.exists()


# --- the suppression list -------------------------------------------------------------------------


def test_an_import_that_gives_a_customer_a_refused_phone_refuses_it_and_cancels_the_call(moscow):
    # given: one customer refused on this phone; another, with a call open, now gets the number
    refusing = factories.CustomerFactory(dealership=moscow, phone=PHONE, external_id="C-1")
    set_do_not_contact(customer=refusing, channels=["call"], now=NOW, reason="номер не для звонков")
    other = factories.CustomerFactory(dealership=moscow, external_id="C-2", first_name="Анна", last_name="Смирнова")
    task = make_call_task(moscow, customer=other)
    # when
    import_file(kind="customers", content="Код клиента;Фамилия;Имя;Телефон\nC-2;Смирнова;Анна;8 916 123-45-67\n".encode(),
                dealership=moscow, dry_run=False, now=NOW + dt.timedelta(days=1))
    # then
    consent = Consent.objects.get(customer=other)
    assert (consent.channel, consent.is_allowed, consent.changed_at, consent.reason) == ("call", False, NOW, "номер не для звонков")
    task.refresh_from_db()
    assert task.status == "cancelled"


def test_the_daily_build_honours_the_list_even_where_it_was_not_applied(moscow):
    # given: a customer row written without the suppression list (a path that bypasses the workflow)
    Suppression.objects.create(kind="phone", value=PHONE, channel="call", refused_at=NOW, reason="asked", source="call")
    customer = _due_for_service(moscow, phone=PHONE)
    # when
    build_queue(dealership=moscow, day=DAY, now=NOW)
    # then
    assert not CallTask.objects.filter(customer=customer).exists()
    assert Touchpoint.objects.filter(customer=customer, resolution="do_not_contact:call").exists()


def test_a_refusal_survives_deleting_and_reimporting_the_customer_for_weeks(moscow):
    # given: a customer with a call today, who refuses calls, SMS and e-mail on it
    customer = _due_for_service(moscow, phone=PHONE, email="petr@example.ru", external_id="C-7")
    build_queue(dealership=moscow, day=DAY, now=NOW)
    assert CallTask.objects.filter(customer=customer, status="open").count() == 1
    set_do_not_contact(customer=customer, channels=["call", "sms", "email"], now=NOW, reason="больше не звонить")
    # and the DMS clean-up deletes the customer that evening
    Sale.objects.filter(customer=customer).delete()
    customer.delete()
    # when: the next day's DMS export brings them back under a new id, phone and e-mail written otherwise
    tomorrow = NOW + dt.timedelta(days=1)
    with time_machine.travel(tomorrow, tick=False):
        for kind, text in [
            ("customers", "Код клиента;Фамилия;Имя;Телефон;E-mail\nC-8;Иванов;Пётр;8 (916) 123-45-67;PETR@example.ru\n"),
            ("vehicles", f"VIN-код;Марка;Модель;Год выпуска;Код клиента\n{VIN};Kia;Rio;2025;C-8\n"),
            ("sales", f"Номер договора;VIN-код;Код клиента;Дата продажи\nS-2;{VIN};C-8;20.12.2025\n"),
        ]:
            report = import_file(kind=kind, content=text.encode(), dealership=moscow, dry_run=False, now=tomorrow)
            assert not report.refused and not report.error
    again = Customer.objects.get(external_id="C-8")
    # then: refused again, with the original date and reason
    assert sorted(Consent.objects.filter(customer=again).values_list("channel", "is_allowed", "changed_at", "reason")) == [
        ("call", False, NOW, "больше не звонить"), ("email", False, NOW, "больше не звонить"),
        ("sms", False, NOW, "больше не звонить")]
    # and on each of the following 21 days the nightly re-plan and the morning build contact them in no way
    vehicle_ids = list(Vehicle.objects.filter(owner=again).values_list("id", flat=True))
    assert OdometerReading.objects.filter(vehicle_id__in=vehicle_ids).count() == 2
    for offset in range(2, 23):
        night = NOW + dt.timedelta(days=offset) - dt.timedelta(hours=4)
        morning = NOW + dt.timedelta(days=offset)
        with time_machine.travel(night, tick=False):
            replan(vehicle_ids=vehicle_ids, now=night)
        with time_machine.travel(morning, tick=False):
            build_queue(dealership=moscow, day=DAY + dt.timedelta(days=offset), now=morning)
    assert _statuses(again) == ([], [])
    assert Touchpoint.objects.filter(customer=again).exists()
    assert not Touchpoint.objects.filter(customer=again, status__in=["issued", "done"]).exists()
    assert Touchpoint.objects.filter(customer=again, resolution="do_not_contact:call").exists()


def test_the_refusal_hook_is_registered_by_the_contacts_app():
    from contacts.refusals import stop_contact_on_refusal

    assert stop_contact_on_refusal in refusals._hooks



def test_a_refusal_in_the_dms_file_is_recorded_once_and_no_does_not_lift_one(moscow):
    # given: a customer with an open call
    customer = factories.CustomerFactory(dealership=moscow, external_id="C-1", last_name="Иванов", first_name="Пётр",
                                         phone=PHONE, birthday=None)
    task = make_call_task(moscow, customer=customer)
    refusing = "Код клиента;Фамилия;Имя;Не звонить;Отказ от SMS\nC-1;Иванов;Пётр;да;нет\n".encode()
    # when
    first = import_file(kind="customers", content=refusing, dealership=moscow, dry_run=False, now=NOW)
    again = import_file(kind="customers", content=refusing, dealership=moscow, dry_run=False, now=NOW + dt.timedelta(days=1))
    # then
    assert (first.updated, again.unchanged, again.updated) == (1, 1, 0)
    consent = Consent.objects.get(customer=customer)
    assert (consent.channel, consent.is_allowed, consent.changed_at, consent.reason) == (
        "call", False, NOW, "Refused, according to the DMS")
    assert Suppression.objects.get().source == "import"
    task.refresh_from_db()
    assert task.status == "cancelled"
    # and a later file saying "no" leaves the refusal as it is
    import_file(kind="customers", content="Код клиента;Фамилия;Имя;Не звонить\nC-1;Иванов;Пётр;нет\n".encode(),
                dealership=moscow, dry_run=False, now=NOW)
    assert Consent.objects.get(customer=customer).is_allowed is False


def test_a_dry_run_of_a_refusing_file_records_nothing(moscow):
    customer = factories.CustomerFactory(dealership=moscow, external_id="C-1", last_name="Иванов", first_name="Пётр")
    report = import_file(kind="customers", content="external_id;last_name;first_name;do_not_email\nC-1;Иванов;Пётр;yes\n".encode(),
                         dealership=moscow, dry_run=True, now=NOW)
    assert report.updated == 1
    assert not Consent.objects.filter(customer=customer).exists() and not Suppression.objects.exists()


def test_a_refusal_through_the_api_bulk_rows_creates_the_customer_refused(client, moscow):
    user = factories.make_user("integration", "manager", dealerships=(moscow,))
    client.force_login(user)
    response = client.post(reverse("api-customers-bulk"), {"rows": [
        {"external_id": "C-9", "last_name": "Орлова", "first_name": "Ольга", "phone": "+7 926 000 11 22", "do_not_sms": "yes"},
    ]}, content_type="application/json")
    assert response.status_code == 200 and response.json()["created"] == 1
    assert list(Consent.objects.values_list("customer__external_id", "channel", "is_allowed")) == [("C-9", "sms", False)]
    assert list(Suppression.objects.values_list("value", "channel")) == [("+79260001122", "sms")]


def test_refusals_recorded_before_the_list_existed_join_it_on_migration(moscow):
    # given: refusals written straight into Consent, as before migration 0003
    import importlib

    from django.apps import apps

    customer = factories.CustomerFactory(dealership=moscow, phone=PHONE, email="Petr@Example.ru")
    Consent.objects.create(customer=customer, channel="call", is_allowed=False, changed_at=NOW, reason="asked")
    Consent.objects.create(customer=customer, channel="email", is_allowed=False, changed_at=NOW, reason="spam")
    Consent.objects.create(customer=customer, channel="sms", is_allowed=True, changed_at=NOW, reason="")
    # when
    importlib.import_module("customers.migrations.0004_suppression").keep_existing_refusals(apps, None)
    # then
    assert sorted(Suppression.objects.values_list("kind", "value", "channel", "reason")) == [
        ("email", "petr@example.ru", "email", "spam"), ("phone", PHONE, "call", "asked")]


# --- per purpose ----------------------------------------------------------------------------------


def test_a_refusal_of_one_purpose_through_the_api_records_who_and_leaves_the_others(client, moscow):
    # given
    user = factories.make_user("integration", "agent", dealerships=(moscow,))
    token = factories.api_token(user)
    customer = factories.CustomerFactory(dealership=moscow, phone=PHONE)
    headers = {"Authorization": f"Token {token}"}
    url = reverse("api-customers-refusal", args=[customer.pk])
    # when: sales and marketing offers by SMS, then every call (no purpose given)
    offers = client.post(url, {"channels": ["sms"], "purposes": ["marketing"], "reason": "без рекламы"},
                         content_type="application/json", headers=headers)
    calls = client.post(url, {"channels": ["call"], "reason": "не звонить"}, content_type="application/json",
                        headers=headers)
    # then
    assert offers.status_code == 200 and offers.json()["purposes"] == ["marketing"]
    assert calls.status_code == 200 and calls.json()["purposes"] == ["marketing", "service", "survey"]
    assert sorted(Consent.objects.values_list("channel", "purpose", "is_allowed", "reason", "source", "recorded_by")) == [
        ("call", "all", False, "не звонить", "api", user.pk), ("sms", "marketing", False, "без рекламы", "api", user.pk)]
    customer.refresh_from_db()
    assert customer.allows("sms", "service") and not customer.allows("sms", "marketing")
    assert not customer.allows("call", "service")
    assert sorted(Suppression.objects.values_list("channel", "purpose")) == [("call", "all"), ("sms", "marketing")]


def test_an_unknown_purpose_through_the_api_is_a_400_naming_the_field(client, moscow):
    user = factories.make_user("integration", "agent", dealerships=(moscow,))
    client.force_login(user)
    customer = factories.CustomerFactory(dealership=moscow)
    response = client.post(reverse("api-customers-refusal", args=[customer.pk]),
                           {"channels": ["call"], "purposes": ["politics"]}, content_type="application/json")
    assert response.status_code == 400
    assert "purposes" in response.json()
    assert not Consent.objects.exists()


def test_a_dms_file_may_say_what_a_refusal_is_for_and_without_it_the_refusal_is_for_everything(moscow):
    # given: one row refuses sales calls, one refuses calls outright
    content = ("Код клиента;Фамилия;Имя;Не звонить;Цель отказа\n"
               "C-1;Иванов;Пётр;да;реклама\n"
               "C-2;Петров;Иван;да;\n").encode()
    # when
    report = import_file(kind="customers", content=content, dealership=moscow, dry_run=False, now=NOW)
    again = import_file(kind="customers", content=content, dealership=moscow, dry_run=False, now=NOW + dt.timedelta(days=1))
    # then: once each, and the same file again changes nothing
    assert (report.created, again.unchanged) == (2, 2)
    assert sorted(Consent.objects.values_list("customer__external_id", "channel", "purpose", "is_allowed", "source")) == [
        ("C-1", "call", "marketing", False, "import"), ("C-2", "call", "all", False, "import")]
    assert Customer.objects.get(external_id="C-1").allows("call", "service")


def test_consent_to_service_calls_after_refusing_every_call_keeps_only_the_rest_on_the_list(moscow):
    # given
    customer = factories.CustomerFactory(dealership=moscow, phone=PHONE)
    refusals.record_refusal(customer=customer, channels=["call"], now=NOW, reason="не звонить", source="call")
    # when: "well, about the car's service you may call"
    refusals.record_consent(customer=customer, channel="call", now=NOW, reason="по сервису можно", purposes=["service"])
    # then
    customer.refresh_from_db()
    assert customer.allows("call", "service") and not customer.allows("call", "marketing")
    assert sorted(Suppression.objects.values_list("channel", "purpose")) == [("call", "marketing"), ("call", "survey")]
    # a customer created with that phone comes back with the same refusals
    again = factories.CustomerFactory(dealership=moscow, phone=PHONE)
    refusals.apply_suppression_list(customer_ids=[again.pk], now=NOW)
    again.refresh_from_db()
    assert again.refused_pairs() == {("call", "marketing"), ("call", "survey")}


@pytest.mark.django_db(transaction=True)
def test_consents_of_before_purposes_migrate_to_all_purposes():
    # given: the schema before the purpose, with a refusal and a consent in it
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    target = next(key for key in executor.loader.graph.nodes if key[0] == "customers" and key[1].endswith("_consent_purpose"))
    before = sorted(p for p in executor.loader.graph.node_map[target].parents if p.key[0] == "customers")[0].key
    executor.migrate([before])
    old_apps = executor.loader.project_state([before]).apps
    dealership = old_apps.get_model("customers", "Dealership").objects.create(code="old", name="Old", time_zone="Europe/Moscow")
    customer = old_apps.get_model("customers", "Customer").objects.create(
        dealership=dealership, first_name="Пётр", last_name="Иванов", phone=PHONE)
    old_consent = old_apps.get_model("customers", "Consent")
    old_consent.objects.create(customer=customer, channel="call", is_allowed=False, changed_at=NOW, reason="asked")
    old_consent.objects.create(customer=customer, channel="sms", is_allowed=True, changed_at=NOW, reason="")
    old_apps.get_model("customers", "Suppression").objects.create(
        kind="phone", value=PHONE, channel="call", refused_at=NOW, reason="asked", source="call")
    # when
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    # then: every old row is for all purposes, and still refuses or allows what it did
    assert sorted(Consent.objects.values_list("channel", "purpose", "is_allowed", "source")) == [
        ("call", "all", False, ""), ("sms", "all", True, "")]
    assert list(Suppression.objects.values_list("channel", "purpose")) == [("call", "all")]
    migrated = Customer.objects.get(pk=customer.pk)
    assert migrated.blocked_channels() == {"call"} and migrated.allows("sms", "marketing")
