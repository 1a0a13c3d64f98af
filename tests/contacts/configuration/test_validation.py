"""Values that would break the plan are refused on the model, in the user's language, naming the field."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils import translation

from contacts.models import ContactRules, TouchpointTemplate
from contacts.scripts import script_errors

pytestmark = pytest.mark.django_db


def errors_of(template: TouchpointTemplate) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as raised:
        template.full_clean()
    return raised.value.message_dict


def test_every_default_template_passes_the_rules():
    for template in TouchpointTemplate.objects.all():
        template.full_clean()


@pytest.mark.parametrize(
    ("field", "value", "expected_field", "words"),
    [
        ("offset_days", -400, "offset_days", "Offset in days: -400 is too far"),
        ("offset_months", -50, "offset_months", "Offset in months: -50 is too far"),
        ("offset_days", -5, "offset_days", "would fall -5 days from its anchor (Sale)"),
        ("window_end_days", 400, "window_end_days", "Window: 400 days is too long"),
        ("window_start_days", 3, "window_start_days", "Window start: it must be on the touchpoint's day or before"),
    ],
)
def test_a_timing_that_would_cancel_touchpoints_is_refused(field, value, expected_field, words):
    # given: the thank-you call, one day after the sale
    template = TouchpointTemplate.objects.get(code="thank_you")
    setattr(template, field, value)
    if field == "window_start_days":
        template.window_end_days = 5
    # when
    errors = errors_of(template)
    # then
    assert list(errors) == [expected_field]
    assert words in errors[expected_field][0]


def test_a_window_past_the_three_year_cycle_is_refused():
    template = TouchpointTemplate.objects.get(code="thank_you")
    template.offset_days, template.offset_months, template.window_end_days = 0, 35, 40
    assert errors_of(template) == {
        "window_end_days": ["Window: it ends 1105 days after the sale, after the 3-year cycle (1095 days)."]
    }


def test_a_reversed_window_says_so_in_words_not_the_constraint_name():
    # given
    template = TouchpointTemplate.objects.get(code="service_invite")
    template.window_start_days, template.window_end_days = 0, -5
    # when
    errors = errors_of(template)
    # then
    assert errors == {"window_end_days": ["The window must start on or before the day it ends."]}
    assert "Constraint" not in str(errors)


def test_a_recurrence_the_anchor_cannot_have_is_refused():
    template = TouchpointTemplate.objects.get(code="service_invite")
    template.recurrence = "yearly"
    assert errors_of(template) == {"recurrence": ["Repeats: “Predicted maintenance due date” allows only Per maintenance."]}


@pytest.mark.parametrize("field", ["script_en", "script_ru"])
def test_an_empty_script_in_either_language_is_refused(field):
    template = TouchpointTemplate.objects.get(code="first_weeks")
    setattr(template, field, "  \n")
    label = "Script (English)" if field == "script_en" else "Script (Russian)"
    assert errors_of(template) == {field: [f"{label} is empty: a call needs a script in each language."]}


def test_an_unclosed_placeholder_is_refused_with_its_line():
    # given: Django's template language would read the braces out as text
    template = TouchpointTemplate.objects.get(code="first_weeks")
    template.script_en = "Hello,\n{{ customer.first_name , how is the car?"
    # when
    errors = errors_of(template)
    # then
    assert errors == {"script_en": ["Script (English): Line 2: “{{” is not closed with “}}”."]}
    assert script_errors("{% if customer.first_name %}hi") != []


def test_an_unknown_placeholder_is_refused_from_the_one_allow_list():
    template = TouchpointTemplate.objects.get(code="first_weeks")
    template.script_ru = "Здравствуйте, {{ customer.passport }}"
    assert errors_of(template)["script_ru"][0].startswith("Script (Russian): Line 1: “customer” has no “passport”")


def test_the_messages_are_in_russian_for_a_russian_user():
    template = TouchpointTemplate.objects.get(code="service_invite")
    template.window_start_days, template.window_end_days = 0, -5
    template.script_ru = ""
    with translation.override("ru"):
        errors = errors_of(template)
    assert errors["window_end_days"] == ["Окно должно начинаться не позже дня, в который оно заканчивается."]
    assert errors["script_ru"] == ["Скрипт (русский) пуст: звонку нужен скрипт на каждом языке."]


def test_the_django_admin_uses_the_same_rules(admin_user):
    # given: the implementers' admin form for a template, with a reversed window posted
    template = TouchpointTemplate.objects.get(code="service_invite")
    request = RequestFactory().post("/")
    request.user = admin_user
    model_admin = site._registry[TouchpointTemplate]
    form_class = model_admin.get_form(request, template)
    data = {f: getattr(template, f) for f in form_class.base_fields if f not in ("department",)}
    data.update(department=template.department_id, window_start_days=0, window_end_days=-5, sale_kinds="[]")
    data = {k: ("" if v is None else v) for k, v in data.items()}
    for name in [k for k, v in data.items() if v is False]:
        del data[name]
    # when
    form = form_class(data, instance=template)
    # then
    assert not form.is_valid()
    assert form.errors["window_end_days"] == ["The window must start on or before the day it ends."]
    template.refresh_from_db()
    assert template.window_end_days == 14


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"working_weekdays": "1238"}, "working_weekdays"),
        ({"working_weekdays": "113"}, "working_weekdays"),
        ({"max_calls_per_30_days": 0}, "max_calls_per_30_days"),
        ({"max_calls_per_30_days": 5, "max_calls_per_365_days": 4}, "max_calls_per_365_days"),
        ({"department_priorities": {"service": "first"}}, "department_priorities"),
        ({"department_priorities": {"nowhere": 1}}, "department_priorities"),
    ],
)
def test_rules_that_would_stop_every_call_are_refused(moscow, changes, field):
    rules = ContactRules.for_dealership(moscow)
    for name, value in changes.items():
        setattr(rules, name, value)
    with pytest.raises(ValidationError) as raised:
        rules.full_clean()
    assert list(raised.value.message_dict) == [field]


def test_the_django_admin_preview_still_renders_its_series(admin_client, moscow):
    from tests import factories

    factories.SaleFactory(vehicle__owner__dealership=moscow)
    template = TouchpointTemplate.objects.get(code="first_weeks")
    page = admin_client.get(f"/admin/contacts/touchpointtemplate/{template.pk}/change/")
    assert page.status_code == 200
    data = {f: getattr(template, f) for f in ("code", "name_en", "name_ru", "channel", "anchor", "offset_days",
                                              "offset_months", "recurrence", "priority", "phase", "script_en", "script_ru")}
    data.update(department=template.department_id, sale_kinds="[]", is_active="on", window_start_days="", window_end_days="")
    preview = admin_client.post(f"/admin/contacts/touchpointtemplate/{template.pk}/preview/", data)
    assert preview.status_code == 200
    assert 'id="preview-data"' in preview.content.decode()


def test_the_history_is_listed_read_only_in_the_django_admin(admin_client):
    assert admin_client.get("/admin/contacts/templateversion/").status_code == 200
    assert admin_client.get("/admin/contacts/configurationchange/").status_code == 200
    assert admin_client.get("/admin/contacts/templateversion/add/").status_code == 403
