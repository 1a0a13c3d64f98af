"""The Django admin scoped by dealership for non-superusers (customers.admin_scoping), and the admin
role's model permissions there."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group

from contacts.models import DailyCapacity
from customers.admin_scoping import DealershipScopedAdmin
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def olga(moscow):
    """The Moscow dealership's admin: staff, not a superuser."""
    user = factories.make_user("olga", "admin", dealerships=(moscow,))
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.fixture
def customers(moscow, yekaterinburg):
    return (factories.CustomerFactory(dealership=moscow, last_name="Московский"),
            factories.CustomerFactory(dealership=yekaterinburg, last_name="Уральский"))


def test_the_changelist_shows_only_the_admins_dealerships(client, olga, customers):
    client.force_login(olga)
    page = client.get("/admin/customers/customer/")
    assert page.status_code == 200
    assert "Московский" in page.content.decode() and "Уральский" not in page.content.decode()
    # the dealership filter lists hers only
    assert "Екатеринбург" not in page.content.decode()


@pytest.mark.parametrize("suffix", ["change/", "delete/", "history/"])
def test_another_dealerships_customer_is_a_404(client, olga, customers, suffix):
    mine, theirs = customers
    client.force_login(olga)
    assert client.get(f"/admin/customers/customer/{theirs.pk}/{suffix}").status_code == 404
    assert client.get(f"/admin/customers/customer/{mine.pk}/{suffix}").status_code == 200


def test_records_reached_through_the_customer_or_the_car_are_scoped_too(client, olga, customers):
    theirs = factories.SaleFactory(vehicle__owner=customers[1], vehicle__dealership=customers[1].dealership,
                                   dealership=customers[1].dealership)
    factories.OdometerReadingFactory(vehicle=theirs.vehicle)
    client.force_login(olga)
    assert client.get(f"/admin/customers/sale/{theirs.pk}/change/").status_code == 404
    assert client.get(f"/admin/customers/vehicle/{theirs.vehicle.pk}/change/").status_code == 404
    assert theirs.vehicle.vin not in client.get("/admin/customers/odometerreading/").content.decode()


def test_foreign_key_choices_are_the_admins_dealerships_only(client, olga, moscow, yekaterinburg):
    client.force_login(olga)
    form = client.get("/admin/customers/customer/add/").content.decode()
    assert f'value="{moscow.pk}"' in form and "Екатеринбург" not in form


def test_the_admin_role_can_do_its_job_in_its_dealership_and_not_in_another(client, olga, moscow, yekaterinburg):
    client.force_login(olga)
    # a capacity of her dealership is saved
    day = dt.date(2026, 12, 7)
    saved = client.post("/admin/contacts/dailycapacity/add/",
                        {"dealership": moscow.pk, "day": day.isoformat(), "agents_on_shift": 4, "set_by": olga.pk})
    assert saved.status_code == 302 and DailyCapacity.objects.get().agents_on_shift == 4
    # another dealership's is refused as a choice that is not hers
    refused = client.post("/admin/contacts/dailycapacity/add/",
                          {"dealership": yekaterinburg.pk, "day": day.isoformat(), "agents_on_shift": 9})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert DailyCapacity.objects.count() == 1


def test_the_admin_roles_group_holds_the_permissions_it_needs():
    granted = set(Group.objects.get(name="admin").permissions.values_list("content_type__app_label", "codename"))
    assert {("customers", "change_customer"), ("customers", "add_customer"), ("contacts", "change_contactrules"),
            ("contacts", "change_calltask"), ("contacts", "change_touchpointtemplate"),
            ("customers", "view_dealership"), ("customers", "change_apitoken")} <= granted
    # never the deletion of a dealership or of the group's program, never a change of history
    assert not {("customers", "delete_dealership"), ("contacts", "delete_touchpointtemplate"),
                ("contacts", "change_configurationchange"), ("auth", "change_user")} & granted


def test_staff_without_the_admin_role_sees_no_model(client, moscow):
    agent = factories.make_user("alice", "agent", dealerships=(moscow,))
    agent.is_staff = True
    agent.save(update_fields=["is_staff"])
    client.force_login(agent)
    assert client.get("/admin/customers/customer/").status_code == 403


def test_a_superuser_sees_every_dealership(client, customers):
    root = factories.make_user("root")
    root.is_staff = root.is_superuser = True
    root.save()
    client.force_login(root)
    page = client.get("/admin/customers/customer/").content.decode()
    assert "Московский" in page and "Уральский" in page


def test_every_model_admin_of_both_apps_is_scoped():
    unscoped = [model._meta.label for model, model_admin in admin.site._registry.items()
                if model._meta.app_label in ("customers", "contacts")
                and not isinstance(model_admin, DealershipScopedAdmin)]
    assert unscoped == []


def test_an_admin_makes_tokens_in_the_admin_for_themselves_only(client, olga, moscow):
    from customers.models import ApiToken

    manager = factories.make_user("boss", "manager", dealerships=(moscow,))
    client.force_login(olga)
    form = client.get("/admin/customers/apitoken/add/").content.decode()
    assert f'value="{olga.pk}"' in form and f'value="{manager.pk}"' not in form
    saved = client.post("/admin/customers/apitoken/add/", {
        "user": olga.pk, "name": "dialer", "scopes": "dialer", "expires_at_0": "2027-01-01", "expires_at_1": "10:00:00"},
        follow=True)
    assert saved.status_code == 200 and "shown this once" in saved.content.decode()
    assert ApiToken.objects.get().scope_list == ["dialer"]
