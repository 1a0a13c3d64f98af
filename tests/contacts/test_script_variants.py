"""Script A/B: a template's variants through the queue build (the split honoured, the same on a
re-build, one variant per merged call) and the dashboard's figures per variant."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from contacts.models import CallTask, CallTaskItem, ContactRules, QueueBuild, Touchpoint, TouchpointTemplate
from contacts.queues import build_queue
from customers.models import Customer, Vehicle
from tests import factories

pytestmark = pytest.mark.django_db
# Monday 2026-11-23, 07:30 in Moscow.
NOW = dt.datetime(2026, 11, 23, 4, 30, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 23)

VARIANT_B = {"key": "B", "percent": 30, "script_en": "B: Hello {{ customer.first_name }}, a new way to say it.",
             "script_ru": "B: Здравствуйте, {{ customer.first_name }}, скажем иначе."}


def _split_template(code: str = "service_invite", share: int = 70, others=(VARIANT_B,)) -> TouchpointTemplate:
    template = TouchpointTemplate.objects.get(code=code)
    template.script_share, template.script_variants = share, list(others)
    template.full_clean()
    template.save()
    return template


def _customers_due(moscow, n: int, *, code: str = "service_invite", cars: int = 1) -> list[Customer]:
    """``n`` customers, each with ``cars`` cars and one open touchpoint of ``code`` per car, due on the day."""
    template = TouchpointTemplate.objects.get(code=code)
    customers = Customer.objects.bulk_create(
        [Customer(dealership=moscow, first_name="Иван", last_name=f"Клиент{i}", phone=f"+7916{i:07d}", language="ru")
         for i in range(n)]
    )
    vehicles = Vehicle.objects.bulk_create(
        [Vehicle(vin=factories.vin_for(20_000_000 + i * cars + car), make="Kia", model="Rio", year=2025, owner=c,
                 dealership=moscow)
         for i, c in enumerate(customers) for car in range(cars)]
    )
    Touchpoint.objects.bulk_create(
        [Touchpoint(vehicle=v, customer=v.owner, template=template, cycle_start=dt.date(2025, 11, 1), occurrence=1,
                    due_on=DAY, window_start=DAY, window_end=DAY + dt.timedelta(days=10), reason="due")
         for v in vehicles]
    )
    return customers


def _roomy(moscow) -> None:
    rules = ContactRules.for_dealership(moscow)
    rules.calls_per_agent, rules.default_agents_on_shift = 1000, 10
    rules.save()


def _variants_by_customer() -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for customer_id, variant in CallTaskItem.objects.values_list("call_task__customer_id", "script_variant"):
        found.setdefault(customer_id, set()).add(variant)
    return found


def test_the_queue_build_honours_a_70_30_split_over_2000_calls(moscow):
    # given
    _split_template(share=70)
    _customers_due(moscow, 2000)
    _roomy(moscow)
    # when
    counts = build_queue(dealership=moscow, day=DAY, now=NOW)
    # then: every call has a variant, its script is that variant's, and the split is 70/30 within
    # four binomial standard deviations (sqrt(2000 * 0.7 * 0.3) = 20.5 calls)
    assert counts.calls == 2000
    items = list(CallTaskItem.objects.select_related("call_task"))
    b_calls = sum(item.script_variant == "B" for item in items)
    assert {item.script_variant for item in items} == {"A", "B"}
    assert abs(b_calls - 600) < 4 * math.sqrt(2000 * 0.7 * 0.3)
    for item in items:
        assert item.call_task.agenda[0]["script_variant"] == item.script_variant
        assert ("B: Здравствуйте" in item.call_task.script) == (item.script_variant == "B")


def test_a_rebuild_gives_every_customer_the_same_variant(moscow):
    # given
    _split_template(share=50, others=[{**VARIANT_B, "percent": 50}])
    _customers_due(moscow, 300)
    _roomy(moscow)
    build_queue(dealership=moscow, day=DAY, now=NOW)
    first = _variants_by_customer()
    # when: the day's calls are dropped and the day built again from scratch
    CallTask.objects.all().delete()
    Touchpoint.objects.update(status=Touchpoint.Status.PLANNED, resolution="")
    QueueBuild.objects.all().delete()
    build_queue(dealership=moscow, day=DAY, now=NOW)
    # then
    assert _variants_by_customer() == first
    assert len(first) == 300


def test_a_merged_call_reads_one_variant_for_all_its_topics_of_the_template(moscow):
    # given: customers with two cars each, both due for the tested template, merged into one call
    _split_template(share=50, others=[{**VARIANT_B, "percent": 50}])
    _customers_due(moscow, 40, cars=2)
    _roomy(moscow)
    # when
    build_queue(dealership=moscow, day=DAY, now=NOW)
    # then: one call per customer, both topics in the same variant, the script of one variant only
    tasks = list(CallTask.objects.prefetch_related("items"))
    assert len(tasks) == 40
    own_opening = TouchpointTemplate.objects.get(code="service_invite").script_ru.split("{{")[0]
    for task in tasks:
        variants = {item.script_variant for item in task.items.all()}
        assert len(task.items.all()) == 2 and len(variants) == 1
        read = (task.script.count("B: Здравствуйте"), task.script.count(own_opening))
        assert read == ((2, 0) if variants == {"B"} else (0, 2))
    assert {v for task in tasks for v in {i.script_variant for i in task.items.all()}} == {"A", "B"}


def test_only_the_primary_topics_template_records_a_variant(moscow):
    # given: the tested template is not the first topic of the call (a higher-priority topic is)
    customers = _customers_due(moscow, 30, code="service_invite")
    template = _split_template(code="insurance_renewal", share=50, others=[{**VARIANT_B, "percent": 50}])
    for customer in customers:
        Touchpoint.objects.create(
            vehicle=customer.vehicles.get(), customer=customer, template=template, cycle_start=dt.date(2025, 11, 1),
            occurrence=1, due_on=DAY, window_start=DAY, window_end=DAY + dt.timedelta(days=10), reason="due",
        )
    _roomy(moscow)
    # when
    build_queue(dealership=moscow, day=DAY, now=NOW)
    # then: the merged call reads the primary topic's (untested) script: no variant anywhere
    assert CallTask.objects.count() == 30
    assert set(CallTaskItem.objects.values_list("script_variant", flat=True)) == {""}
    assert not CallTask.objects.filter(script__contains="B: ").exists()


# ------------------------------------------------------------------------------------ the figures

CALL_DAY = dt.date(2026, 3, 10)


def _finished_calls(moscow, variant: str, outcomes: dict[str, int], *, code: str = "service_invite",
                    day: dt.date = CALL_DAY) -> list[CallTask]:
    """Finished calls about ``code`` read in ``variant``, one customer and car each: ``outcomes`` maps an
    outcome to how many calls ended so."""
    template = TouchpointTemplate.objects.get(code=code)
    ended = [outcome for outcome, n in outcomes.items() for _ in range(n)]
    start = Customer.objects.count()
    customers = Customer.objects.bulk_create(
        [Customer(dealership=moscow, first_name="Анна", last_name=f"Итог{start + i}", phone=f"+7926{start + i:07d}")
         for i in range(len(ended))]
    )
    vehicles = Vehicle.objects.bulk_create(
        [Vehicle(vin=factories.vin_for(30_000_000 + start + i), make="Kia", model="Rio", year=2025, owner=c,
                 dealership=moscow) for i, c in enumerate(customers)]
    )
    touchpoints = Touchpoint.objects.bulk_create(
        [Touchpoint(vehicle=v, customer=v.owner, template=template, cycle_start=dt.date(2025, 3, 1), occurrence=1,
                    due_on=day, window_start=day, window_end=day, reason="due", status="done") for v in vehicles]
    )
    completed = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)
    tasks = CallTask.objects.bulk_create(
        [CallTask(dealership=moscow, customer=c, scheduled_on=day, window_start=day, window_end=day, blocks_until=day,
                  is_requested=True, status=CallTask.Status.DONE, outcome=outcome, completed_at=completed,
                  agenda=[{"code": code, "script_variant": variant}])
         for c, outcome in zip(customers, ended, strict=True)]
    )
    CallTaskItem.objects.bulk_create(
        [CallTaskItem(call_task=t, touchpoint=tp, script_variant=variant) for t, tp in zip(tasks, touchpoints, strict=True)]
    )
    return tasks


def _scope(moscow):
    from contacts import metrics

    return metrics.Scope((moscow.id,), dt.date(2026, 1, 1), dt.date(2026, 6, 30), as_of=dt.date(2026, 12, 1))


def test_figures_per_variant_on_a_constructed_history(moscow):
    from contacts import metrics

    # given: variant A: 10 calls, 6 reached (2 booked, 1 hot lead); variant B: 10 calls, 8 reached (5 booked)
    a = _finished_calls(moscow, "A", {"booked": 2, "hot_lead": 1, "reached": 3, "no_answer": 4})
    b = _finished_calls(moscow, "B", {"booked": 5, "reached": 3, "no_answer": 2})
    # a maintenance visit of A's first car within 15 months counts; one of its second car 16 months on does not
    factories.ServiceVisitFactory(vehicle=a[0].items.get().touchpoint.vehicle, visited_on=dt.date(2026, 4, 1))
    factories.ServiceVisitFactory(vehicle=a[1].items.get().touchpoint.vehicle, visited_on=dt.date(2027, 7, 20))
    # B's first customer bought another car two years on (counts); its second bought the same car again (does not)
    factories.SaleFactory(vehicle__owner=b[0].customer, customer=b[0].customer, sold_on=dt.date(2028, 3, 1))
    same = b[1].items.get().touchpoint.vehicle
    factories.SaleFactory(vehicle=same, customer=b[1].customer, dealership=moscow, sold_on=dt.date(2026, 5, 1))
    # a call without a variant and one outside the period count for the touchpoint table only / not at all
    _finished_calls(moscow, "", {"booked": 1})
    _finished_calls(moscow, "A", {"booked": 1}, day=dt.date(2026, 8, 1))
    # when
    tests = metrics.script_variant_figures(_scope(moscow), return_months=15, repeat_years=3)
    conversion = metrics.touchpoint_conversion(_scope(moscow), return_months=15, repeat_years=3)
    # then
    assert [t["code"] for t in tests] == ["service_invite"]
    variant_a, variant_b = tests[0]["variants"]
    assert (variant_a["key"], variant_a["calls"], variant_b["key"], variant_b["calls"]) == ("A", 10, "B", 10)
    assert {name: variant_a[name]["count"] for name in metrics.MEASURES} == {
        "reached": 6, "booked": 2, "hot_leads": 1, "visited": 1, "sold": 0}
    assert {name: variant_b[name]["count"] for name in metrics.MEASURES} == {
        "reached": 8, "booked": 5, "hot_leads": 0, "visited": 0, "sold": 1}
    assert variant_b["booked"]["rate"] == 0.5
    assert variant_b["booked"]["ci95"] == [0.2366, 0.7634]  # Wilson, 5 of 10
    assert variant_a["booked"]["difference_ci95"] is None  # A is the control
    low, high = variant_b["booked"]["difference_ci95"]
    assert low < 0 < high and not variant_b["booked"]["proven"]  # 50 % against 20 % on ten calls: not proven yet
    assert conversion == [{"code": "service_invite", "calls": 21, **{
        name: {"count": count, "rate": round(count / 21, 4), "ci95": metrics.definitions._interval(count, 21)}
        for name, count in {"reached": 15, "booked": 8, "hot_leads": 1, "visited": 1, "sold": 1}.items()}}]


def test_the_difference_is_proven_once_there_are_enough_calls(moscow):
    from contacts import metrics

    # given: the same rates as above, 20 % against 50 % bookings, on 60 calls a variant
    _finished_calls(moscow, "A", {"booked": 12, "reached": 48})
    _finished_calls(moscow, "B", {"booked": 30, "reached": 30})
    # when
    (test,) = metrics.script_variant_figures(_scope(moscow))
    # then
    booked = test["variants"][1]["booked"]
    assert booked["difference_ci95"][0] > 0 and booked["proven"]
    assert not test["variants"][1]["reached"]["proven"]  # everyone was reached in both: no difference


# ------------------------------------------------------------------------------------ the pages


def _posted(template: TouchpointTemplate, **changes):
    from tests.contacts.configuration.test_templates_editor import form_data

    return form_data(template, **changes)


def test_variants_are_saved_in_the_draft_and_go_live_on_publishing(client, moscow):
    from contacts.models import TemplateVersion

    # given
    client.force_login(factories.make_user("ada", "admin", dealerships=(moscow,)))
    template = TouchpointTemplate.objects.get(code="service_invite")
    data = _posted(template, script_share="60", variant_percent=["40"], variant_en=[VARIANT_B["script_en"]],
                   variant_ru=[VARIANT_B["script_ru"]])
    # when: saved as a draft
    response = client.post("/program/templates/service_invite/", data)
    # then: the draft has them, the live template not yet
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.script_variants == []
    draft = TemplateVersion.objects.get(code="service_invite", status="draft")
    assert (draft.script_share, draft.script_variants) == (60, [{**VARIANT_B, "percent": 40}])
    page = client.get("/program/templates/service_invite/").content.decode()
    assert "B: Hello" in page and 'value="40"' in page
    # when: published
    client.post("/program/templates/service_invite/publish/")
    # then
    template.refresh_from_db()
    assert template.script_split() == [("A", 60), ("B", 40)]
    assert template.script_for("ru", "B") == VARIANT_B["script_ru"]
    assert TemplateVersion.objects.get(code="service_invite", number=template.version).script_variants == [
        {**VARIANT_B, "percent": 40}]
    # when: the version before the test is restored and published, the test ends
    client.post(f"/program/templates/service_invite/restore/{template.version - 1}/")
    client.post("/program/templates/service_invite/publish/")
    template.refresh_from_db()
    assert (template.script_variants, template.script_share) == ([], 100)


@pytest.mark.parametrize(
    ("variant", "share", "message"),
    [
        ({"variant_percent": ["20"]}, "70", "Variant shares add up to 90 %; they must add up to 100 %."),
        ({"variant_percent": ["0"]}, "100", "Variant B: its share must be a whole percentage from 1 to 99."),
        ({"variant_percent": ["30"], "variant_ru": [""]}, "70",
         "Variant B, Russian is empty: a call needs a script in each language."),
        ({"variant_percent": ["30"], "variant_en": ["Hello {{ customer.first_name "]}, "70",
         "Variant B, English: Line 1: “{{” is not closed with “}}”."),
        ({"variant_percent": ["30"], "variant_en": ["Hello {{ customer.password }}"]}, "70", "customer.password"),
    ],
)
def test_a_broken_variant_is_refused_in_words(client, moscow, variant, share, message):
    from contacts.models import TemplateVersion

    # given
    client.force_login(factories.make_user("ada", "admin", dealerships=(moscow,)))
    template = TouchpointTemplate.objects.get(code="service_invite")
    posted = {"variant_en": [VARIANT_B["script_en"]], "variant_ru": [VARIANT_B["script_ru"]], **variant}
    # when
    response = client.post("/program/templates/service_invite/", _posted(template, script_share=share, **posted))
    # then: the page comes back with the reason, and no draft is kept
    assert response.status_code == 200
    assert message in response.content.decode().replace("&quot;", '"').replace("&#x27;", "'")
    assert not TemplateVersion.objects.filter(code="service_invite", status="draft").exists()


def test_the_dashboard_shows_the_variants_and_exports_them(client, moscow, manager):
    import time_machine
    from django.urls import reverse

    from tests.contacts.test_dashboard import read_csv

    # given
    _finished_calls(moscow, "A", {"booked": 12, "reached": 48})
    _finished_calls(moscow, "B", {"booked": 30, "reached": 30})
    client.force_login(manager)
    period = {"from": "2026-01-01", "to": "2026-06-30"}
    url = reverse("contacts:dashboard")
    # when
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        page = client.get(url, period).content.decode()
        rows = read_csv(client.get(url, {**period, "export": "script_variants"}))
        touchpoints = read_csv(client.get(url, {**period, "export": "touchpoints"}))
    # then
    assert 'id="script-ab"' in page and "Maintenance invitation" in page
    assert "50.0 %" in page and "proven" in page and "not proven yet" in page
    # the CSV is laid out as every export (customers.exports): headers in words, rates as the page's percentages
    assert rows[0] == ["Touchpoint", "Script variant", "Measure", "Calls", "Count", "Rate, %", "95 % interval from, %",
                       "95 % interval to, %", "Difference from A from, percentage points",
                       "Difference from A to, percentage points", "Verdict"]
    booked_b = next(row for row in rows if row[1] == "B" and row[2] == "Booked")
    assert booked_b[:6] == ["service_invite", "B", "Booked", "60", "30", "50.0"]
    assert booked_b[-1] == "proven" and float(booked_b[8]) > 0
    assert next(row for row in rows if row[1] == "B" and row[2] == "Reached")[-1] == "not proven yet"
    assert touchpoints[1][:6] == ["service_invite", "120", "120", "100.0", "42", "35.0"]
