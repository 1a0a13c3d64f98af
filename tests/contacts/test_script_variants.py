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
