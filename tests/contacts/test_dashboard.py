"""The dashboard's month-by-month figures, their CSV tables and the snapshot cache, on small hand-built
histories with exact values."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from contacts import metrics, tasks
from contacts.dashboard_exports import COLUMN_LABELS, EXPORTS
from contacts.models import (
    CallAttempt,
    CallTask,
    Department,
    Handoff,
    MetricSnapshot,
    Touchpoint,
    TouchpointTemplate,
)
from customers.models import Customer, Dealership, ForecastSnapshot
from tests import factories

D = dt.date
UTC = dt.UTC
# The page's "today" in these tests: 2026-12-01 in Moscow.
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FIRST_QUARTER = metrics.Scope((0,), D(2025, 1, 1), D(2025, 3, 31))


def scope_of(dealership: Dealership, start: dt.date, end: dt.date, as_of: dt.date | None = None) -> metrics.Scope:
    return metrics.Scope((dealership.id,), start, end, as_of=as_of)


def make_call(customer: Customer, agent: Any, ended_at: dt.datetime, outcome: str, **detail: Any) -> CallAttempt:
    """A finished call (a requested one, so the PostgreSQL one-call-a-week exclusion does not apply)."""
    day = ended_at.date()
    task = CallTask.objects.create(dealership=customer.dealership, customer=customer, scheduled_on=day, window_start=day,
                                   window_end=day, blocks_until=day, is_requested=True, status=CallTask.Status.DONE)
    return CallAttempt.objects.create(call_task=task, customer=customer, agent=agent, outcome=outcome, detail=detail,
                                      started_at=ended_at - dt.timedelta(minutes=3), ended_at=ended_at)


def at(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 10, 0, tzinfo=UTC)


def read_csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


# ------------------------------------------------------------------------------------ month buckets


def test_month_buckets_are_calendar_months_cut_to_the_period():
    buckets = metrics.month_buckets(D(2024, 12, 2), D(2025, 2, 10))
    assert buckets == [
        metrics.Month("2024-12", D(2024, 12, 2), D(2024, 12, 31)),
        metrics.Month("2025-01", D(2025, 1, 1), D(2025, 1, 31)),
        metrics.Month("2025-02", D(2025, 2, 1), D(2025, 2, 10)),
    ]
    assert metrics.month_buckets(D(2025, 2, 1), D(2025, 2, 28)) == [metrics.Month("2025-02", D(2025, 2, 1), D(2025, 2, 28))]


# ------------------------------------------------------------------------------------ series


@pytest.mark.django_db
def test_calls_reach_rate_and_agents_are_counted_in_the_month_of_the_call(moscow):
    # given: Alice calls twice in January (one reached) and once in March (wrong number); Bob books in February
    alice = factories.make_user("alice", "agent", dealerships=(moscow,))
    bob = factories.make_user("bob", "agent", dealerships=(moscow,))
    customer = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2024, 5, 1)).customer
    make_call(customer, alice, at(2025, 1, 10), "reached")
    make_call(customer, alice, at(2025, 1, 20), "no_answer")
    make_call(customer, bob, at(2025, 2, 5), "booked")
    make_call(customer, alice, at(2025, 3, 15), "wrong_number")
    make_call(customer, alice, at(2025, 4, 2), "reached")  # after the period
    # when
    series = metrics.monthly_series(scope_of(moscow, D(2025, 1, 1), D(2025, 3, 31)))
    # then
    assert series["months"] == ["2025-01", "2025-02", "2025-03"]
    assert series["calls"] == [2, 1, 1]
    assert series["reached"] == [1, 1, 0]
    assert series["reach_rate"] == [0.5, 1.0, 0.0]
    assert series["bookings"] == [0, 1, 0]
    assert series["agents"] == [
        {"agent": "alice", "calls": [2, 0, 1], "reached": [1, 0, 0], "bookings": [0, 0, 0]},
        {"agent": "bob", "calls": [0, 1, 0], "reached": [0, 1, 0], "bookings": [0, 1, 0]},
    ]


@pytest.mark.django_db
def test_active_new_customers_and_retention_month_by_month(moscow):
    # given (active = a purchase, a visit or a reached call in the last 12 months):
    # Anna bought 2024-03-01 (active until 2025-03-01); Boris is new, first purchase 2025-02-10;
    # Vera, an old buyer, came for a visit 2024-06-15; Gleb, an old buyer, was reached on 2025-02-05
    anna = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2024, 3, 1)).customer
    factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2025, 2, 10))
    vera = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2020, 1, 1)).vehicle
    factories.ServiceVisitFactory(vehicle=vera, visited_on=D(2024, 6, 15))
    gleb = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2019, 5, 1)).customer
    make_call(gleb, None, at(2025, 2, 5), "reached")
    make_call(anna, None, at(2025, 3, 20), "no_answer")  # not reached: keeps nobody active
    scope = scope_of(moscow, D(2025, 1, 1), D(2025, 3, 31))
    # when
    series = metrics.monthly_series(scope, active_months=12)
    # then: active on 2024-12-31, 01-31, 02-28, 03-31 are 2, 2, 4 (Boris and Gleb join), 3 (Anna lapses)
    assert series["active_at_start"] == [2, 2, 4]
    assert series["active_at_end"] == [2, 4, 3]
    assert series["new_customers"] == [0, 1, 0]
    assert series["retention_rate"] == [1.0, 1.5, 0.75]
    assert series["churn_rate"] == [0.0, -0.5, 0.25]
    # and the period's own figure is made from the same counts
    assert metrics.retention(scope) == {"start": 2, "new": 1, "end": 3, "crr": 1.0, "churn": 0.0}


@pytest.mark.django_db
def test_lapsed_dormant_and_dead_contacts_are_taken_on_each_months_last_day(moscow):
    # given
    # Anna bought 2024-01-20, nothing since: lapsed all quarter; her phone is dead from 2025-02-01
    anna = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2024, 1, 20)).customer
    Customer.objects.filter(pk=anna.pk).update(phone_unreachable_since=D(2025, 2, 1))
    # Boris bought 2024-03-15: lapsed from 2025-03-16
    factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2024, 3, 15))
    # Vera bought 2025-02-10: a customer from February on
    factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2025, 2, 10))
    # Dima came twice a month apart (gap 31 days), then never again: dormant, and lapsed once his visit of
    # 2024-02-01 is more than 12 months old (on 2025-01-31 it is exactly 12 months old: not yet)
    dima = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2022, 1, 1)).vehicle
    for day in (D(2024, 1, 1), D(2024, 2, 1)):
        factories.ServiceVisitFactory(vehicle=dima, visited_on=day)
    # Eva's gap was 20 days, so by January she is dormant; her visit of 2025-02-15 wakes her up
    eva = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2024, 5, 1)).vehicle
    for day in (D(2024, 6, 1), D(2024, 6, 21), D(2025, 2, 15)):
        factories.ServiceVisitFactory(vehicle=eva, visited_on=day)
    scope = scope_of(moscow, D(2025, 1, 1), D(2025, 3, 31))
    # when
    series = metrics.monthly_series(scope)
    # then
    assert series["lapsed"] == [1, 2, 3]
    assert series["lapsed_share"] == [0.25, 0.4, 0.6]
    assert series["known_customers"] == [4, 5, 5]
    assert series["dead_contacts"] == [0, 1, 1]
    assert series["dead_contact_share"] == [0.0, 0.2, 0.2]
    assert series["customers_with_rhythm"] == [2, 2, 2]
    assert series["dormant"] == [2, 1, 1]
    assert series["dormant_rate"] == [1.0, 0.5, 0.5]
    # and the period's figures agree with the last month
    figures = metrics.contact_figures(scope)
    assert (figures["lapsed"], figures["lapsed_share"]) == (3, 0.6)
    assert metrics.dormant_customers(scope) == {"customers_with_rhythm": 2, "dormant": 1, "rate": 0.5}


@pytest.mark.django_db
def test_cohorts_plan_adherence_forecast_and_hot_leads_month_by_month(moscow):
    # given: January's cohort, A (came back, bought again in February) and B (neither); February's, C
    # (came back) and A's second car; March sold nothing
    sale_a = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2024, 1, 10))
    factories.ServiceVisitFactory(vehicle=sale_a.vehicle, visited_on=D(2024, 12, 1))
    sale_b = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2024, 1, 20))
    factories.SaleFactory(vehicle__owner=sale_a.customer, sold_on=D(2024, 2, 20))
    sale_c = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2024, 2, 5))
    factories.ServiceVisitFactory(vehicle=sale_c.vehicle, visited_on=D(2024, 8, 1))
    # forecasts: A's visit of 2024-02-20 came 10 days after its forecast, C's of 2024-03-15 55 days after
    common = {"km_per_month": 1500, "due_earliest_on": D(2024, 1, 1), "due_latest_on": D(2025, 1, 1), "due_driver": "km"}
    ForecastSnapshot.objects.create(vehicle=sale_a.vehicle, taken_on=D(2023, 12, 1), next_due_on=D(2024, 2, 10), interval_number=1, **common)
    ForecastSnapshot.objects.create(vehicle=sale_c.vehicle, taken_on=D(2024, 1, 1), next_due_on=D(2024, 1, 20), interval_number=1, **common)
    factories.ServiceVisitFactory(vehicle=sale_a.vehicle, visited_on=D(2024, 2, 20))
    factories.ServiceVisitFactory(vehicle=sale_c.vehicle, visited_on=D(2024, 3, 15))
    # touchpoints: January two due (one done), February one done and one cancelled (not counted)
    template = TouchpointTemplate.objects.get(code="service_invite")
    for occurrence, (window_end, status) in enumerate(
        [(D(2024, 1, 15), "done"), (D(2024, 1, 25), "planned"), (D(2024, 2, 10), "done"), (D(2024, 2, 12), "cancelled")], 1
    ):
        Touchpoint.objects.create(vehicle=sale_a.vehicle, customer=sale_a.customer, template=template, cycle_start=D(2024, 1, 10),
                                  occurrence=occurrence, due_on=window_end, window_start=window_end, window_end=window_end,
                                  reason="due", status=status)
    # hot leads: A's (January) became the February sale, B's (March) did not
    sales = Department.objects.get(code="sales")
    for customer, created in ((sale_a.customer, at(2024, 1, 15)), (sale_b.customer, at(2024, 3, 10))):
        lead = Handoff.objects.create(dealership=moscow, customer=customer, department=sales, kind=Handoff.Kind.HOT_LEAD,
                                      deadline=created.date())
        Handoff.objects.filter(pk=lead.pk).update(created_at=created)
    # when: the data are of 2025-06-30, so every cohort up to 2024-03-30 had its 15 months
    series = metrics.monthly_series(scope_of(moscow, D(2024, 1, 1), D(2024, 3, 31), as_of=D(2025, 6, 30)))
    # then
    assert series["repeat_sale_customers"] == [2, 2, 0]
    assert series["repeat_sale_rate"] == [0.5, 0.0, None]
    assert series["service_return_vehicles"] == [2, 2, 0]
    assert series["service_return_rate"] == [0.5, 0.5, None]
    assert series["touchpoints_due"] == [2, 1, 0]
    assert series["plan_adherence"] == [0.5, 1.0, None]
    assert series["forecast_visits"] == [0, 1, 1]
    assert series["forecast_within_14_days"] == [None, 1.0, 0.0]
    assert series["forecast_within_30_days"] == [None, 1.0, 0.0]
    assert series["hot_leads"] == [1, 0, 1]
    assert series["hot_leads_became_sales"] == [1, 0, 0]


@pytest.mark.django_db
def test_service_return_of_a_young_cohort_is_left_empty_not_zero(moscow):
    # given: a car sold two months before the day of the data
    factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2025, 1, 10))
    # when
    series = metrics.monthly_series(scope_of(moscow, D(2025, 1, 1), D(2025, 3, 31), as_of=D(2025, 3, 31)))
    # then
    assert series["service_return_vehicles"] == [0, 0, 0]
    assert series["service_return_rate"] == [None, None, None]
    assert series["repeat_sale_customers"] == [1, 0, 0]


@pytest.mark.django_db
def test_figures_taken_from_the_series_equal_those_counted_on_their_own(moscow):
    # given: calls of two agents, visits with a rhythm, a forecast, a new and a lapsed customer
    alice = factories.make_user("alice", "agent", dealerships=(moscow,))
    old = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2023, 1, 10))
    for day in (D(2023, 7, 1), D(2023, 8, 1), D(2025, 2, 20)):
        factories.ServiceVisitFactory(vehicle=old.vehicle, visited_on=day)
    ForecastSnapshot.objects.create(vehicle=old.vehicle, taken_on=D(2024, 12, 1), next_due_on=D(2025, 2, 1), interval_number=3,
                                    km_per_month=1500, due_earliest_on=D(2025, 1, 1), due_latest_on=D(2025, 3, 1), due_driver="km")
    new = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2025, 3, 5)).customer
    factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2023, 2, 1))
    make_call(new, alice, at(2025, 3, 20), "booked")
    make_call(old.customer, None, at(2025, 1, 20), "no_answer")
    make_call(old.customer, alice, at(2025, 2, 2), "reached")
    scope = scope_of(moscow, D(2025, 1, 1), D(2025, 3, 31))
    # when
    alone = metrics.all_figures(scope)
    series = metrics.monthly_series(scope)
    from_series = metrics.all_figures(scope, series=series)
    # then
    assert from_series == alone
    assert alone["forecast_accuracy"] == {"visits": 1, "within_14_days": 0.0, "within_30_days": 1.0}
    assert alone["agents"] == [
        {"agent": "alice", "calls": 2, "reach_rate": 1.0, "bookings": 1, "handoffs": 0, "avg_handling_seconds": 180},
        {"agent": "—", "calls": 1, "reach_rate": 0.0, "bookings": 0, "handoffs": 0, "avg_handling_seconds": 180},
    ]
    assert alone["retention"] == {"start": 0, "new": 1, "end": 2, "crr": None, "churn": None}


def named_agent(username: str, first: str = "", last: str = "", *, dealership: Dealership) -> Any:
    user = factories.make_user(username, "agent", dealerships=(dealership,))
    user.first_name, user.last_name = first, last
    user.save()
    return user


@pytest.mark.django_db
def test_agents_are_shown_by_name_in_the_table_the_chart_and_the_csv(client, manager, moscow):
    # given: Anna Ivanova; two agents both called Oleg Petrov; "kim", whose name is not on file; a call
    # by nobody still on the staff
    anna = named_agent("anna", "Anna", "Ivanova", dealership=moscow)
    oleg = named_agent("oleg.p", "Oleg", "Petrov", dealership=moscow)
    other_oleg = named_agent("opetrov", "Oleg", "Petrov", dealership=moscow)
    kim = named_agent("kim", dealership=moscow)
    customer = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2024, 5, 1)).customer
    for agent, day in ((anna, 10), (oleg, 11), (oleg, 12), (other_oleg, 13), (kim, 14), (None, 15)):
        make_call(customer, agent, at(2025, 1, day), "reached")
    client.force_login(manager)
    period = {"dealership": moscow.pk, "from": "2025-01-01", "to": "2025-01-31"}
    # when
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("contacts:dashboard"), period)
        agents_csv = read_csv(client.get(reverse("contacts:dashboard"), {**period, "export": "agents"}))
        series_csv = read_csv(client.get(reverse("contacts:dashboard"), {**period, "export": "agent_series"}))
    # then: by name, the two Olegs told apart by their logins (and not added up), the unnamed last
    names = ["Anna Ivanova", "kim", "Oleg Petrov (oleg.p)", "Oleg Petrov (opetrov)", "—"]
    value = response.context["value"]
    assert [(row["agent"], row["calls"]) for row in value["agents"]] == list(zip(names, [1, 1, 2, 1, 1], strict=True))
    assert [row["agent"] for row in value["series"]["agents"]] == names  # the calls-per-agent chart
    assert [row[0] for row in agents_csv[1:]] == names
    assert [row[1] for row in series_csv[1:]] == names
    assert "<td>Anna Ivanova</td>" in response.content.decode() and "<td>anna</td>" not in response.content.decode()


@pytest.fixture
def customers_came_back(moscow):
    """Anna bought in March 2024 (active all of early 2025); Vera bought in 2020, then nothing until a
    service visit in February 2025: back, but neither active at the start nor new."""
    factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2024, 3, 1))
    vera = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2020, 1, 1)).vehicle
    factories.ServiceVisitFactory(vehicle=vera, visited_on=D(2025, 2, 15))


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "crr_note", "churn_note", "definition"), [
    ("en", "above 100 %: more customers came back than stopped being active",
     "below zero: more customers came back than stopped being active", "Above 100 % means that more customers came back"),
    ("ru", "больше 100 %: вернулось больше клиентов, чем перестало быть активными",
     "меньше нуля: вернулось больше клиентов, чем перестало быть активными", "Больше 100 % значит, что вернулось больше"),
])
def test_a_crr_above_100_and_a_negative_churn_are_explained_in_words(client, manager, moscow, customers_came_back,
                                                                      language, crr_note, churn_note, definition):
    client.force_login(manager)
    # when: January and February (S = 1: Anna; N = 0; E = 2: Anna and Vera), then January alone (E = 1)
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("contacts:dashboard"), {"dealership": moscow.pk, "from": "2025-01-01", "to": "2025-02-28"},
                              HTTP_ACCEPT_LANGUAGE=language)
        january = client.get(reverse("contacts:dashboard"), {"dealership": moscow.pk, "from": "2025-01-01", "to": "2025-01-31"},
                             HTTP_ACCEPT_LANGUAGE=language)
    # then: CRR 200 % and churn −100 %, each said in words beside it; the retention chart explains its
    # February (CRR 200 %) and the definitions say why
    page = response.content.decode()
    assert response.context["value"]["retention"] == {"start": 1, "new": 0, "end": 2, "crr": 2.0, "churn": -1.0}
    assert f'<span class="small" id="crr-note">{crr_note}</span>' in page
    assert f'<span class="small" id="churn-note">{churn_note}</span>' in page
    assert page.count(definition) >= 3  # the chart's explanation, the CRR's title and its definition
    # and a CRR of 100 % needs no explanation
    assert january.context["value"]["retention"]["crr"] == 1.0
    assert 'id="crr-note"' not in january.content.decode() and 'id="churn-note"' not in january.content.decode()
    assert 'class="small u-m-4-0-0 chart-explanation"' not in january.content.decode()


# ------------------------------------------------------------------------------------ CSV tables


@pytest.fixture
def quarter_history(moscow):
    """A first quarter of 2025 in Moscow: two agents' calls, a hold-out customer, a dead phone."""
    alice = factories.make_user("alice", "agent", dealerships=(moscow,))
    contacted = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2025, 1, 10))
    factories.ServiceVisitFactory(vehicle=contacted.vehicle, visited_on=D(2025, 6, 1))
    held = factories.SaleFactory(vehicle__owner__dealership=moscow, vehicle__owner__is_holdout=True, sold_on=D(2025, 2, 10))
    silent = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2023, 6, 1)).customer  # never reached
    Customer.objects.filter(pk=silent.pk).update(phone_unreachable_since=D(2025, 3, 1))
    make_call(contacted.customer, alice, at(2025, 1, 20), "serviced_elsewhere", reason="price")
    make_call(contacted.customer, alice, at(2025, 2, 3), "booked")
    make_call(held.customer, None, at(2025, 3, 3), "no_answer")
    return {"from": "2025-01-01", "to": "2025-03-31"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("export", "expected"),
    [
        ("holdout", [
            ["Group", "Figure", "Base", "Count", "Rate, %", "95 % interval from, %", "95 % interval to, %"],
            ["contacted", "service-return rate", "1", "1", "100.0", "20.7", "100.0"],
            ["hold-out (no calls)", "service-return rate", "1", "0", "0.0", "0.0", "79.4"],
            ["difference", "service-return rate", "", "", "", "-12.2", "100.0"],
            ["contacted", "repeat-sale rate", "1", "0", "0.0", "0.0", "79.4"],
            ["hold-out (no calls)", "repeat-sale rate", "1", "0", "0.0", "0.0", "79.4"],
        ]),
        ("dead_contacts", [
            ["Years since the last reached call", "Customers", "Unreachable", "Share, %"],
            ["0", "2", "0", "0.0"],
            ["1", "1", "1", "100.0"],
        ]),
        ("elsewhere", [["Reason", "Calls"], ["price", "1"]]),
        ("agents", [
            ["Agent", "Calls", "Reach rate, %", "Bookings", "Hand-offs", "Avg. handling, s"],
            ["alice", "2", "100.0", "1", "0", "180"],
            ["—", "1", "0.0", "0", "0", "180"],
        ]),
        ("agent_series", [
            ["Month", "Agent", "Calls", "Reached", "Bookings"],
            ["2025-01", "alice", "1", "1", "0"],
            ["2025-02", "alice", "1", "1", "1"],
            ["2025-03", "—", "1", "0", "0"],
        ]),
    ],
)
def test_every_table_round_trips_through_csv(client, manager, quarter_history, export, expected):
    # given
    client.force_login(manager)
    # when
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("contacts:dashboard"), {**quarter_history, "export": export})
    # then
    assert read_csv(response) == expected
    assert response["Content-Disposition"].endswith('-2025-01-01-2025-03-31.csv"')


@pytest.mark.django_db
@pytest.mark.parametrize("export", ["figures", "agents", "holdout", "dead_contacts", "elsewhere", "series", "agent_series"])
def test_every_export_opens_in_russian_excel(client, manager, quarter_history, export):
    # given
    client.force_login(manager)
    # when: a Russian reader downloads it
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("contacts:dashboard"), {**quarter_history, "export": export},
                              headers={"Accept-Language": "ru"})
    # then: a BOM, ';' between cells, Russian headers, rates as percentages with a decimal comma
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    with translation.override("ru"):
        assert rows[0] == [str(COLUMN_LABELS[key]) for key in EXPORTS[export][0]]
    assert all(len(row) == len(rows[0]) for row in rows)
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(re.fullmatch(r"-?\d+\.\d+", cell) for cell in cells), cells  # no decimal point
    if export in ("agents", "dead_contacts", "series", "holdout"):
        assert "100,0" in cells
    if export == "figures":
        assert dict(rows[1:])["Доля повторных покупок, %"] == "0,0"


@pytest.mark.django_db
def test_a_formula_typed_into_a_reason_or_a_login_comes_back_as_text(client, manager, moscow):
    # given: an agent whose login starts with '@' notes a reason that is a formula
    evil = factories.make_user("@evil", "agent", dealerships=(moscow,))
    customer = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2024, 5, 1)).customer
    make_call(customer, evil, at(2025, 1, 20), "serviced_elsewhere", reason='=HYPERLINK("http://evil.example","x")')
    client.force_login(manager)
    period = {"from": "2025-01-01", "to": "2025-03-31"}
    # when
    with time_machine.travel(NOW, tick=False):
        tables = {export: read_csv(client.get(reverse("contacts:dashboard"), {**period, "export": export}))
                  for export in ("elsewhere", "agents", "agent_series")}
    # then
    assert tables["elsewhere"][1] == ['\'=HYPERLINK("http://evil.example","x")', "1"]
    assert tables["agents"][1][0] == "'@evil"
    assert tables["agent_series"][1][1] == "'@evil"
    # and the command writes the same cells
    out = io.StringIO()
    call_command("export_metrics", "--from", "2025-01-01", "--to", "2025-03-31", "--table", "elsewhere",
                 "--language", "ru", stdout=out)
    rows = list(csv.reader(io.StringIO(out.getvalue().removeprefix("\ufeff")), delimiter=";"))
    assert rows == [["Причина", "Звонки"], ['\'=HYPERLINK("http://evil.example","x")', "1"]]


@pytest.mark.django_db
def test_export_metrics_in_russian_writes_percentages_with_a_decimal_comma(moscow):
    # given: one call, reached
    customer = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2024, 5, 1)).customer
    make_call(customer, None, at(2025, 1, 20), "reached")
    make_call(customer, None, at(2025, 1, 21), "no_answer")
    make_call(customer, None, at(2025, 1, 22), "no_answer")
    out = io.StringIO()
    # when
    call_command("export_metrics", "--from", "2025-01-01", "--to", "2025-01-31", "--dealership", "msk",
                 "--language", "ru", stdout=out)
    # then
    rows = dict(csv.reader(io.StringIO(out.getvalue().removeprefix("\ufeff")), delimiter=";"))
    assert rows["Показатель"] == "Значение"
    assert rows["Дозвон, %"] == "33,3"
    assert rows["Звонки"] == "3"


@pytest.mark.django_db
def test_monthly_series_round_trips_through_csv(client, manager, quarter_history):
    # given
    client.force_login(manager)
    # when
    with time_machine.travel(NOW, tick=False):
        rows = read_csv(client.get(reverse("contacts:dashboard"), {**quarter_history, "export": "series"}))
    # then: one row a month, every column of the series
    assert rows[0] == [str(COLUMN_LABELS[key]) for key in ("month", "from", "to", *metrics.SERIES_COLUMNS)]
    table = [dict(zip(("month", "from", "to", *metrics.SERIES_COLUMNS), row, strict=True)) for row in rows[1:]]
    assert [(r["month"], r["from"], r["to"]) for r in table] == [
        ("2025-01", "2025-01-01", "2025-01-31"), ("2025-02", "2025-02-01", "2025-02-28"), ("2025-03", "2025-03-01", "2025-03-31")]
    assert [r["calls"] for r in table] == ["1", "1", "1"]
    assert [r["reach_rate"] for r in table] == ["100.0", "100.0", "0.0"]
    assert [r["repeat_sale_customers"] for r in table] == ["1", "1", "0"]
    assert [r["repeat_sale_rate"] for r in table] == ["0.0", "0.0", ""]
    assert [r["service_return_rate"] for r in table] == ["100.0", "0.0", ""]
    assert [r["known_customers"] for r in table] == ["2", "3", "3"]
    assert [r["dead_contacts"] for r in table] == ["0", "0", "1"]
    assert [r["dead_contact_share"] for r in table] == ["0.0", "0.0", "33.3"]


# ------------------------------------------------------------------------------------ snapshots


@pytest.mark.django_db
def test_page_is_served_from_the_snapshot_and_says_when_it_was_computed(client, manager, moscow, django_assert_max_num_queries):
    # given: the nightly job ran at 02:30 UTC
    factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2025, 1, 10))
    with time_machine.travel(dt.datetime(2026, 12, 1, 2, 30, tzinfo=UTC), tick=False):
        assert tasks.compute_metrics_snapshots() == 3  # Moscow, Yekaterinburg, the group
    snapshots = MetricSnapshot.objects.count()
    client.force_login(manager)
    # when: the manager opens the page later that morning
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(12):
        response = client.get(reverse("contacts:dashboard"))
    # then: nothing was recomputed, and the page tells when the figures are from, in the time of the
    # first dealership of the page (Yekaterinburg, UTC+5), named since Moscow keeps another time
    assert response.status_code == 200
    assert MetricSnapshot.objects.count() == snapshots
    page = response.content.decode()
    assert "computed 01.12.2026 07:30, Екатеринбург time" in page
    assert " UTC" not in page
    series = response.context["value"]["series"]
    assert series["months"][0] == "2024-12" and series["months"][-1] == "2026-12"
    for chart in ("chart-cohorts", "chart-retention", "chart-calls", "chart-base", "chart-plan", "chart-forecast", "chart-agents"):
        assert f'id="{chart}"' in page


@pytest.mark.django_db
def test_a_snapshot_of_yesterday_is_recomputed(client, manager, moscow):
    # given: yesterday's snapshot of the default Moscow page
    with time_machine.travel(dt.datetime(2026, 11, 30, 2, 30, tzinfo=UTC), tick=False):
        tasks.compute_metrics_snapshots()
    factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2026, 11, 30))
    client.force_login(manager)
    # when
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("contacts:dashboard"), {"dealership": moscow.pk, "to": "2026-11-30"})
    # then
    assert "computed 01.12.2026 12:00 ·" in response.content.decode()  # Moscow's time (UTC+3), not named
    assert response.context["value"]["repeat_sale"]["customers"] == 1


@pytest.mark.django_db
def test_export_metrics_command_writes_the_monthly_table(capsys, moscow):
    factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2025, 2, 10))
    call_command("export_metrics", "--from", "2025-01-01", "--to", "2025-02-28", "--dealership", "msk", "--table", "series")
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out.removeprefix("\ufeff"))))
    assert rows[0][:3] == ["Month", "From", "To"]
    assert [(row[0], row[rows[0].index("Buyers")]) for row in rows[1:]] == [("2025-01", "0"), ("2025-02", "1")]


@pytest.mark.django_db
def test_the_charts_and_tables_speak_russian(client, manager, quarter_history):
    # given
    client.force_login(manager)
    # when
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("contacts:dashboard"), quarter_history, HTTP_ACCEPT_LANGUAGE="ru")
    # then
    page = response.content.decode()
    assert "По месяцам" in page and "Звонки по операторам" in page and "«Мёртвые» контакты по годам" in page
    assert "Когорты продаж: повторная покупка и возврат в сервис" in page
    config = response.context["chart_config"]
    assert config["charts"][0]["lines"][0]["label"] == "доля повторных продаж"
    assert config["empty"] == "Нет данных за этот период."


def test_a_period_the_nightly_job_did_not_compute_is_computed_by_a_worker(client, manager, moscow, tasks_queued_not_run):
    # given: a manager asks for a period no snapshot covers
    factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2025, 1, 10))
    client.force_login(manager)
    period = {"dealership": moscow.pk, "from": "2025-01-01", "to": "2025-12-31"}
    # when
    first = client.get(reverse("contacts:dashboard"), period)
    again = client.get(reverse("contacts:dashboard"), period)
    # then: the page says the figures are being computed, looks again by itself, and queues one task
    assert first.status_code == again.status_code == 200
    assert "are being computed" in first.content.decode()
    assert '<meta http-equiv="refresh"' in first.content.decode()
    assert not MetricSnapshot.objects.exists()
    # when: a worker runs the queued computation
    today = moscow.local_date(dt.datetime.now(dt.UTC))
    tasks.compute_dashboard_figures.apply(
        args=([moscow.pk], "2025-01-01", "2025-12-31", {"repeat_years": 3, "return_months": 15, "active_months": 12},
              today.isoformat(), moscow.time_zone)
    )
    # then: the next look shows the figures
    ready = client.get(reverse("contacts:dashboard"), period)
    assert "repeat-sale rate" in ready.content.decode()
    assert MetricSnapshot.objects.count() == 1


@pytest.mark.django_db
def test_agents_cannot_open_the_dashboard_and_managers_can(client, agent, manager):
    client.force_login(agent)
    assert client.get(reverse("contacts:dashboard")).status_code == 403
    client.force_login(manager)
    response = client.get(reverse("contacts:dashboard"))
    assert response.status_code == 200
    assert "repeat-sale rate" in response.content.decode()


@pytest.mark.django_db
def test_figures_csv_round_trips(client, manager, moscow):
    # given
    factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=D(2025, 1, 10))
    client.force_login(manager)
    # when
    response = client.get(reverse("contacts:dashboard"), {"from": "2025-01-01", "to": "2025-12-31", "export": "figures"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    # then
    assert rows[0] == ["Figure", "Value"]
    values = dict(rows[1:])
    assert values["Buyers"] == "1"
    assert float(values["Repeat-sale rate, %"]) == 0.0


@pytest.mark.django_db
def test_export_metrics_command_writes_json_and_refuses_bad_dates(capsys, moscow):
    call_command("export_metrics", "--from", "2025-01-01", "--to", "2025-12-31", "--dealership", "msk", "--format", "json")
    assert json.loads(capsys.readouterr().out)["period"] == {"from": "2025-01-01", "to": "2025-12-31"}
    with pytest.raises(CommandError, match="is not a date"):
        call_command("export_metrics", "--from", "31.12.2025", "--to", "2025-12-31")
    with pytest.raises(CommandError, match="No dealership"):
        call_command("export_metrics", "--from", "2025-01-01", "--to", "2025-12-31", "--dealership", "nope")
