"""Who may open the call-centre pages and touch their rows (contacts.views.common, customers.access)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts.models import CallTask
from tests import factories
from tests.contacts.calls.helpers import (
    fresh_cache,  # noqa: F401 - autouse: the idle-claim sweep starts unthrottled
)
from tests.contacts.factories import make_call_task

pytestmark = pytest.mark.django_db


def test_an_agent_gets_404_on_another_dealerships_task(client, moscow, other_agent):
    task = make_call_task(moscow)
    client.force_login(other_agent)
    assert client.get(reverse("contacts:call", args=[task.pk])).status_code == 404
    assert client.post(reverse("contacts:outcome", args=[task.pk]), {"outcome": "reached"}).status_code == 404
    assert client.post(reverse("contacts:release", args=[task.pk])).status_code == 404
    assert CallTask.objects.get(pk=task.pk).status == "open"


@pytest.mark.parametrize(
    ("role", "name", "method", "args"),
    [
        ("agent", "contacts:floor", "get", []),
        ("agent", "contacts:capacity", "post", ["dealership"]),
        ("agent", "contacts:reassign", "post", ["task"]),
        ("agent", "contacts:inbox", "get", []),
        ("sales", "contacts:queue", "get", []),
        ("sales", "contacts:next", "post", []),
        ("manager", "contacts:queue", "get", []),
    ],
)
def test_a_page_of_another_role_is_403(client, moscow, role, name, method, args):
    user = factories.make_user("someone", role, dealerships=(moscow,))
    task = make_call_task(moscow)
    values = {"dealership": moscow.pk, "task": task.pk}
    client.force_login(user)
    response = getattr(client, method)(reverse(name, args=[values[a] for a in args]))
    assert response.status_code == 403


def test_an_agent_never_reaches_the_admin(client, agent):
    client.force_login(agent)
    assert client.get("/admin/").status_code != 200
