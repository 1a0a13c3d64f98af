"""The team page: people x dealership x role, managed by a dealership's admin within their dealerships."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(moscow):
    return factories.make_user("ada", "admin", dealerships=(moscow,))


def test_an_admin_adds_a_person_to_their_dealership_with_a_role(client, admin, moscow):
    # given
    client.force_login(admin)
    # when
    response = client.post("/team/", {
        "username": "olga", "first_name": "Ольга", "last_name": "Смирнова", "email": "olga@example.com",
        "password": "a-long-first-password", "roles": ["agent"], "dealerships": [moscow.pk],
    })
    # then
    assert response.status_code == 302
    olga = User.objects.get(username="olga")
    assert [g.name for g in olga.groups.all()] == ["agent"]
    assert list(olga.dealerships.all()) == [moscow]
    assert (olga.is_staff, olga.is_superuser, olga.user_permissions.count()) == (False, False, 0)
    assert olga.check_password("a-long-first-password")
    grid = client.get("/team/").content.decode()
    assert "Смирнова" in grid and "Call-centre agent" in grid


def test_the_grid_shows_no_staff_superuser_or_permissions(client, admin):
    client.force_login(admin)
    html = client.get("/team/").content.decode()
    for noise in ("Staff status", "Superuser", "permissions", "is_staff"):
        assert noise not in html


@pytest.mark.parametrize(
    ("changes", "field_message"),
    [
        ({"password": "123"}, "This password is too short."),
        ({"roles": []}, "Roles: choose at least one."),
        ({"dealerships": []}, "Dealerships: choose at least one, or nobody can see this person."),
        ({"username": "ada"}, "Login: “ada” is taken."),
    ],
)
def test_a_bad_person_is_refused_in_words_and_nobody_is_created(client, admin, moscow, changes, field_message):
    client.force_login(admin)
    data = {"username": "olga", "password": "a-long-first-password", "roles": ["agent"], "dealerships": [moscow.pk]}
    data.update(changes)
    response = client.post("/team/", data)
    assert response.status_code == 200
    assert field_message in response.content.decode()
    assert not User.objects.filter(username="olga").exists()


def test_an_admin_cannot_attach_a_person_to_a_dealership_they_do_not_administer(client, admin, moscow, yekaterinburg):
    client.force_login(admin)
    client.post("/team/", {"username": "olga", "password": "a-long-first-password", "roles": ["agent"],
                           "dealerships": [moscow.pk, yekaterinburg.pk]})
    assert not User.objects.filter(username="olga").exists()


def test_editing_roles_keeps_the_dealerships_outside_the_admins_scope(client, admin, moscow, yekaterinburg):
    # given: a supervisor of both dealerships; the admin administers Moscow only
    sue = factories.make_user("sue", "supervisor", dealerships=(moscow, yekaterinburg))
    client.force_login(admin)
    # when: made a manager, and deactivated
    response = client.post(f"/team/{sue.pk}/", {"first_name": "Sue", "last_name": "", "email": "",
                                                "roles": ["manager"], "dealerships": [moscow.pk]})
    # then
    assert response.status_code == 302
    sue.refresh_from_db()
    assert [g.name for g in sue.groups.all()] == ["manager"]
    assert set(sue.dealerships.all()) == {moscow, yekaterinburg}
    assert sue.is_active is False


def test_an_admin_cannot_lock_themselves_out(client, admin, moscow):
    client.force_login(admin)
    response = client.post(f"/team/{admin.pk}/", {"roles": ["agent"], "dealerships": [moscow.pk], "is_active": "on"})
    assert "You cannot take your own admin role" in response.content.decode()
    assert [g.name for g in admin.groups.all()] == ["admin"]


def test_people_of_other_dealerships_and_superusers_are_out_of_reach(client, admin, other_agent):
    root = User.objects.create_superuser("root", password="pw-root")
    client.force_login(admin)
    assert client.get(f"/team/{other_agent.pk}/").status_code == 404
    assert client.get(f"/team/{root.pk}/").status_code == 404
    assert "bob" not in client.get("/team/").content.decode()


def test_only_the_admin_role_opens_the_team(client, manager):
    client.force_login(manager)
    assert client.get("/team/").status_code == 403
