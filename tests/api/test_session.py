"""Signing in and out with the session cookie and CSRF token, API keys, and the login rate limits."""
import contextlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from forum import create_app
from forum.database import write_unit
from forum.extensions import db, limiter
from forum.models import Role, User, UserAuthToken
from forum.models.base import utcnow
from forum.services import authentication, sessions, users

PASSWORD = "correct horse battery"  # make_user's default
NEW_SIGNUP = {"username": "newcomer", "email": "newcomer@example.com", "password": "a long enough password"}
SESSION_COOKIE = "session"


def csrf(client) -> str:
    return client.get("/session/csrf.json").json["csrf"]


def sign_in(client, login: str, password: str = PASSWORD, *, as_json: bool = False, **request_options):
    """POST /session.json as a browser does: with the session's CSRF token."""
    body = {"login": login, "password": password}
    headers = {"X-CSRF-Token": csrf(client), **request_options.pop("headers", {})}
    if as_json:
        return client.post("/session.json", json=body, headers=headers, **request_options)
    return client.post("/session.json", data=body, headers=headers, **request_options)


def signed_in_username(client) -> str | None:
    response = client.get("/session/current.json")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.json
    return response.json["current_user"]["username"]


def session_cookie(client) -> str:
    return client.get_cookie(SESSION_COOKIE).value


def client_with_cookie(app, value: str):
    """A fresh client (another browser, or an attacker) replaying a copied session cookie."""
    other = app.test_client()
    other.set_cookie(SESSION_COOKIE, value)
    return other


def live_session_count(user: User) -> int:
    return len(sessions.live_sessions(user))


# CSRF token


def test_csrf_token_is_stable_within_a_session_and_differs_between_sessions(app, client):
    token = csrf(client)
    assert isinstance(token, str) and len(token) >= 32
    assert csrf(client) == token
    assert csrf(app.test_client()) != token


def test_signup_challenge_is_stable_within_a_session(client):
    first = client.get("/session/hp.json").json
    assert set(first) == {"value", "challenge"} and first["value"] != first["challenge"]
    assert client.get("/session/hp.json").json == first


# Signing in


@pytest.mark.parametrize("login", ["member", "MEMBER", "member@example.com", "Member@Example.COM"])
@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_sign_in_with_username_or_email_in_any_case(client, member, login, as_json):
    response = sign_in(client, login, as_json=as_json)
    assert response.status_code == 200, response.json
    assert response.json["user"]["username"] == "member" and response.json["user"]["id"] == member.id
    assert signed_in_username(client) == "member"


def test_session_cookie_is_http_only_and_same_site_lax(client, member):
    response = sign_in(client, "member")
    cookies = [value for value in response.headers.getlist("Set-Cookie") if value.startswith(f"{SESSION_COOKIE}=")]
    assert len(cookies) == 1
    attributes = {part.strip().lower() for part in cookies[0].split(";")[1:]}
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


def test_signing_in_starts_a_new_session(app, client, member):
    token_before = csrf(client)
    cookie_before = session_cookie(client)
    assert sign_in(client, "member").status_code == 200
    assert session_cookie(client) != cookie_before
    assert csrf(client) != token_before  # nothing of the anonymous session carries over
    assert signed_in_username(client_with_cookie(app, cookie_before)) is None

    other_browser = app.test_client()
    assert sign_in(other_browser, "member").status_code == 200
    assert session_cookie(other_browser) != session_cookie(client)
    assert live_session_count(member) == 2
    assert signed_in_username(client) == signed_in_username(other_browser) == "member"


def test_a_write_with_the_cookie_but_without_the_csrf_token_is_refused(client, member):
    assert sign_in(client, "member").status_code == 200
    for headers in ({}, {"X-CSRF-Token": "not-the-token"}):
        response = client.delete("/session/member.json", headers=headers)
        assert response.status_code == 403
        assert response.json == {"errors": ["BAD CSRF"], "error_type": "invalid_access"}
    assert signed_in_username(client) == "member"
    assert live_session_count(member) == 1


@pytest.mark.parametrize(
    "login, password",
    [("member", "wrong password!"), ("nobody", PASSWORD), ("member@example.org", PASSWORD)],
)
def test_wrong_credentials_are_refused_and_open_no_session(client, member, login, password):
    response = sign_in(client, login, password)
    assert response.status_code == 403
    assert response.json == {"errors": [authentication.INCORRECT_LOGIN], "error_type": "invalid_access"}
    assert signed_in_username(client) is None
    assert db.session.scalar(select(func.count()).select_from(UserAuthToken)) == 0


@pytest.mark.parametrize(
    "body",
    [{"login": "member"}, {"password": PASSWORD}, {"login": "", "password": PASSWORD}, {"login": "mem\x00ber", "password": PASSWORD}],
)
def test_missing_or_malformed_credentials_are_invalid_parameters(client, member, body):
    response = client.post("/session.json", data=body, headers={"X-CSRF-Token": csrf(client)})
    assert response.status_code == 400
    assert response.json["error_type"] == "invalid_parameters"
    assert signed_in_username(client) is None


def test_bots_without_a_password_cannot_sign_in(client, app):
    users.create_user("digest-bot", email=None, password=None, is_bot=True)
    assert sign_in(client, "digest-bot", "").status_code == 400  # an empty password is no password
    assert sign_in(client, "digest-bot", "anything at all").status_code == 403
    assert sign_in(client, "summary-bot", "").status_code == 400  # the migrations' bots too


def test_accounts_not_yet_activated_cannot_sign_in(client, app):
    users.create_user("newcomer", email="newcomer@example.com", password=PASSWORD, active=False)
    response = sign_in(client, "newcomer")
    assert response.status_code == 403
    assert response.json["errors"] == [authentication.NOT_ACTIVE]
    assert signed_in_username(client) is None


def test_suspended_users_cannot_sign_in(client, member, moderator):
    users.suspend(moderator, member.id, until="2099-01-01", reason="spam")
    response = sign_in(client, "member")
    assert response.status_code == 403
    assert response.json["errors"] == [authentication.NOT_ACTIVE]


# Signing out and ending sessions


def test_signing_out_ends_the_session_on_the_server(app, client, member):
    assert sign_in(client, "member").status_code == 200
    copied_cookie = session_cookie(client)
    response = client.delete("/session/member.json", headers={"X-CSRF-Token": csrf(client)})
    assert response.status_code == 200 and response.json == {"success": "OK"}
    assert signed_in_username(client) is None
    # The old cookie is still correctly signed, but the session it names has ended.
    assert signed_in_username(client_with_cookie(app, copied_cookie)) is None
    assert live_session_count(member) == 0


def test_signing_out_leaves_the_users_other_sessions_alone(app, client, member):
    other_browser = app.test_client()
    assert sign_in(client, "member").status_code == 200
    assert sign_in(other_browser, "member").status_code == 200
    assert client.delete("/session/member.json", headers={"X-CSRF-Token": csrf(client)}).status_code == 200
    assert signed_in_username(other_browser) == "member"


def test_nobody_signs_out_someone_else(client, member, make_user):
    make_user(Role.MEMBER, "other")
    assert sign_in(client, "member").status_code == 200
    response = client.delete("/session/other.json", headers={"X-CSRF-Token": csrf(client)})
    assert response.status_code == 403
    assert signed_in_username(client) == "member"


def test_signing_out_anonymously_is_refused(client):
    response = client.delete("/session/member.json", headers={"X-CSRF-Token": csrf(client)})
    assert response.status_code == 403


def test_a_suspension_ends_the_users_sessions(app, client, member, moderator):
    assert sign_in(client, "member").status_code == 200
    copied_cookie = session_cookie(client)
    users.suspend(moderator, member.id, until="2099-01-01", reason="spam")
    assert signed_in_username(client) is None
    assert live_session_count(member) == 0
    users.unsuspend(moderator, member.id)
    assert signed_in_username(client_with_cookie(app, copied_cookie)) is None  # ended, not merely paused


def test_a_deactivated_users_session_authenticates_nobody(client, member):
    assert sign_in(client, "member").status_code == 200
    with write_unit(db.session):
        db.session.execute(update(User).where(User.id == member.id).values(active=False))
    assert signed_in_username(client) is None


def test_sessions_expire_after_the_maximum_session_age(client, member):
    assert sign_in(client, "member").status_code == 200
    with write_unit(db.session):
        db.session.execute(
            update(UserAuthToken).values(created_at=utcnow() - sessions.MAX_SESSION_AGE - timedelta(minutes=1))
        )
    assert signed_in_username(client) is None


def test_the_current_user_is_not_found_without_a_session(client):
    response = client.get("/session/current.json")
    assert response.status_code == 404
    assert response.json["error_type"] == "not_found"


# API keys


def api_headers(key: str, username: str | None) -> dict:
    return {"Api-Key": key, **({"Api-Username": username} if username else {})}


def acting_as(client, headers: dict):
    return client.get("/session/current.json", headers=headers)


def test_a_user_key_acts_as_its_own_user(client, member):
    _, key = users.create_api_key(member, created_by=member)
    for username in ("member", "MEMBER", None):
        response = acting_as(client, api_headers(key, username))
        assert response.status_code == 200
        assert response.json["current_user"]["username"] == "member"


def test_a_user_key_cannot_act_as_another_user(client, member, admin):
    _, key = users.create_api_key(member, created_by=member)
    response = acting_as(client, api_headers(key, "admin"))
    assert response.status_code == 403
    assert response.json == {"errors": [authentication.INVALID_KEY], "error_type": "invalid_access"}


def test_an_all_users_key_acts_as_any_user_named(client, admin, member, moderator):
    _, key = users.create_api_key(None, created_by=admin)
    for user in (admin, member, moderator):
        response = acting_as(client, api_headers(key, user.username))
        assert response.status_code == 200
        assert response.json["current_user"]["id"] == user.id


@pytest.mark.parametrize("username", [None, "nobody"])
def test_an_all_users_key_needs_an_existing_username(client, admin, username):
    _, key = users.create_api_key(None, created_by=admin)
    assert acting_as(client, api_headers(key, username)).status_code == 403


def test_an_unknown_key_is_refused(client, member):
    assert acting_as(client, api_headers("0" * 64, "member")).status_code == 403


def test_a_revoked_key_is_refused(client, member):
    api_key, key = users.create_api_key(member, created_by=member)
    assert acting_as(client, api_headers(key, "member")).status_code == 200
    users.revoke_api_key(api_key, revoked_by=member)
    response = acting_as(client, api_headers(key, "member"))
    assert response.status_code == 403
    assert response.json["error_type"] == "invalid_access"


def test_a_suspended_users_keys_are_refused(client, admin, member, moderator):
    _, own_key = users.create_api_key(member, created_by=member)
    _, all_users_key = users.create_api_key(None, created_by=admin)
    users.suspend(moderator, member.id, until="2099-01-01", reason="spam")
    assert acting_as(client, api_headers(own_key, "member")).status_code == 403
    assert acting_as(client, api_headers(all_users_key, "member")).status_code == 403
    users.unsuspend(moderator, member.id)
    assert acting_as(client, api_headers(own_key, "member")).status_code == 200


def test_writes_with_an_api_key_need_no_csrf_token(client, member):
    _, key = users.create_api_key(member, created_by=member)
    response = client.delete("/session/member.json", headers=api_headers(key, "member"))
    assert response.status_code == 200 and response.json == {"success": "OK"}


# Login rate limits. Flask-Limiter's limiter is one object per process: an app made with the limits
# switched on reconfigures it, so the fixture hands it back to the suite's app (limits off) afterwards.


@contextlib.contextmanager
def limits_on(app, **config):
    """A client of an app like the suite's with the login limits on (and ``config``)."""
    # Flask-Limiter takes the default limits from the first app it is set up for with limits on, and keeps them for
    # the process: each limited app here starts without any, so that its own RATELIMIT_DEFAULT applies.
    limiter.limit_manager._default_limits = []
    limited_app = create_app(
        {
            "DATABASE_URL": app.config["DATABASE_URL"],
            "BROKER_URL": app.config["BROKER_URL"],
            "BROKER_TRANSPORT_OPTIONS": app.config["BROKER_TRANSPORT_OPTIONS"],
            "RATELIMIT_ENABLED": True,
            "LOGIN_RATE_LIMIT_PER_ACCOUNT": "3 per minute",
            "LOGIN_RATE_LIMIT_PER_IP": "5 per minute",
            **config,
        }
    )
    try:
        yield limited_app.test_client()
    finally:
        limiter.limit_manager._default_limits = []
        limiter.init_app(app)
        # Flask-Limiter keeps "storage unreachable" across init_app: later apps would count in its in-memory
        # fallback instead of their own storage.
        limiter._storage_dead = False
        assert not limiter.enabled
        with limited_app.app_context():
            db.engine.dispose()
        app.extensions["celery"].set_current()


@pytest.fixture
def limited_client(app):
    with limits_on(app) as client:
        yield client


@pytest.fixture
def client_limited_while_redis_is_silent(app, silent_redis):
    with limits_on(app, RATELIMIT_STORAGE_URI=silent_redis.url) as client:
        yield client


def from_ip(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def assert_rate_limited(response) -> None:
    assert response.status_code == 429
    body = response.json
    assert body["error_type"] == "rate_limit" and body["errors"]
    wait = body["extras"]["wait_seconds"]
    assert isinstance(wait, int) and 1 <= wait <= 61  # a minute's window; Flask-Limiter rounds its end up a second
    # Flask-Limiter rewrites the handler's Retry-After, rounding down: it may say one second less.
    assert 0 <= wait - int(response.headers["Retry-After"]) <= 1


def test_the_fourth_login_attempt_for_one_account_is_rate_limited(limited_client, member):
    for _ in range(3):
        assert sign_in(limited_client, "member", "wrong password!", **from_ip("10.0.0.1")).status_code == 403
    assert_rate_limited(sign_in(limited_client, "member", PASSWORD, **from_ip("10.0.0.1")))
    # The limit is the account's, whatever the address or the case of the name ...
    assert_rate_limited(sign_in(limited_client, "MEMBER", PASSWORD, **from_ip("10.0.0.2")))
    # ... and other accounts are not affected.
    assert sign_in(limited_client, "nobody", PASSWORD, **from_ip("10.0.0.1")).status_code == 403


def test_the_account_limit_holds_for_the_account_however_the_attempt_names_it(limited_client, member):
    """By its email address as by its username, and as the first of a list (which the sign-in reads): before, each
    list counted apart from the name it signed in as, so an account's limit could be passed without end."""
    for login in ("member", member.email.upper(), "Member"):
        assert sign_in(limited_client, login, "wrong password!", **from_ip("10.0.0.5")).status_code == 403
    headers = {"X-CSRF-Token": csrf(limited_client)}
    for second in ("one", "two"):
        response = limited_client.post("/session.json", json={"login": ["member", second], "password": PASSWORD},
                                       headers=headers, **from_ip("10.0.0.6"))
        assert_rate_limited(response)


@pytest.mark.parametrize("cookie", [None, "remember_token"])
def test_a_bad_api_key_does_not_stand_in_for_the_csrf_token(client, member, cookie):
    """The header alone switched the CSRF check off, and a sign-in never asks who the caller is: a page elsewhere
    could sign a browser in to its own account. With Flask-Login's remember cookie, the key was not even read."""
    if cookie:
        client.set_cookie(cookie, "x")
    for path, body in (("/session.json", {"login": "member", "password": PASSWORD}), ("/users.json", NEW_SIGNUP)):
        response = client.post(path, data=body, headers={"Api-Key": "garbage", "Api-Username": "member"})
        assert response.status_code == 403 and response.json["error_type"] == "invalid_access", (path, response.json)
    assert signed_in_username(client) is None and users.find_by_username(NEW_SIGNUP["username"]) is None


def test_login_attempts_from_one_address_are_rate_limited(limited_client, member):
    for number in range(5):
        response = sign_in(limited_client, f"guess{number}", PASSWORD, **from_ip("10.0.0.3"))
        assert response.status_code == 403
    assert_rate_limited(sign_in(limited_client, "member", PASSWORD, **from_ip("10.0.0.3")))
    response = sign_in(limited_client, "member", PASSWORD, **from_ip("10.0.0.4"))
    assert response.status_code == 200


def test_with_its_redis_silent_the_limits_hold_in_memory_and_nothing_fails(client_limited_while_redis_is_silent, member):
    client = client_limited_while_redis_is_silent
    for _ in range(3):
        assert sign_in(client, "member", "wrong password!", **from_ip("10.0.0.5")).status_code == 403
    assert_rate_limited(sign_in(client, "member", PASSWORD, **from_ip("10.0.0.5")))
    assert client.get("/latest.json").status_code == 200


def through_proxy(forwarded_for: str) -> dict:
    """A request as a reverse proxy on this machine passes it on: the proxy appends the client's address."""
    return {"environ_base": {"REMOTE_ADDR": "127.0.0.1"}, "headers": {"X-Forwarded-For": forwarded_for}}


def test_behind_a_trusted_proxy_each_client_is_limited_by_its_own_address(app, member):
    with limits_on(app, TRUSTED_PROXIES=1) as client:
        for number in range(5):
            # The leftmost entry is the client's to write: only the one the proxy appended counts.
            assert sign_in(client, f"guess{number}", PASSWORD, **through_proxy(f"203.0.113.{number}, 10.0.0.7")).status_code == 403
        assert_rate_limited(sign_in(client, "member", PASSWORD, **through_proxy("10.0.0.7")))
        # Another client behind the same proxy is not.
        assert sign_in(client, "member", PASSWORD, **through_proxy("10.0.0.8")).status_code == 200


def test_with_no_trusted_proxy_a_forged_forwarded_address_changes_nothing(limited_client, member):
    for number in range(5):
        response = sign_in(limited_client, f"guess{number}", PASSWORD, **from_ip("10.0.0.9"), headers={"X-Forwarded-For": f"203.0.113.{number}"})
        assert response.status_code == 403
    assert_rate_limited(sign_in(limited_client, "member", PASSWORD, **from_ip("10.0.0.9"), headers={"X-Forwarded-For": "203.0.113.99"}))


@pytest.mark.parametrize(
    "body, status", [(["member"], 400), ({"login": 5, "password": PASSWORD}, 403), ("member", 400)]
)
def test_malformed_sign_ins_are_refused_cleanly_with_the_limits_on(limited_client, member, body, status):
    response = limited_client.post("/session.json", json=body, headers={"X-CSRF-Token": csrf(limited_client)})
    assert response.status_code == status
    assert response.json["error_type"] in ("invalid_parameters", "invalid_access")


def test_requests_with_a_bad_api_key_count_against_the_address(app):
    """Refused before they were counted, bad keys could be tried without limit."""
    with limits_on(app, RATELIMIT_DEFAULT="2 per minute") as limited:
        statuses = [limited.get("/latest.json", headers={"Api-Key": f"guess-{n}", "Api-Username": "system"}).status_code for n in range(3)]
    assert statuses == [403, 403, 429]
