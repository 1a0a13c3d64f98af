"""The template editor: every change is a draft, previewed in a dealer's terms, then published; versions are kept."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.admin.sites import site
from django.test import RequestFactory

from contacts.configuration.versions import publish_template_version, save_template_draft
from contacts.models import (
    ContactRules,
    TemplateVersion,
    TouchpointTemplate,
)
from contacts.planning.sweep import REPLAN_CHUNK
from contacts.preview import Neighbour, PlannedCall, preview_template_change
from tests import factories
from tests.contacts.configuration.history import finished_call

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def admin(moscow):
    return factories.make_user("ada", "admin", dealerships=(moscow,))


def form_data(template: TouchpointTemplate, **changes):
    """What the editor posts for this template, with the changes."""
    months, days = template.offset_months, template.offset_days
    data = {
        "name_en": template.name_en, "name_ru": template.name_ru, "department": template.department_id,
        "channel": template.channel, "anchor": template.anchor, "recurrence": template.recurrence,
        "direction": "before" if months < 0 or days < 0 else "after", "offset_months": abs(months),
        "offset_days": abs(days), "window_start_days": "" if template.window_start_days is None else -template.window_start_days,
        "window_end_days": "" if template.window_end_days is None else template.window_end_days,
        "priority": template.priority, "phase": template.phase, "script_en": template.script_en,
        "script_ru": template.script_ru, "min_vehicle_age_months": "", "max_vehicle_age_months": "",
    }
    if template.is_active:
        data["is_active"] = "on"
    data.update(changes)
    return data


def test_saving_an_edit_keeps_a_draft_and_changes_nothing_live(client, admin):
    # given
    client.force_login(admin)
    template = TouchpointTemplate.objects.get(code="first_weeks")
    # when: the admin moves the call from 14 to 20 days after the sale
    with time_machine.travel(NOW, tick=False):
        response = client.post("/program/templates/first_weeks/", form_data(template, offset_days=20))
    # then
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.offset_days, template.version) == (14, 1)
    draft = TemplateVersion.objects.get(code="first_weeks", status="draft")
    assert draft.template_fields["offset_days"] == 20
    assert draft.created_by == admin
    page = client.get("/program/templates/first_weeks/").content.decode()
    assert "it is not live" in page
    assert 'value="20"' in page


def test_the_editor_refuses_a_bad_value_in_words_and_stores_nothing(client, admin):
    client.force_login(admin)
    template = TouchpointTemplate.objects.get(code="first_weeks")
    response = client.post("/program/templates/first_weeks/", form_data(template, offset_days=400, script_ru=""))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Offset in days: 400 is too far" in html
    assert "Script (Russian) is empty: a call needs a script in each language." in html
    assert not TemplateVersion.objects.filter(status="draft").exists()


def test_before_the_anchor_is_a_direction_not_a_minus_sign(client, admin):
    client.force_login(admin)
    template = TouchpointTemplate.objects.get(code="service_invite")
    client.post("/program/templates/service_invite/", form_data(template, offset_days=28, direction="before"))
    draft = TemplateVersion.objects.get(code="service_invite", status="draft")
    assert draft.template_fields["offset_days"] == -28


def test_publishing_puts_the_draft_live_as_the_next_version_and_keeps_the_old_texts(client, admin):
    # given: a draft with a new script
    client.force_login(admin)
    template = TouchpointTemplate.objects.get(code="first_weeks")
    old_script = template.script_en
    client.post("/program/templates/first_weeks/", form_data(template, script_en="New words for {{ customer.first_name }}."))
    # when
    with time_machine.travel(NOW, tick=False):
        response = client.post("/program/templates/first_weeks/publish/")
    # then
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.version, template.script_en) == (2, "New words for {{ customer.first_name }}.")
    published = TemplateVersion.objects.filter(template=template, status="published").order_by("number")
    assert [(v.number, v.script_en) for v in published] == [(1, old_script), (2, template.script_en)]
    assert (published[1].published_by, published[1].published_at) == (admin, NOW)
    assert not TemplateVersion.objects.filter(status="draft").exists()


def test_an_old_version_is_restored_through_a_draft(client, admin):
    # given: version 2 is live
    client.force_login(admin)
    template = TouchpointTemplate.objects.get(code="first_weeks")
    original = template.script_en
    client.post("/program/templates/first_weeks/", form_data(template, script_en="Version two, {{ customer.first_name }}."))
    client.post("/program/templates/first_weeks/publish/")
    # when: version 1 is restored and published
    client.post("/program/templates/first_weeks/restore/1/")
    assert TouchpointTemplate.objects.get(code="first_weeks").version == 2  # not live before publishing
    client.post("/program/templates/first_weeks/publish/")
    # then
    template.refresh_from_db()
    assert (template.version, template.script_en) == (3, original)


def test_a_new_template_is_a_draft_until_published(client, admin):
    # given
    client.force_login(admin)
    source = TouchpointTemplate.objects.get(code="first_weeks")
    data = form_data(source, code="six_weeks", name_en="Six weeks", name_ru="Шесть недель", offset_days=42)
    # when
    client.post("/program/templates/new/", data)
    # then: nothing is planned from it yet
    assert not TouchpointTemplate.objects.filter(code="six_weeks").exists()
    assert client.get("/program/templates/six_weeks/").status_code == 200
    client.post("/program/templates/six_weeks/publish/")
    created = TouchpointTemplate.objects.get(code="six_weeks")
    assert (created.version, created.offset_days) == (1, 42)


def test_the_preview_says_calls_a_day_against_capacity_and_names_sample_customers(moscow):
    # given: 30 cars sold on 1 November; Moscow takes 2 agents x 10 calls = 20 calls a day
    rules = ContactRules.for_dealership(moscow)
    rules.calls_per_agent, rules.default_agents_on_shift = 10, 2
    rules.save()
    customers = []
    for _ in range(30):
        sale = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2026, 11, 1))
        customers.append(sale.customer)
    # when: the first-weeks call moves to 20 days after the sale
    edited = TouchpointTemplate.objects.get(code="first_weeks")
    edited.offset_days = 20
    preview = preview_template_change(edited=edited, today=dt.date(2026, 11, 2))
    # then: through the queue build's resolver: the 30 calls due on Sunday 15 November are made on Monday
    # the 16th, and move to Monday the 23rd (the 21st is a Saturday); with the 30- and 45-day calls,
    # three days are over the 20-call capacity either way
    (load,) = preview.dealerships
    assert (load.name, load.capacity_per_day) == (moscow.name, 20)
    assert (load.peak_day_before, load.peak_calls_before) == (dt.date(2026, 11, 16), 30)
    assert (load.peak_day_after, load.peak_calls_after) == (dt.date(2026, 11, 23), 30)
    assert (load.days_over_capacity_before, load.days_over_capacity_after) == (3, 3)
    assert load.extra_calls_per_day == 0
    assert len(preview.samples) == 5
    assert preview.samples[0].dates_before == [dt.date(2026, 11, 16)]
    assert preview.samples[0].dates_after == [dt.date(2026, 11, 23)]
    assert PlannedCall(dt.date(2026, 11, 23), ("first_weeks",)) in preview.samples[0].calls_after
    # and the OEM survey of 16 December, now within the call gap of the moved call, goes a week later
    assert preview.neighbours == [Neighbour("oem_survey", merged=0, pushed_later=30, pushed_out=0)]
    assert preview.contacts_per_customer_year_before == preview.contacts_per_customer_year_after


def test_the_preview_page_renders_the_draft_script_for_a_sample_customer(client, admin, moscow):
    # given: a draft that greets by name
    sale = factories.SaleFactory(vehicle__owner__dealership=moscow, vehicle__make="Kia", vehicle__model="Rio",
                                 sold_on=dt.date(2026, 11, 1))
    client.force_login(admin)
    template = TouchpointTemplate.objects.get(code="first_weeks")
    client.post("/program/templates/first_weeks/", form_data(
        template, offset_days=20, script_en="Hello {{ customer.first_name }}, how is the {{ vehicle.model }}?",
        script_ru="Здравствуйте, {{ customer.first_name }}! Как {{ vehicle.model }}?"))
    # when
    with time_machine.travel(NOW, tick=False):
        html = client.get("/program/templates/first_weeks/preview/").content.decode()
    # then
    assert f"Hello {sale.customer.first_name}, how is the Rio?" in html
    assert f"Здравствуйте, {sale.customer.first_name}! Как Rio?" in html
    assert sale.customer.full_name in html
    assert "16.11.2026" in html and "23.11.2026" in html


def test_conversion_is_counted_per_version(client, admin, moscow):
    # given: two finished calls made with version 1 (one booked) and one with version 2 (booked)
    template = TouchpointTemplate.objects.get(code="first_weeks")
    for version, outcome in [(1, "booked"), (1, "no_answer"), (2, "booked")]:
        finished_call(moscow, template, outcome, version=version)
    draft = save_template_draft(edited=template, user=admin, now=NOW)
    publish_template_version(draft=draft, user=admin, now=NOW)
    # when
    client.force_login(admin)
    page = client.get("/program/templates/first_weeks/")
    # then
    rows = {row.version.number: (row.calls, row.booked, row.booked_percent) for row in page.context["versions"]}
    assert rows == {2: (1, 1, 100.0), 1: (2, 1, 50.0)}


def test_the_django_admin_save_keeps_its_version_too(admin_user):
    # given: an implementer edits a script in the Django admin
    template = TouchpointTemplate.objects.get(code="thank_you")
    request = RequestFactory().post("/")
    request.user = admin_user
    template.script_en = "Thank you, {{ customer.first_name }}."
    # when
    site._registry[TouchpointTemplate].save_model(request, template, None, True)
    # then
    versions = TemplateVersion.objects.filter(template=template).order_by("number")
    assert [(v.number, v.published_by) for v in versions] == [(1, None), (2, admin_user)]
    assert versions[1].script_en == "Thank you, {{ customer.first_name }}."


def test_publishing_redoes_the_plans_once_it_commits_and_saving_a_draft_does_not(admin, django_capture_on_commit_callbacks):
    template = TouchpointTemplate.objects.get(code="first_weeks")
    template.offset_days = 20
    with django_capture_on_commit_callbacks(execute=False) as saved:
        draft = save_template_draft(edited=template, user=admin, now=NOW)
    with django_capture_on_commit_callbacks(execute=False) as published:
        publish_template_version(draft=draft, user=admin, now=NOW)
    assert factories.queued_tasks(saved) == []
    # the whole fleet, in the usual chunks, and not recorded as the night's sweep (which would then
    # queue nothing new if it had already run tonight)
    assert factories.queued_tasks(published) == [("contacts.tasks.replan_all_vehicles", (REPLAN_CHUNK, False))]


def test_the_preview_samples_across_the_whole_base_and_scales_back(moscow):
    # given: 40 cars sold on 1 November; the preview plans a sample of 10
    for _ in range(40):
        factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2026, 11, 1))
    edited = TouchpointTemplate.objects.get(code="first_weeks")
    edited.offset_days = 20
    # when
    preview = preview_template_change(edited=edited, today=dt.date(2026, 11, 2), sample=10)
    # then: every 4th car was planned, and the peak is scaled back to the 40 cars
    assert preview.vehicles == 10
    (load,) = preview.dealerships
    assert (load.peak_calls_before, load.peak_calls_after) == (40, 40)
