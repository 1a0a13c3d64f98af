"""Every recorded path writes who, where, when and the old and new values, in the change's own
transaction (audit.trail and its callers in customers and contacts)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from audit.models import AuditEntry
from audit.trail import acting
from contacts import calls
from contacts.configuration.versions import publish_template_version, save_template_draft
from contacts.models import CallTask, TouchpointTemplate
from customers import refusals
from customers.contact_details import correct_phones
from customers.importing import import_file
from customers.importing.flows import run_import_batch
from customers.models import Consent, Customer, ImportBatch, RefusalSource
from tests import factories
from tests.contacts.configuration.test_rules import posted
from tests.contacts.factories import make_call_task

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


def entries(**filters) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(**filters).order_by("id"))


@pytest.fixture
def admin(moscow):
    return factories.make_user("ada", "admin", dealerships=(moscow,))


@pytest.fixture
def ivanov(moscow):
    return factories.CustomerFactory(dealership=moscow, external_id="C-1", last_name="Иванов", first_name="Пётр",
                                     phone="+79161234567", email="petr@example.ru")


# --- customer contact data ------------------------------------------------------------------------


def test_correcting_a_phone_on_the_customer_page_records_old_and_new_number_user_and_address(client, agent, ivanov):
    client.force_login(agent)
    response = client.post(f"/customers/{ivanov.pk}/phones/", {"phone": "8 912 345-67-89", "phone_alt": ""},
                           REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302
    [entry] = entries(object_type="customer")
    assert (entry.actor, entry.actor_name, entry.source, entry.address) == (agent, "alice", "customer_page", "10.1.2.3")
    assert (entry.customer_id, entry.dealership_id, entry.action) == (ivanov.pk, ivanov.dealership_id, "update")
    assert entry.changes == {"phone": ["+79161234567", "+79123456789"]}


def test_a_correction_that_changes_nothing_records_nothing(ivanov):
    correct_phones(customer=ivanov, phone="+79161234567", phone_alt="")
    assert entries() == []


def test_an_edit_in_the_django_admin_records_each_changed_field(client, ivanov):
    boss = factories.make_user("root", "admin", dealerships=(ivanov.dealership,))
    boss.is_superuser = boss.is_staff = True
    boss.save()
    client.force_login(boss)
    page = client.get(f"/admin/customers/customer/{ivanov.pk}/change/")
    form = page.context["adminform"].form
    values = {name: form[name].value() for name in form.fields}
    data = {name: ("on" if value is True else value) for name, value in values.items() if value is not None and value is not False}
    data.update({"last_name": "Петров", "email": "new@example.ru"})
    for formset in page.context["inline_admin_formsets"]:
        prefix = formset.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = client.post(f"/admin/customers/customer/{ivanov.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    [entry] = entries(object_type="customer")
    assert (entry.source, entry.actor, entry.action) == ("admin", boss, "update")
    assert entry.changes["last_name"] == ["Иванов", "Петров"]
    assert entry.changes["email"] == ["petr@example.ru", "new@example.ru"]
    # and the admin's history page shows the old and new values
    history = client.get(f"/admin/customers/customer/{ivanov.pk}/history/").content.decode()
    assert "Иванов" in history and "Петров" in history and 'id="audit-trail"' in history


def test_an_import_records_one_entry_per_changed_row_with_old_and_new_values(moscow, manager, ivanov):
    content = ("external_id;last_name;first_name;phone\n"
               "C-1;Иванов;Пётр;+79169999999\n"     # phone changed
               "C-2;Сидоров;Иван;+79160000002\n").encode()  # new
    batch = ImportBatch.objects.create(kind="customers", dealership=moscow, uploaded_by=manager, file_name="dms.csv", is_dry_run=False,
                                       file_content=content)
    report = run_import_batch(batch=batch)
    assert (report.created, report.updated) == (1, 1)
    updated, created = entries(object_type="customer")
    assert (updated.object_id, updated.action, updated.changes) == (
        str(ivanov.pk), "update", {"phone": ["+79161234567", "+79169999999"]})
    new = Customer.objects.get(external_id="C-2")
    assert (created.object_id, created.customer_id, created.action) == (str(new.pk), new.pk, "create")
    assert created.changes["last_name"] == [None, "Сидоров"]
    assert {(e.actor, e.source) for e in (updated, created)} == {(manager, "import")}
    [applied] = entries(object_type="import_batch")
    assert (applied.actor, applied.source, applied.action, applied.object_id) == (manager, "import", "apply", str(batch.pk))
    assert applied.changes["file"] == [None, "dms.csv"]
    assert (applied.changes["created"], applied.changes["updated"], applied.changes["refused"]) == (
        [None, 1], [None, 1], [None, 0])


def test_a_dry_run_records_nothing(moscow, ivanov):
    import_file(kind="customers", content=b"external_id;last_name;first_name\nC-1;X;Y\n", dealership=moscow, dry_run=True)
    assert entries() == []


def test_an_api_write_records_the_token_user_and_the_api(moscow, ivanov):
    dms = factories.make_user("dms", "manager", dealerships=(moscow,))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {factories.api_token(dms)}")
    response = client.post("/api/customers/bulk/", {"dealership": "msk", "rows": [
        {"external_id": "C-1", "last_name": "Иванов", "first_name": "Павел"}]}, format="json", REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 200, response.content
    [entry] = entries(object_type="customer")
    assert (entry.actor, entry.source, entry.address) == (dms, "api", "192.0.2.7")
    assert entry.changes == {"first_name": ["Пётр", "Павел"]}


# --- consents -------------------------------------------------------------------------------------


def test_a_refusal_and_a_consent_are_recorded_per_channel_with_the_reason(ivanov):
    with acting(actor=None, source="call_screen"):
        refusals.record_refusal(customer=ivanov, channels=["call", "sms"], now=NOW, reason="не звоните",
                                source=RefusalSource.CALL)
    call, sms = entries(object_type="consent")
    # one entry per channel and purpose: a refusal without a purpose is the channel's "all purposes" row
    assert (call.object_id, call.action, call.source) == (f"{ivanov.pk}:call:all", "refuse", "call_screen")
    assert call.changes == {"is_allowed": [None, False], "reason": [None, "не звоните"]}
    assert sms.object_id == f"{ivanov.pk}:sms:all"
    refusals.record_consent(customer=ivanov, channel="sms", now=NOW, reason="передумал")
    consent = entries(object_type="consent")[-1]
    assert (consent.action, consent.changes["is_allowed"], consent.customer_id) == ("consent", [False, True], ivanov.pk)


def test_a_refusal_recorded_again_changes_nothing_and_records_nothing_new(ivanov):
    refusals.record_refusal(customer=ivanov, channels=["call"], now=NOW, reason="", source=RefusalSource.API)
    refusals.record_refusal(customer=ivanov, channels=["call"], now=NOW, reason="", source=RefusalSource.API)
    assert [e.source for e in entries(object_type="consent")] == ["api"]


# --- rolled back: no entry ------------------------------------------------------------------------


def test_a_rolled_back_change_leaves_no_entry(ivanov):
    with pytest.raises(RuntimeError), transaction.atomic():
        correct_phones(customer=ivanov, phone="+79120000000", phone_alt="")
        refusals.record_refusal(customer=ivanov, channels=["email"], now=NOW, reason="", source=RefusalSource.ADMIN)
        assert AuditEntry.objects.count() == 2
        raise RuntimeError("the caller fails after the change")
    assert entries() == []
    assert not Consent.objects.filter(customer=ivanov).exists()


# --- configuration, capacity, calls ---------------------------------------------------------------


def test_saving_the_rules_records_each_changed_rule(client, admin, moscow):
    client.force_login(admin)
    response = client.post("/program/rules/", posted(max_calls_per_30_days=3, call_hours_start="10:00"))
    assert response.status_code == 302
    [entry] = entries(object_type="contact_rules")
    assert (entry.actor, entry.source, entry.dealership_id) == (admin, "configuration", moscow.pk)
    assert entry.changes["max_calls_per_30_days"] == [2, 3]
    assert entry.changes["call_hours_start"] == ["09:00:00", "10:00:00"]


def test_publishing_a_template_records_the_fields_against_the_previous_version(admin):
    template = TouchpointTemplate.objects.get(code="first_weeks")
    old_script = template.script_en
    template.script_en = "New words for {{ customer.first_name }}."
    draft = save_template_draft(edited=template, user=admin, now=NOW)
    publish_template_version(draft=draft, user=admin, now=NOW)
    [entry] = entries(object_type="template")
    assert (entry.object_id, entry.action, entry.actor, entry.dealership_id, entry.at) == (
        str(template.pk), "publish", admin, None, NOW)
    assert entry.changes["script_en"] == [old_script, "New words for {{ customer.first_name }}."]
    assert entry.changes["version"] == [1, 2]
    assert "priority" not in entry.changes


def test_setting_agents_on_shift_records_the_old_and_new_number(client, supervisor, moscow):
    client.force_login(supervisor)
    client.post(f"/calls/floor/capacity/{moscow.pk}/", {"agents_on_shift": 5})
    client.post(f"/calls/floor/capacity/{moscow.pk}/", {"agents_on_shift": 7})
    first, second = entries(object_type="capacity")
    assert (first.action, first.changes["agents_on_shift"]) == ("create", [None, 5])
    assert (second.action, second.changes["agents_on_shift"], second.actor, second.source) == (
        "update", [5, 7], supervisor, "floor")


def test_reassigning_and_releasing_a_call_are_recorded(client, supervisor, agent, moscow):
    task = make_call_task(moscow)
    CallTask.objects.filter(pk=task.pk).update(status=CallTask.Status.CLAIMED, claimed_by=agent, claimed_at=NOW)
    task.refresh_from_db()
    assert calls.release_call(task=task, by=supervisor)
    other = factories.make_user("ann", "agent", dealerships=(moscow,))
    task.refresh_from_db()
    assert calls.reassign_call(task=task, to=other, by=supervisor)
    released, reassigned = entries(object_type="call_task")
    assert (released.action, released.source, released.actor, released.customer_id) == (
        "release", "floor", supervisor, task.customer_id)
    assert released.changes == {"status": ["claimed", "open"]}
    assert (reassigned.action, reassigned.changes) == ("reassign", {"assigned_to": [None, other.pk], "claimed_by": [agent.pk, None]})


def test_an_agent_releasing_their_own_call_is_recorded_from_the_call_screen(agent, moscow):
    task = make_call_task(moscow)
    CallTask.objects.filter(pk=task.pk).update(status=CallTask.Status.CLAIMED, claimed_by=agent, claimed_at=NOW)
    task.refresh_from_db()
    assert calls.release_call(task=task, by=agent)
    [entry] = entries(object_type="call_task")
    assert (entry.source, entry.actor) == ("call_screen", agent)
