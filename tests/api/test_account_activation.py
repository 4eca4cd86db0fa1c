"""Activating a new account by the link mailed to its address (FORUM_SIGNUP_ACTIVATION=email, Discourse's default), or
by staff alone (staff): PUT /u/activate-account/{token}, the page the link opens, and POST
/u/action/send_activation_email for a new link."""
import re

import pytest
from sqlalchemy import select

from forum import ConfigurationError, create_app
from forum.database import write_unit
from forum.extensions import db
from forum.models import AuditLogEntry, EmailToken, EmailTokenPurpose, User
from forum.services import email_tokens, users
from tests.api.test_session import csrf, sign_in, signed_in_username
from tests.api.test_users import NEW_ACCOUNT, browser_signup
from tests.conftest import wait_until

LINK = re.compile(r"http://\S+/u/activate-account/(\S+)")


def activation_links(user_id: int) -> list[EmailToken]:
    db.session.expire_all()
    return list(db.session.scalars(select(EmailToken).where(
        EmailToken.user_id == user_id, EmailToken.purpose == EmailTokenPurpose.ACTIVATION).order_by(EmailToken.id)))


def issued_link(user_id: int) -> str:
    user = db.session.get(User, user_id)
    with write_unit(db.session):
        return email_tokens.issue(user, EmailTokenPurpose.ACTIVATION, user.email)


def activate(client, token: str):
    return client.put(f"/u/activate-account/{token}.json", headers={"X-CSRF-Token": csrf(client)})


def resend(client, username: str, headers: dict | None = None):
    return client.post("/u/action/send_activation_email.json", json={"username": username},
                       headers=headers or {"X-CSRF-Token": csrf(client)})


@pytest.fixture
def staff_activation(app):
    app.config["SIGNUP_ACTIVATION"] = "staff"
    yield
    app.config["SIGNUP_ACTIVATION"] = "email"


def test_a_sign_up_is_mailed_a_link_that_activates_it_and_signs_its_owner_in(client):
    user_id = browser_signup(client, NEW_ACCOUNT).json["user_id"]
    (link,) = activation_links(user_id)
    assert (link.email, link.used_at) == ("sione@example.com", None)
    token = issued_link(user_id)  # as the mail's link: only the newest works
    response = activate(client, token)
    assert response.status_code == 200 and response.json == {"success": "OK"}
    assert db.session.get(User, user_id).active is True
    assert signed_in_username(client) == "sione_t"
    (entry,) = db.session.scalars(select(AuditLogEntry).where(AuditLogEntry.action == "user.activate"))
    assert entry.actor_id == user_id
    assert activate(client, token).status_code == 404  # once


def test_the_page_shows_the_account_and_its_button_activates_it(app, client):
    user_id = browser_signup(client, NEW_ACCOUNT).json["user_id"]
    token = issued_link(user_id)
    browser = app.test_client()
    page = browser.get(f"/u/activate-account/{token}")
    assert page.status_code == 200 and "<strong>sione_t</strong>" in page.get_data(as_text=True)
    assert db.session.get(User, user_id).active is False  # opening the link changes nothing
    authenticity_token = re.search(r'name="authenticity_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    done = browser.post(f"/u/activate-account/{token}", data={"authenticity_token": authenticity_token})
    assert done.status_code == 200 and "is active: sign in with it" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user_id).active is True
    assert browser.get(f"/u/activate-account/{token}").status_code == 404


def test_the_browser_that_signed_up_may_ask_for_a_new_link_and_no_other_may(app, client, moderator, auth_headers):
    user_id = browser_signup(client, NEW_ACCOUNT).json["user_id"]
    assert resend(client, "sione_t").status_code == 200
    other_browser = app.test_client()
    refused = resend(other_browser, "sione_t")
    assert refused.status_code == 403 and refused.json["error_type"] == "invalid_access"
    assert resend(client, "sione_t", headers=auth_headers(moderator)).status_code == 200  # staff: anyone's
    links = activation_links(user_id)
    assert len(links) == 3 and [link.used_at is None for link in links] == [False, False, True]
    assert resend(client, "nobody").status_code == 404


def test_a_browser_refused_sign_in_before_activation_may_ask_for_a_new_link(app, client):
    user_id = browser_signup(client, NEW_ACCOUNT).json["user_id"]
    elsewhere = app.test_client()
    refused = sign_in(elsewhere, "sione_t", NEW_ACCOUNT["password"])
    assert refused.status_code == 403
    assert refused.json == {"errors": ["Your account is suspended or not activated yet."], "error_type": "invalid_access",
                            "reason": "not_activated", "sent_to_email": "sione@example.com", "current_email": "sione@example.com"}
    assert resend(elsewhere, "sione@example.com").status_code == 200
    assert len(activation_links(user_id)) == 2
    guesser = app.test_client()
    assert sign_in(guesser, "sione_t", "not the password").status_code == 403
    assert resend(guesser, "sione_t").status_code == 403  # a wrong password earns no mail


def test_an_active_account_is_not_sent_a_link(client, auth_headers, moderator):
    user_id = browser_signup(client, NEW_ACCOUNT).json["user_id"]
    users.activate(moderator, user_id)
    response = resend(client, "sione_t")
    assert response.status_code == 409 and response.json["error_type"] == "conflict"


def test_an_account_staff_deactivated_is_not_activated_by_a_link(client, moderator):
    user_id = browser_signup(client, NEW_ACCOUNT).json["user_id"]
    token = issued_link(user_id)
    users.deactivate(moderator, user_id)
    assert activate(client, token).status_code == 404
    assert resend(client, "sione_t").status_code == 403
    fresh = issued_link(user_id)  # even a link issued since
    assert activate(client, fresh).status_code == 404
    assert db.session.get(User, user_id).active is False
    users.activate(moderator, user_id)
    assert db.session.get(User, user_id).deactivated_at is None
    assert sign_in(client, "sione_t", NEW_ACCOUNT["password"]).status_code == 200


def test_with_staff_activation_nothing_is_mailed(app, client, staff_activation):
    response = browser_signup(client, NEW_ACCOUNT)
    refused = sign_in(app.test_client(), "sione_t", NEW_ACCOUNT["password"])
    assert refused.json["reason"] == "not_activated" and "sent_to_email" not in refused.json
    assert response.json["message"] == "Your account has been created. A staff member will activate it; then you can log in."
    assert activation_links(response.json["user_id"]) == []
    refused = resend(client, "sione_t")
    assert refused.status_code == 403 and "Staff activate new accounts" in refused.json["errors"][0]


def test_an_account_an_admin_creates_active_gets_no_link(client, auth_headers, admin):
    response = client.post("/users.json", json={**NEW_ACCOUNT, "active": True}, headers=auth_headers(admin))
    assert response.json["active"] is True
    assert activation_links(response.json["user_id"]) == []


def test_an_unknown_activation_setting_refuses_to_start(app):
    with pytest.raises(ConfigurationError, match="FORUM_SIGNUP_ACTIVATION"):
        create_app({"DATABASE_URL": app.config["DATABASE_URL"], "SIGNUP_ACTIVATION": "both"})


def test_a_worker_mails_the_link_and_it_activates_the_account(client, worker, inbox, instance_path):
    browser_signup(client, {**NEW_ACCOUNT, "email": "sione.activation@example.org"})
    describe = lambda: (instance_path / "worker.log").read_text()[-3000:]  # noqa: E731
    (message,) = wait_until(lambda: inbox.to("sione.activation@example.org"), timeout=60, describe=describe)
    assert message["Subject"] == "Activate your account sione_t on forum"
    assert activate(client, LINK.search(message.get_content()).group(1)).status_code == 200
    assert users.find_by_username("sione_t").active is True
    assert worker.poll() is None, "the worker died"


def test_staff_may_deactivate_an_account_waiting_for_activation_and_say_so(client, auth_headers, moderator):
    user_id = browser_signup(client, NEW_ACCOUNT).json["user_id"]
    assert client.get(f"/admin/users/{user_id}.json", headers=auth_headers(moderator)).json["can_deactivate"] is True
    assert client.put(f"/admin/users/{user_id}/deactivate.json", headers=auth_headers(moderator)).status_code == 200
    detail = client.get(f"/admin/users/{user_id}.json", headers=auth_headers(moderator)).json
    assert (detail["can_deactivate"], detail["can_activate"]) == (False, True)
    assert resend(client, "sione_t").status_code == 403


def test_two_sign_ups_for_one_name_at_once_make_one_account(app):
    from forum.services import activations
    from forum.services.errors import ValidationFailed
    from tests.conftest import run_together

    def sign_up(start, email):
        start()
        activations.sign_up(None, username="sione_t", email=email, password="a long enough password", name=None, active=False)

    errors = run_together(app, sign_up, [("first@example.org",), ("second@example.org",)])
    assert len(errors) == 1 and isinstance(errors[0], ValidationFailed), errors
    assert db.session.query(User).filter(User.username_lower == "sione_t").count() == 1


def test_a_link_of_an_account_already_active_signs_no_one_in(app, client, moderator):
    user_id = browser_signup(client, NEW_ACCOUNT).json["user_id"]
    token = issued_link(user_id)
    users.activate(moderator, user_id)
    stranger = app.test_client()
    assert activate(stranger, token).status_code == 404
    assert signed_in_username(stranger) is None


def test_links_stop_working_once_staff_activate_every_account(client, staff_activation):
    user_id = browser_signup(client, NEW_ACCOUNT).json["user_id"]
    assert activate(client, issued_link(user_id)).status_code == 404
    assert db.session.get(User, user_id).active is False
