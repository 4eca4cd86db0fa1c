"""Forgotten passwords: Discourse's POST /session/forgot_password and PUT /users/password-reset/{token}, the page the
mailed link opens, and the mail itself, sent by a real worker to a real SMTP server."""
import re
import smtplib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.database import write_unit
from forum.extensions import db
from forum.extensions import mail as mail_extension
from forum.models import AuditLogEntry, EmailToken, EmailTokenPurpose, User
from forum.models.base import utcnow
from forum.services import email_tokens, mail, password_resets, sessions, users
from tests.api.factories import set_columns
from tests.api.spec import assert_matches_spec
from tests.api.test_session import PASSWORD, csrf, from_ip, limits_on, signed_in_username
from tests.conftest import wait_until

NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"http://\S+/u/password-reset/(\S+)")


def forgot(client, login: str, **request_options):
    return client.post("/session/forgot_password.json", json={"login": login}, headers={"X-CSRF-Token": csrf(client)},
                       **request_options)


def reset(client, token: str, password: str = NEW_PASSWORD):
    return client.put(f"/users/password-reset/{token}.json", json={"password": password}, headers={"X-CSRF-Token": csrf(client)})


def issued_link(user: User) -> str:
    """A reset link for ``user`` as request_reset makes one, without waiting for the mail."""
    with write_unit(db.session):
        return email_tokens.issue(user, EmailTokenPurpose.PASSWORD_RESET, user.email)


def reset_tokens(user: User) -> list[EmailToken]:
    db.session.expire_all()
    return list(db.session.scalars(select(EmailToken).where(EmailToken.user_id == user.id).order_by(EmailToken.id)))


# Asking for a link


@pytest.mark.parametrize("login", ["member", "MEMBER", "member@example.com", "Member@Example.COM"])
def test_a_member_named_by_username_or_address_in_any_case_is_found_and_gets_a_link(client, member, login):
    response = forgot(client, login)
    assert response.status_code == 200
    assert response.json == {"success": "OK", "user_found": True}
    assert_matches_spec(response, "post", "/session/forgot_password.json")
    (token,) = reset_tokens(member)
    assert (token.purpose, token.email, token.used_at) == (EmailTokenPurpose.PASSWORD_RESET, "member@example.com", None)
    assert timedelta(hours=47) < token.expires_at - utcnow() <= timedelta(hours=48)


def test_nobody_bots_and_anonymized_accounts_get_no_link(client, member, moderator):
    users.anonymize(moderator, member.id)
    anonymized = db.session.get(User, member.id)
    for login in ("nobody", "nobody@example.com", "tactics-bot", "system", anonymized.username, anonymized.email):
        assert forgot(client, login).json == {"success": "OK", "user_found": False}, login
    assert db.session.scalar(select(func.count()).select_from(EmailToken)) == 0


def test_a_request_without_a_login_is_refused(client):
    response = client.post("/session/forgot_password.json", json={}, headers={"X-CSRF-Token": csrf(client)})
    assert response.status_code == 400
    assert response.json["error_type"] == "invalid_parameters"


def test_a_browser_must_send_the_csrf_token(client, member):
    response = client.post("/session/forgot_password.json", json={"login": "member"})
    assert response.status_code == 403
    assert reset_tokens(member) == []


def test_only_the_newest_link_works(client, member):
    first, second = issued_link(member), issued_link(member)
    assert reset(client, first).status_code == 404
    assert reset(client, second).status_code == 200


def test_asking_is_rate_limited_per_account_and_per_address(app, member, make_user):
    other = make_user(username="other")
    with limits_on(app, FORGOT_PASSWORD_RATE_LIMIT_PER_ACCOUNT="2 per hour", FORGOT_PASSWORD_RATE_LIMIT_PER_IP="4 per hour") as limited:
        assert forgot(limited, "member", **from_ip("10.0.1.1")).status_code == 200
        assert forgot(limited, "MEMBER@example.com", **from_ip("10.0.1.2")).status_code == 200
        assert_rate_limited_hourly(forgot(limited, "member", **from_ip("10.0.1.3")))
        assert forgot(limited, "other", **from_ip("10.0.1.1")).status_code == 200
        assert forgot(limited, "nobody", **from_ip("10.0.1.1")).status_code == 200
        assert forgot(limited, "nobody-else", **from_ip("10.0.1.1")).status_code == 200
        assert_rate_limited_hourly(forgot(limited, "someone", **from_ip("10.0.1.1")))
    assert len(reset_tokens(member)) == 2 and len(reset_tokens(other)) == 1


def assert_rate_limited_hourly(response) -> None:
    assert response.status_code == 429
    assert response.json["error_type"] == "rate_limit"
    assert 3500 <= response.json["extras"]["wait_seconds"] <= 3601


# Using the link


def test_the_link_sets_the_password_ends_every_session_and_signs_the_owner_in(app, client, member):
    old_session = sessions.open_session(member, client_ip=None, user_agent=None)
    token = issued_link(member)
    response = reset(client, token)
    assert response.status_code == 200
    assert response.json == {"success": True, "message": "Your password was changed.", "requires_approval": False, "redirect_to": "/"}
    assert signed_in_username(client) == "member"
    assert sessions.find_live(old_session) is None
    assert users.authenticate("member", PASSWORD) is None
    assert users.authenticate("member", NEW_PASSWORD).id == member.id
    entry = db.session.scalars(select(AuditLogEntry).where(AuditLogEntry.action == "user.set_password")).one()
    assert (entry.actor_id, entry.subject_type, entry.subject_id) == (member.id, "user", member.id)
    again = reset(app.test_client(), token, "yet another passphrase")
    assert again.status_code == 404
    assert again.json["success"] is False and again.json["error_type"] == "not_found"
    assert users.authenticate("member", NEW_PASSWORD) is not None


def test_a_password_the_rules_refuse_changes_nothing_and_the_link_still_works(client, member):
    token = issued_link(member)
    response = reset(client, token, "short")
    assert response.status_code == 422
    assert response.json == {"success": False, "message": "Password must be at least 10 characters.",
                             "errors": ["Password must be at least 10 characters."], "error_type": "invalid_record"}
    assert signed_in_username(client) is None
    assert users.authenticate("member", PASSWORD) is not None
    assert reset_tokens(member)[0].used_at is None
    assert reset(client, token, "member@example.com").status_code == 422  # the address, as the sign-up rules say
    assert reset(client, token).status_code == 200


def test_an_expired_link_a_made_up_one_and_one_for_an_old_address_do_not_work(client, member, make_user):
    expired = issued_link(member)
    set_columns(EmailToken, reset_tokens(member)[0].id, expires_at=utcnow() - timedelta(seconds=1))
    assert reset(client, expired).status_code == 404
    assert reset(client, "not-a-token").status_code == 404
    other = make_user(username="other")
    moved = issued_link(other)
    set_columns(User, other.id, email="other@new.example.com")
    response = reset(client, moved)
    assert response.status_code == 404
    assert users.authenticate("other", NEW_PASSWORD) is None


def test_an_account_waiting_for_activation_by_mail_is_activated_by_the_reset(client, member):
    set_columns(User, member.id, active=False)
    response = reset(client, issued_link(member))
    assert response.status_code == 200 and response.json["requires_approval"] is False  # the link proved the address
    assert signed_in_username(client) == "member"


@pytest.mark.parametrize("closed_by", ["staff activation", "a deactivation"])
def test_an_account_staff_must_activate_gets_its_password_but_is_not_signed_in(app, client, member, moderator, closed_by):
    if closed_by == "a deactivation":
        users.deactivate(moderator, member.id)
    else:
        set_columns(User, member.id, active=False)
        app.config["SIGNUP_ACTIVATION"] = "staff"
    try:
        response = reset(client, issued_link(db.session.get(User, member.id)))
    finally:
        app.config["SIGNUP_ACTIVATION"] = "email"
    assert response.status_code == 200
    assert response.json["requires_approval"] is True
    assert signed_in_username(client) is None
    assert users.authenticate("member", NEW_PASSWORD) is not None


def test_two_resets_with_one_link_at_once_set_one_password(app, member):
    from tests.conftest import run_together

    token = issued_link(member)
    user_id = member.id

    def use(start, password):
        start()
        password_resets.reset_password(token, password)

    errors = run_together(app, use, [("first passphrase here",), ("second passphrase here",)])
    assert len(errors) == 1 and errors[0].status_code == 404
    user = db.session.get(User, user_id)
    assert [users.check_password(user, p) for p in ("first passphrase here", "second passphrase here")].count(True) == 1


# The page the link opens


def test_the_page_shows_a_form_that_sets_the_password(client, member):
    token = issued_link(member)
    page = client.get(f"/u/password-reset/{token}")
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    assert "form-action 'self'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assert "<strong>member</strong>" in html
    authenticity_token = re.search(r'name="authenticity_token" value="([^"]+)"', html).group(1)
    short = client.post(f"/u/password-reset/{token}", data={"password": "short", "authenticity_token": authenticity_token})
    assert short.status_code == 422 and "Password must be at least 10 characters." in short.get_data(as_text=True)
    done = client.post(f"/u/password-reset/{token}", data={"password": NEW_PASSWORD, "authenticity_token": authenticity_token})
    assert done.status_code == 200 and "Your password was changed." in done.get_data(as_text=True)
    assert users.authenticate("member", NEW_PASSWORD) is not None
    assert client.get(f"/u/password-reset/{token}").status_code == 404


def test_the_pages_form_needs_its_csrf_token(client, member):
    token = issued_link(member)
    client.get(f"/u/password-reset/{token}")
    response = client.post(f"/u/password-reset/{token}", data={"password": NEW_PASSWORD})
    assert response.status_code == 403
    assert users.authenticate("member", NEW_PASSWORD) is None


def test_a_dead_links_page_says_so(client):
    page = client.get("/u/password-reset/not-a-token")
    assert page.status_code == 404
    assert "This link has expired" in page.get_data(as_text=True) and "<form" not in page.get_data(as_text=True)


# The mail


@pytest.mark.parametrize("log_unsent", [True, False], ids=["make run: the message is logged", "production: only that it was not sent"])
def test_without_a_mail_server_nothing_is_sent_and_the_log_says_so(app, caplog, log_unsent):
    assert app.config["MAIL_SERVER"] is None
    app.config["MAIL_LOG_UNSENT"] = log_unsent
    try:
        mail.deliver({"to": "member@example.com", "subject": "Set a new password", "body": "Open http://x/u/password-reset/abc\n"})
    finally:
        app.config["MAIL_LOG_UNSENT"] = True
    assert "No MAIL_SERVER is set" in caplog.text and "member@example.com" in caplog.text
    assert ("http://x/u/password-reset/abc" in caplog.text) is log_unsent


@pytest.fixture
def mailing_app(app, smtp_server):
    """The suite's app sending to the test's SMTP server itself (Flask-Mail reads its settings when set up)."""
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server[1])
    mail_extension.init_app(app)
    yield app
    app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
    mail_extension.init_app(app)


def test_a_mailbox_refused_for_good_is_logged_and_one_refused_for_now_is_tried_again(mailing_app, inbox, caplog):
    message = {"subject": "Set a new password", "body": "Open the link.\n"}
    mail.deliver({**message, "to": "nobody" + inbox.REFUSED_FOR_GOOD})
    assert "refused a message to nobody@refused.example" in caplog.text and "550" in caplog.text
    with pytest.raises(smtplib.SMTPRecipientsRefused):  # an OSError: the task's retries take it
        mail.deliver({**message, "to": "someone" + inbox.REFUSED_FOR_NOW})
    mail.deliver({**message, "to": "someone@ngo.example.org"})
    assert [m["Subject"] for m in inbox.to("someone@ngo.example.org")] == ["Set a new password"]


def test_a_worker_mails_the_link_by_smtp_and_the_link_works(app, client, make_user, worker, inbox, instance_path):
    asker = make_user(username="forgetful")
    assert forgot(client, "forgetful@example.com").json["user_found"] is True
    (message,) = wait_until(lambda: inbox.to("forgetful@example.com"), timeout=60,
                            describe=lambda: (instance_path / "worker.log").read_text()[-3000:])
    assert message["Subject"] == "Set a new password for forgetful on forum"
    assert message["From"] == "forum <noreply@localhost>"
    token = LINK.search(message.get_content()).group(1)
    assert reset(client, token).status_code == 200
    assert users.authenticate("forgetful", NEW_PASSWORD).id == asker.id
    assert worker.poll() is None, "the worker died"


def test_discourses_own_client_paths(client, member, moderator):
    """Discourse's client checks a link with GET /u/password-reset/{token}.json, then PUTs the password there."""
    token = issued_link(member)
    checked = client.get(f"/u/password-reset/{token}.json")
    assert checked.status_code == 200 and checked.json["admin"] is False and checked.json["second_factor_required"] is False
    dead = client.get("/u/password-reset/not-a-token.json")
    assert dead.status_code == 404 and dead.json["error_type"] == "not_found"
    response = client.put(f"/u/password-reset/{token}.json", json={"password": NEW_PASSWORD}, headers={"X-CSRF-Token": csrf(client)})
    assert response.status_code == 200 and response.json["success"] is True
    assert users.authenticate("member", NEW_PASSWORD) is not None
