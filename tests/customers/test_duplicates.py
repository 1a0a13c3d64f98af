"""Duplicate customers: detection on import and nightly, the merge of the facts, the Duplicates page
(customers.duplicates, customers.duplicate_views)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from customers.duplicates import MergeRefused, detect_duplicates, dismiss_pair, merge_customers
from customers.models import Consent, Customer, DuplicateCandidate, Sale, Suppression, Vehicle
from customers.refusals import record_refusal
from customers.tasks import detect_duplicate_customers
from tests import factories
from tests.customers.importing.helpers import run

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
Status = DuplicateCandidate.Status


def _pairs():
    return sorted((c.customer_id, c.other_id, c.reasons, c.status) for c in DuplicateCandidate.objects.all())


def test_detection_finds_a_shared_phone_either_number_an_email_in_any_case_and_a_name_and_birthday(moscow, yekaterinburg):
    # given
    make = factories.CustomerFactory
    a = make(dealership=moscow, phone="+79161110000", email="Petr@Example.ru")
    b = make(dealership=moscow, phone="+79162220000", phone_alt="+79161110000", email="petr@example.RU")
    c = make(dealership=moscow, last_name="Сидоров", first_name="Олег", birthday=dt.date(1980, 1, 2))
    d = make(dealership=moscow, last_name="Сидоров", first_name="Олег", birthday=dt.date(1980, 1, 2))
    make(dealership=moscow, last_name="Сидоров", first_name="Олег", birthday=dt.date(1981, 1, 2))
    make(dealership=yekaterinburg, phone="+79161110000")  # another dealership: not a pair
    # when
    result = detect_duplicates(dealership=moscow, now=NOW)
    # then
    assert result.created == 2
    assert _pairs() == [(a.pk, b.pk, "email,phone", "open"), (c.pk, d.pk, "name_birthday", "open")]


def test_a_merged_customers_tombstone_is_never_paired_again(moscow):
    # given
    a = factories.CustomerFactory(dealership=moscow, phone="+79161110000")
    b = factories.CustomerFactory(dealership=moscow, phone="+79161110000")
    detect_duplicates(dealership=moscow, now=NOW)
    merge_customers(survivor=a, merged=b, now=NOW)
    # when
    detect_duplicates(dealership=moscow, now=NOW + dt.timedelta(days=1))
    # then
    assert _pairs() == [(a.pk, b.pk, "phone", "merged")]
    b.refresh_from_db()
    assert b.merged_into_id == a.pk and b.phone == ""
    assert list(Customer.objects.live().filter(dealership=moscow)) == [a]


def test_the_nightly_detection_over_several_days_is_idempotent_and_a_dismissed_pair_stays_dismissed(moscow):
    # given
    a = factories.CustomerFactory(dealership=moscow, phone="+79161110000")
    b = factories.CustomerFactory(dealership=moscow, phone="+79161110000")
    c = factories.CustomerFactory(dealership=moscow, email="x@example.ru")
    d = factories.CustomerFactory(dealership=moscow, email="X@example.ru")
    start = dt.datetime(2026, 11, 20, 23, 15, tzinfo=dt.UTC)  # 02:15 in Moscow, the beat's hour
    created = []
    for day in range(5):
        with time_machine.travel(start + dt.timedelta(days=day), tick=False):
            created.append(detect_duplicate_customers.delay().get())
            if day == 1:
                pair = DuplicateCandidate.objects.get(customer=c, other=d)
                dismiss_pair(candidate=pair, now=start + dt.timedelta(days=day))
            if day == 2:  # the next day a new customer shares a's phone
                e = factories.CustomerFactory(dealership=moscow, phone="+79161110000")
    # then
    assert created == [2, 0, 0, 2, 0]
    assert _pairs() == sorted([
        (a.pk, b.pk, "phone", "open"), (c.pk, d.pk, "email", "dismissed"),
        (a.pk, e.pk, "phone", "open"), (b.pk, e.pk, "phone", "open"),
    ])
    assert DuplicateCandidate.objects.get(customer=a, other=b).found_at == start


def test_the_merge_moves_vehicles_sales_and_suppression_and_fills_empty_details(moscow):
    # given
    survivor = factories.CustomerFactory(dealership=moscow, phone="+79161110000", email="")
    merged = factories.CustomerFactory(dealership=moscow, phone="+79163330000", email="p@example.ru",
                                       external_id="C-2")
    sale = factories.SaleFactory(vehicle__owner=merged, customer=merged, dealership=moscow)
    record_refusal(customer=merged, channels=["sms"], now=NOW, reason="не пишите", source="call")
    # when
    merge_customers(survivor=survivor, merged=merged, now=NOW)
    # then
    survivor.refresh_from_db()
    assert Vehicle.objects.get(pk=sale.vehicle_id).owner_id == survivor.pk
    assert Sale.objects.get(pk=sale.pk).customer_id == survivor.pk
    assert (survivor.phone, survivor.phone_alt, survivor.email) == ("+79161110000", "+79163330000", "p@example.ru")
    assert set(Suppression.objects.values_list("customer_id", flat=True)) == {survivor.pk}
    assert survivor.blocked_channels() == {"sms"}
    assert not Consent.objects.filter(customer=merged).exists()


def test_the_strictest_consent_is_kept_a_refusal_on_either_side_wins(moscow):
    # given
    survivor = factories.CustomerFactory(dealership=moscow)
    merged = factories.CustomerFactory(dealership=moscow)
    Consent.objects.create(customer=survivor, channel="call", is_allowed=True, changed_at=NOW, reason="ok")
    record_refusal(customer=survivor, channels=["email"], now=NOW, reason="no mail", source="call")
    record_refusal(customer=merged, channels=["call"], now=NOW - dt.timedelta(days=3), reason="не звоните",
                   source="admin")
    Consent.objects.create(customer=merged, channel="email", is_allowed=True, changed_at=NOW, reason="yes mail")
    # when
    merge_customers(survivor=survivor, merged=merged, now=NOW)
    # then
    consents = {c.channel: (c.is_allowed, c.reason, c.changed_at) for c in Consent.objects.filter(customer=survivor)}
    assert consents == {
        "call": (False, "не звоните", NOW - dt.timedelta(days=3)),
        "email": (False, "no mail", NOW),
    }


def test_customers_of_two_dealerships_or_already_merged_are_not_merged(moscow, yekaterinburg):
    a = factories.CustomerFactory(dealership=moscow)
    b = factories.CustomerFactory(dealership=yekaterinburg)
    c = factories.CustomerFactory(dealership=moscow)
    with pytest.raises(MergeRefused):
        merge_customers(survivor=a, merged=b, now=NOW)
    merge_customers(survivor=a, merged=c, now=NOW)
    with pytest.raises(MergeRefused):
        merge_customers(survivor=c, merged=a, now=NOW)
    with pytest.raises(MergeRefused):
        merge_customers(survivor=a, merged=a, now=NOW)


CUSTOMERS_1 = "external_id;last_name;first_name;phone;email\nC-1;Иванов;Пётр;+79161234567;petr@example.ru\n"
CUSTOMERS_2 = (
    "external_id;last_name;first_name;phone;email\n"
    "C-1;Иванов;Пётр;+79161234567;petr@example.ru\n"
    "C-9;Иванов;Петр;+79267654321;PETR@example.ru\n"
)


def test_the_import_counts_look_alikes_stores_the_pair_and_a_reimport_after_the_merge_creates_nothing(moscow):
    # given
    run("customers", CUSTOMERS_1, moscow)
    # when: a file with the same person under another DMS id (checked, then applied)
    preview = run("customers", CUSTOMERS_2, moscow, dry_run=True)
    applied = run("customers", CUSTOMERS_2, moscow)
    # then
    assert (preview.look_alike, applied.look_alike) == (1, 1)
    first, second = Customer.objects.get(external_id="C-1"), Customer.objects.get(external_id="C-9")
    assert _pairs() == [(first.pk, second.pk, "email", "open")]
    # when: merged, then the same file comes again
    merge_customers(survivor=first, merged=second, now=NOW)
    again = run("customers", CUSTOMERS_2, moscow)
    # then: C-9 is the survivor's row, nothing is created, no new pair, the survivor keeps its data
    assert (again.created, again.updated, again.unchanged, again.look_alike) == (0, 0, 2, 0)
    assert Customer.objects.count() == 2
    assert _pairs() == [(first.pk, second.pk, "email", "merged")]
    first.refresh_from_db()
    assert (first.first_name, first.phone, first.phone_alt) == ("Пётр", "+79161234567", "+79267654321")


def test_a_sale_for_a_merged_customers_external_id_goes_to_the_survivor(moscow):
    # given
    survivor = factories.CustomerFactory(dealership=moscow, external_id="C-1")
    merged = factories.CustomerFactory(dealership=moscow, external_id="C-9")
    vehicle = factories.VehicleFactory(owner=survivor, vin="XTA21099043567891")
    merge_customers(survivor=survivor, merged=merged, now=NOW)
    # when
    report = run("sales", "external_id;vin;customer_external_id;sold_on\nS-1;XTA21099043567891;C-9;01.02.2025\n", moscow)
    # then
    assert report.created == 1
    assert Sale.objects.get(vehicle=vehicle).customer_id == survivor.pk


# -------------------------------------------------------------------------------------------- page


@pytest.fixture
def pair(moscow):
    factories.CustomerFactory(dealership=moscow, phone="+79161110000", last_name="Иванов")
    b = factories.CustomerFactory(dealership=moscow, phone="+79161110000", last_name="Иванова")
    factories.VehicleFactory(owner=b, plate="А123ВС 77")
    detect_duplicates(dealership=moscow, now=NOW)
    return DuplicateCandidate.objects.get()


def test_the_page_shows_both_customers_side_by_side_and_merges_into_the_chosen_one(client, moscow, pair):
    # given
    admin = factories.make_user("ann", "admin", dealerships=(moscow,))
    client.force_login(admin)
    # when
    page = client.get(reverse("customers:duplicates"))
    # then
    text = page.content.decode()
    assert page.status_code == 200
    assert "Иванов " in text and "Иванова" in text and "А123ВС 77" in text and "same phone" in text
    # when
    response = client.post(reverse("customers:duplicate_merge", args=[pair.pk]), {"survivor": pair.other_id})
    # then
    assert response.status_code == 302
    pair.refresh_from_db()
    assert (pair.status, pair.survivor_id, pair.decided_by) == (Status.MERGED, pair.other_id, admin)
    assert Customer.objects.get(pk=pair.customer_id).merged_into_id == pair.other_id
    assert "No possible duplicates" in client.get(reverse("customers:duplicates")).content.decode()
    # the merged customer's page is the survivor's
    assert client.get(reverse("customers:detail", args=[pair.customer_id])).url == reverse(
        "customers:detail", args=[pair.other_id])


def test_a_manager_marks_a_pair_as_different_people_in_russian(client, moscow, pair):
    client.force_login(factories.make_user("mia", "manager", dealerships=(moscow,)))
    response = client.post(reverse("customers:duplicate_dismiss", args=[pair.pk]), HTTP_ACCEPT_LANGUAGE="ru",
                           follow=True)
    pair.refresh_from_db()
    assert pair.status == Status.DISMISSED
    assert "не будет предложена снова" in response.content.decode()


def test_another_dealerships_admin_cannot_see_merge_or_dismiss_a_pair_and_an_agent_cannot_open_the_page(
    client, moscow, yekaterinburg, pair, agent
):
    client.force_login(factories.make_user("eve", "admin", dealerships=(yekaterinburg,)))
    assert "Иванова" not in client.get(reverse("customers:duplicates")).content.decode()
    assert client.post(reverse("customers:duplicate_merge", args=[pair.pk]), {"survivor": pair.other_id}).status_code == 404
    assert client.post(reverse("customers:duplicate_dismiss", args=[pair.pk])).status_code == 404
    pair.refresh_from_db()
    assert pair.status == Status.OPEN
    assert Customer.objects.live().count() == 2
    client.force_login(agent)
    assert client.get(reverse("customers:duplicates")).status_code == 403


def test_a_merge_without_a_choice_is_refused_with_a_message(client, moscow, pair):
    client.force_login(factories.make_user("ann", "admin", dealerships=(moscow,)))
    response = client.post(reverse("customers:duplicate_merge", args=[pair.pk]), {"survivor": "999999"}, follow=True)
    assert "Choose which of the two customers to keep" in response.content.decode()
    pair.refresh_from_db()
    assert pair.status == Status.OPEN
