from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from customers import access

pytestmark = pytest.mark.django_db

PAGES = [
    "home",
    "customers:list",
    "contacts:queue",
    "contacts:floor",
    "contacts:inbox",
    "contacts:dashboard",
    "admin:index",
]


def test_role_groups_exist():
    assert set(Group.objects.values_list("name", flat=True)) >= {"agent", "supervisor", "manager", "admin"}


@pytest.mark.parametrize("name", PAGES)
def test_every_page_requires_login(client, name):
    # when
    response = client.get(reverse(name))
    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/") or response["Location"].startswith("/admin/login/")


def test_login_page_answers_without_login(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_language_switch_renders_russian(client, agent):
    # given
    client.force_login(agent)
    # when
    client.post(reverse("set_language"), {"language": "ru", "next": "/"})
    response = client.get(reverse("customers:list"))
    # then
    assert response.status_code == 200
    assert "Клиенты" in response.content.decode()
    assert "Выйти" in response.content.decode()


def test_agent_cannot_open_dashboards_or_admin(client, agent):
    client.force_login(agent)
    assert client.get(reverse("contacts:dashboard")).status_code == 403
    assert client.get(reverse("admin:index")).status_code == 302  # the admin's own login, not data


def test_health_reports_database_and_beat(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["last_beat_tick"] is None


def test_navigation_follows_roles(agent, manager):
    assert access.has_role(agent, access.CAN_WORK_QUEUE)
    assert not access.has_role(agent, access.CAN_SEE_DASHBOARDS)
    assert access.has_role(manager, access.CAN_SEE_DASHBOARDS)


def test_static_files_collect_for_production(settings, tmp_path):
    # given: production storage (hashed names, compressed), as with DEBUG off
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    # when
    call_command("collectstatic", "--noinput", verbosity=0)
    # then
    assert (tmp_path / "staticfiles.json").exists()
    assert list(tmp_path.glob("vendor/htmx-2.0.4.min.*.js"))


@pytest.mark.parametrize("query", [
    "Попова", "попова", "ПОПОВА", "Попова Наталья", "наталья попова", "8 934 440-18-15", "+7 (934) 440 18 15",
    "440-18-15", "a123bc77", "А123ВС 77", "XW8ZZZ61ZKG", "Наталья Сергеевна",
])
def test_the_customer_search_finds_a_person_the_way_they_say_it(client, agent, moscow, query):
    # given
    from tests import factories

    natalia = factories.CustomerFactory(dealership=moscow, first_name="Наталья", middle_name="Сергеевна",
                                        last_name="Попова", phone="+79344401815")
    factories.VehicleFactory(owner=natalia, plate="А123ВС77", vin="XW8ZZZ61ZKG123456")
    factories.CustomerFactory(dealership=moscow, first_name="Наталья", last_name="Иванова", phone="+79161234567")
    client.force_login(agent)
    # when
    response = client.get(reverse("customers:list"), {"q": query})
    # then
    assert list(response.context["customers"]) == [natalia]
    assert "+7 934 440-18-15" in response.content.decode()


def test_an_agent_corrects_a_wrong_number_and_the_new_one_is_tried_again(client, agent, moscow):
    # given: the number was marked unreachable after failed calls
    import datetime as dt

    from customers.models import Customer
    from tests import factories

    customer = factories.CustomerFactory(dealership=moscow, phone="+79161112233", phone_failures=3,
                                         phone_unreachable_since=dt.date(2026, 11, 20))
    client.force_login(agent)
    # when: a typo first, then the right numbers, typed as people write them
    client.post(reverse("customers:phones", args=[customer.pk]), {"phone": "8 934 440-18-1", "phone_alt": ""})
    unchanged = Customer.objects.get(pk=customer.pk)
    response = client.post(reverse("customers:phones", args=[customer.pk]),
                           {"phone": "8 934 440-18-15", "phone_alt": "+7 (495) 123-45-67"}, follow=True)
    # then
    assert (unchanged.phone, unchanged.phone_failures) == ("+79161112233", 3)
    customer.refresh_from_db()
    assert (customer.phone, customer.phone_alt, customer.phone_failures, customer.phone_unreachable_since) == (
        "+79344401815", "+74951234567", 0, None)
    assert "The phone numbers of" in response.content.decode() and "+7 934 440-18-15" in response.content.decode()


def test_department_staff_see_the_customer_page_without_the_phone_form(client, moscow):
    from tests import factories

    customer = factories.CustomerFactory(dealership=moscow)
    client.force_login(factories.make_user("sam", "sales", dealerships=(moscow,)))
    page = client.get(reverse("customers:detail", args=[customer.pk]))
    assert page.status_code == 200 and "phones-form" not in page.content.decode()
    assert client.post(reverse("customers:phones", args=[customer.pk]), {"phone": "+79344401815"}).status_code == 403


def test_the_search_lists_surnames_first_and_patronymics_after(client, agent, moscow):
    from tests import factories

    vasiliev = factories.CustomerFactory(dealership=moscow, first_name="Алексей", middle_name="Николаевич", last_name="Васильев")
    nikolaev = factories.CustomerFactory(dealership=moscow, first_name="Алексей", last_name="Николаев")
    client.force_login(agent)
    response = client.get(reverse("customers:list"), {"q": "николаев алексей"})
    assert list(response.context["customers"]) == [nikolaev, vasiliev]


def test_the_customer_and_vehicle_pages_show_only_the_users_dealerships(client, agent, moscow, yekaterinburg):
    # given: an agent of Moscow, a customer (with a car) in each dealership
    from tests import factories

    own = factories.SaleFactory(vehicle__owner__dealership=moscow, sold_on=dt.date(2026, 1, 10))
    other = factories.SaleFactory(vehicle__owner__dealership=yekaterinburg, sold_on=dt.date(2026, 1, 10))
    client.force_login(agent)
    # when / then: Moscow's pages open; Yekaterinburg's are "not found", with no hint that they exist
    assert client.get(reverse("customers:detail", args=[own.customer.pk])).status_code == 200
    assert client.get(reverse("customers:vehicle", args=[own.vehicle.pk])).status_code == 200
    assert client.get(reverse("customers:detail", args=[other.customer.pk])).status_code == 404
    assert client.get(reverse("customers:vehicle", args=[other.vehicle.pk])).status_code == 404
    listing = client.get(reverse("customers:list"), {"q": other.customer.last_name}).content.decode()
    assert reverse("customers:detail", args=[other.customer.pk]) not in listing
