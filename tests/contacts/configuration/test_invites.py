"""Inviting a person by e-mail from the team page, through a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import email
import re
from email.message import Message

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import timezone

from tests import factories
from tests.contacts.channels.conftest import free_port
from tests.contacts.channels.conftest import smtp_server as smtp_server  # the fixture

pytestmark = pytest.mark.django_db
LINK = re.compile(r"https?://\S+/accounts/invite/\S+/\S+/")


@pytest.fixture
def admin(moscow):
    user = factories.make_user("ada", "admin", dealerships=(moscow,))
    user.first_name, user.last_name = "Ada", "Admin"
    user.save()
    return user


def mail_text(envelope) -> tuple[Message, str]:
    message = email.message_from_bytes(envelope.content)
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return message, part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def invite(client, moscow, follow=False, **changes):
    data = {"invite-email": "Olga.Smirnova@example.com", "invite-first_name": "Ольга", "invite-last_name": "Смирнова",
            "invite-language": "en", "invite-roles": ["agent"], "invite-dealerships": [moscow.pk]}
    data.update(changes)
    return client.post("/team/invite/", data, follow=follow)


def test_an_invited_person_gets_a_link_sets_a_password_and_logs_in(client, admin, moscow, smtp_server):
    # given
    client.force_login(admin)
    # when: the admin invites a person
    response = invite(client, moscow)
    # then: one e-mail through the SMTP server, with a link; the grid says invited, not yet accepted
    assert response.status_code == 302
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0].rcpt_tos == ["Olga.Smirnova@example.com"]
    message, text = mail_text(smtp_server.messages[0])
    assert message["Subject"] == "Your access to Dealer CLM"
    assert f"Ada Admin invites you to Dealer CLM ({moscow.name})." in text
    link = LINK.search(text).group(0)
    olga = User.objects.get(email="Olga.Smirnova@example.com")
    assert (olga.username, olga.has_usable_password(), [g.name for g in olga.groups.all()]) == (
        "olga.smirnova@example.com", False, ["agent"])
    assert list(olga.dealerships.all()) == [moscow]
    grid = client.get("/team/").content.decode()
    assert "invited, not yet accepted" in grid
    client.logout()
    # when: she follows the link and sets her password
    form_page = client.get(link, follow=True)
    assert "Set your password" in form_page.content.decode()
    set_password_url = form_page.redirect_chain[-1][0]
    done = client.post(set_password_url, {"new_password1": "a-long-new-password", "new_password2": "a-long-new-password"},
                       follow=True)
    assert "Your password is set" in done.content.decode()
    # then: she logs in with her e-mail and the new password
    logged_in = client.post("/accounts/login/", {"username": "olga.smirnova@example.com", "password": "a-long-new-password"})
    assert logged_in.status_code == 302 and logged_in.url == "/"
    client.force_login(admin)
    assert "invited, not yet accepted" not in client.get("/team/").content.decode()
    # and the link works only once
    client.logout()
    assert "This link does not work any more" in client.get(link, follow=True).content.decode()


def test_sending_again_gives_a_new_link_and_the_old_one_stops_working(client, admin, moscow, smtp_server):
    client.force_login(admin)
    invite(client, moscow)
    olga = User.objects.get(email="Olga.Smirnova@example.com")
    # when
    response = client.post(f"/team/{olga.pk}/resend/", follow=True)
    # then
    assert "Invitation sent again to Olga.Smirnova@example.com." in response.content.decode()
    assert len(smtp_server.messages) == 2
    old_link, new_link = (LINK.search(mail_text(m)[1]).group(0) for m in smtp_server.messages)
    client.logout()
    assert "This link does not work any more" in client.get(old_link, follow=True).content.decode()
    assert "Set your password" in client.get(new_link, follow=True).content.decode()


def test_an_invitation_expires_after_the_token_timeout(client, admin, moscow, smtp_server, settings):
    settings.PASSWORD_RESET_TIMEOUT = 3600
    client.force_login(admin)
    invite(client, moscow)
    link = LINK.search(mail_text(smtp_server.messages[0])[1]).group(0)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2), tick=False):
        assert "invitation expired" in client.get("/team/").content.decode()
        client.logout()
        assert "This link does not work any more" in client.get(link, follow=True).content.decode()


def test_the_invitation_is_written_in_the_language_chosen(client, admin, moscow, smtp_server):
    client.force_login(admin)
    invite(client, moscow, **{"invite-language": "ru"})
    message, text = mail_text(smtp_server.messages[0])
    assert "Задайте пароль" in text
    assert "доступ" in str(email.header.make_header(email.header.decode_header(message["Subject"])))


def test_a_taken_address_is_refused_in_words(client, admin, moscow, smtp_server):
    User.objects.filter(pk=factories.make_user("olga", "agent", dealerships=(moscow,)).pk).update(
        email="olga.smirnova@example.com")
    client.force_login(admin)
    response = invite(client, moscow)
    assert response.status_code == 200
    assert "already belongs to a person of the team" in response.content.decode()
    assert smtp_server.messages == []


def test_a_mail_server_that_is_down_keeps_the_invitation_to_send_again(client, admin, moscow, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    client.force_login(admin)
    response = invite(client, moscow, follow=True)
    assert "the e-mail could not be sent" in response.content.decode()
    assert "invited, not yet accepted" in response.content.decode()
