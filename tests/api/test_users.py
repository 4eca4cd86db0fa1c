"""Discourse's users endpoints: sign-up, a user's page and emails, the staff's user list, activation, suspension."""
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from forum.database import write_unit
from forum.extensions import db
from forum.models import (
    AuditLogEntry,
    Category,
    Group,
    Post,
    Role,
    Topic,
    TopicUser,
    User,
    category_groups,
    group_users,
)
from forum.models.base import utcnow
from forum.services import bots, posts, topics, users
from tests.api.conftest import recorded_statements
from tests.api.spec import assert_matches_spec
from tests.api.test_session import PASSWORD, csrf, sign_in, signed_in_username

NEW_ACCOUNT = {
    "name": "Sione Tuilagi",
    "username": "sione_t",
    "email": "Sione@Example.com",
    "password": "a long password here",
}


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def seeded_bots() -> set[str]:
    """The bots the migrations create: "system" (staff) and the two bots (members), which every list also shows."""
    return set(db.session.scalars(select(User.username).where(User.is_bot.is_(True))))


def audit_actions(action: str) -> list[AuditLogEntry]:
    return list(
        db.session.scalars(select(AuditLogEntry).where(AuditLogEntry.action == action).order_by(AuditLogEntry.id))
    )


def send(client, method: str, url: str, body: dict | None = None, *, as_json: bool = True, headers: dict | None = None):
    if body is None:
        return client.open(url, method=method, headers=headers)
    if as_json:
        return client.open(url, method=method, json=body, headers=headers)
    return client.open(url, method=method, data=body, headers=headers)


# Sign-up: POST /users.json


def browser_signup(client, body: dict, *, as_json: bool = False, answer_challenge: bool = True):
    """Sign up as Discourse's own web client does: CSRF token, and the answer to /session/hp's challenge."""
    challenge = client.get("/session/hp.json").json
    if answer_challenge:
        body = {**body, "password_confirmation": challenge["value"], "challenge": challenge["challenge"][::-1]}
    return send(client, "POST", "/users.json", body, as_json=as_json, headers={"X-CSRF-Token": csrf(client)})


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_a_browser_signup_creates_an_inactive_member(client, as_json):
    response = browser_signup(client, NEW_ACCOUNT, as_json=as_json)
    assert response.status_code == 200, response.json
    assert_matches_spec(response, "post", "/users.json")
    created = users.find_by_username("sione_t")
    assert response.json == {
        "success": True,
        "active": False,
        "message": "Almost done: we mailed an activation link to sione@example.com. Open it to activate your account.",
        "user_id": created.id,
    }
    assert (created.role, created.active, created.email, created.name) == (
        Role.MEMBER,
        False,
        "sione@example.com",
        "Sione Tuilagi",
    )
    assert users.check_password(created, NEW_ACCOUNT["password"])
    [entry] = audit_actions("user.create")
    assert entry.actor_id is None and entry.subject_id == created.id and entry.after["active"] is False
    assert sign_in(client, "sione_t", NEW_ACCOUNT["password"]).status_code == 403  # not activated yet


def test_staff_activate_a_signed_up_account(client, auth_headers, moderator):
    user_id = browser_signup(client, NEW_ACCOUNT).json["user_id"]
    response = client.put(f"/admin/users/{user_id}/activate.json", headers=auth_headers(moderator))
    assert response.status_code == 200
    assert_matches_spec(response, "put", "/admin/users/{id}/activate.json")
    assert response.json == {"success": "OK"}
    assert db.session.get(User, user_id).active
    [entry] = audit_actions("user.activate")
    assert (entry.actor_id, entry.subject_id, entry.before, entry.after) == (
        moderator.id,
        user_id,
        {"active": False},
        {"active": True},
    )
    assert sign_in(client, "sione_t", NEW_ACCOUNT["password"]).status_code == 200
    # Activating an active account changes nothing and records nothing.
    assert client.put(f"/admin/users/{user_id}/activate.json", headers=auth_headers(moderator)).status_code == 200
    assert len(audit_actions("user.activate")) == 1


def test_an_account_waiting_for_activation_has_a_page_for_staff_only(client, auth_headers, member, moderator):
    user_id = browser_signup(client, NEW_ACCOUNT).json["user_id"]
    for viewer in (None, member):
        response = client.get("/u/sione_t.json", headers=auth_headers(viewer))
        assert (response.status_code, response.json["error_type"]) == (404, "not_found")
    assert client.get("/u/sione_t.json", headers=auth_headers(moderator)).status_code == 200
    client.put(f"/admin/users/{user_id}/activate.json", headers=auth_headers(moderator))
    assert client.get("/u/sione_t.json").status_code == 200


def test_only_staff_activate_accounts(app, client, auth_headers, member, moderator):
    pending = users.create_user("pending", email="pending@example.com", password=PASSWORD, active=False)
    assert client.put(f"/admin/users/{pending.id}/activate.json", headers=auth_headers(member)).status_code == 403
    anonymous = client.put(f"/admin/users/{pending.id}/activate.json", headers={"X-CSRF-Token": csrf(client)})
    assert anonymous.status_code == 403
    assert not db.session.get(User, pending.id).active
    missing = client.put("/admin/users/999999/activate.json", headers=auth_headers(moderator))
    assert missing.status_code == 404 and missing.json["error_type"] == "not_found"


def test_a_browser_signup_needs_the_csrf_token(client):
    client.get("/session/hp.json")
    response = client.post("/users.json", data=NEW_ACCOUNT)
    assert response.status_code == 403 and response.json["errors"] == ["BAD CSRF"]
    assert users.find_by_username("sione_t") is None


def test_a_browser_signup_must_answer_the_challenge(client):
    unanswered = browser_signup(client, NEW_ACCOUNT, answer_challenge=False)
    assert unanswered.status_code == 403 and unanswered.json["error_type"] == "invalid_access"
    challenge = client.get("/session/hp.json").json
    wrong = {
        **NEW_ACCOUNT,
        "password_confirmation": challenge["value"],
        "challenge": challenge["challenge"],
    }  # not reversed
    response = client.post("/users.json", data=wrong, headers={"X-CSRF-Token": csrf(client)})
    assert response.status_code == 403
    assert users.find_by_username("sione_t") is None


@pytest.mark.parametrize("active", [True, "true"], ids=["json-boolean", "form-string"])
def test_an_admin_key_creates_an_active_account(client, auth_headers, admin, active):
    as_json = active is True
    response = send(
        client,
        "POST",
        "/users.json",
        {**NEW_ACCOUNT, "active": active, "approved": active},
        as_json=as_json,
        headers=auth_headers(admin),
    )
    assert response.status_code == 200, response.json
    assert_matches_spec(response, "post", "/users.json")
    assert response.json["success"] is True and response.json["active"] is True
    assert response.json["message"] == "Your account is activated and ready to use."
    assert db.session.get(User, response.json["user_id"]).active
    assert audit_actions("user.create")[-1].actor_id == admin.id
    assert signed_in_username(client) is None
    assert sign_in(client, "sione_t", NEW_ACCOUNT["password"]).status_code == 200


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.MEMBER])
def test_only_admins_create_active_accounts(client, auth_headers, make_user, role):
    caller = make_user(role)
    response = client.post("/users.json", json={**NEW_ACCOUNT, "active": True}, headers=auth_headers(caller))
    assert response.status_code == 200
    assert response.json["active"] is False
    assert not users.find_by_username("sione_t").active


def test_an_anonymous_request_for_an_active_account_is_not_honoured(client):
    response = browser_signup(client, {**NEW_ACCOUNT, "active": "true"})
    assert response.status_code == 200 and response.json["active"] is False


def test_role_fields_from_the_caller_are_ignored(client, auth_headers, admin):
    body = {
        **NEW_ACCOUNT,
        "active": True,
        "admin": True,
        "moderator": True,
        "staff": True,
        "role": "admin",
        "trust_level": 4,
    }
    response = client.post("/users.json", json=body, headers=auth_headers(admin))
    assert response.status_code == 200
    created = users.find_by_username("sione_t")
    assert created.role == Role.MEMBER and not created.is_staff


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"username": "member"}, "Username 'member' is already taken."),
        ({"username": "MEMBER"}, "Username 'MEMBER' is already taken."),
        ({"username": "a b"}, "Username must be 3 to 20 characters"),
        ({"username": None}, "Username must be 3 to 20 characters"),
        # Discourse's rules, and a whole match: "$" took a name ending in a newline, which lists show as "member".
        ({"username": "member\n"}, "Username must be 3 to 20 characters"),
        ({"username": "a..b"}, "Username must not have two of '_', '.' and '-' in a row."),
        ({"username": "a_-b"}, "Username must not have two of '_', '.' and '-' in a row."),
        ({"username": "boss.json"}, "Username must not end like a file name"),
        ({"username": "Support"}, "Username 'Support' is reserved."),
        ({"email": "sione@example.com\n"}, "is not a valid email address."),
        ({"email": "not-an-email"}, "'not-an-email' is not a valid email address."),
        ({"email": "Member@Example.com"}, "That email address is already in use."),
        ({"email": None}, "Email is required."),
        ({"email": "a" * 250 + "@example.com"}, "is not a valid email address."),
        ({"password": "short"}, "Password must be at least 10 characters."),
        ({"password": "x" * 201}, "Password must be at most 200 characters."),
        (
            {"username": "sione_tuilagi", "password": "SIONE_TUILAGI"},
            "Password is the same as your username. Please use a more secure password.",
        ),
        ({"password": "sione@example.com"}, "Password is the same as your email. Please use a more secure password."),
        ({"password": None}, "Password is required."),
        ({"name": "n" * 256}, "Name must be at most 255 characters."),
    ],
)
@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_invalid_signups_are_refused_and_nothing_is_stored(
    client, auth_headers, admin, member, changes, message, as_json
):
    body = {key: value for key, value in {**NEW_ACCOUNT, **changes}.items() if value is not None}
    headers = auth_headers(admin)
    users_before, audit_before = user_count(), len(audit_actions("user.create"))
    response = send(client, "POST", "/users.json", body, as_json=as_json, headers=headers)
    assert response.status_code == 422
    assert response.json["success"] is False and response.json["error_type"] == "invalid_record"
    assert any(message in error for error in response.json["errors"]), response.json
    assert message in response.json["message"]
    assert (user_count(), len(audit_actions("user.create"))) == (users_before, audit_before)


@pytest.mark.parametrize("changes", [{"name": "Sione\x00"}, {"email": "sione\x00@example.com"}])
@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_nul_characters_are_malformed_input(client, auth_headers, admin, changes, as_json):
    users_before = user_count()
    response = send(client, "POST", "/users.json", {**NEW_ACCOUNT, **changes}, as_json=as_json, headers=auth_headers(admin))
    assert response.status_code == 400 and response.json["error_type"] == "invalid_parameters"
    assert user_count() == users_before


def test_a_signup_reports_every_problem_at_once(client, auth_headers, admin):
    response = client.post("/users.json", json={"username": "x", "email": "nope"}, headers=auth_headers(admin))
    assert response.status_code == 422
    assert len(response.json["errors"]) == 3  # password, username, email


def test_a_malformed_active_flag_is_invalid(client, auth_headers, admin):
    response = client.post("/users.json", data={**NEW_ACCOUNT, "active": "perhaps"}, headers=auth_headers(admin))
    assert response.status_code == 400 and response.json["error_type"] == "invalid_parameters"
    assert users.find_by_username("sione_t") is None


def test_a_bad_api_key_is_refused_before_the_signup(client):
    response = client.post("/users.json", json=NEW_ACCOUNT, headers={"Api-Key": "0" * 64, "Api-Username": "system"})
    assert response.status_code == 403
    assert users.find_by_username("sione_t") is None


# A user's page: GET /u/{username}.json


@dataclass
class Forum:
    """A member ("author") who posts in a public category, a restricted one and an unlisted topic."""

    author: User
    insider: User  # in the group that may read the restricted category
    outsider: User
    moderator: User
    group: Group
    public_topic: Topic
    restricted_topic: Topic
    unlisted_topic: Topic
    last_public_post: Post


@pytest.fixture
def forum(app, make_user, moderator):
    author = make_user(Role.MEMBER, "author")
    insider, outsider = (make_user(Role.MEMBER, name) for name in ("insider", "outsider"))
    with write_unit(db.session):
        public = Category(name="Dialogues", slug="dialogues")
        restricted = Category(name="Organisers", slug="organisers", read_restricted=True)
        group = Group(name="organisers", full_name="Campaign organisers")
        db.session.add_all([public, restricted, group])
        db.session.flush()
        db.session.execute(category_groups.insert().values(category_id=restricted.id, group_id=group.id))
        db.session.execute(
            group_users.insert(), [{"group_id": group.id, "user_id": user.id} for user in (author, insider)]
        )
    public_topic = topics.create_topic(
        author, title="Training company staff on rights", raw="## Opening\n\nWhat worked for you?", category=public
    )
    posts.create_reply(insider, public_topic, raw="We ran a training for supplier managers.")
    last_public_post = posts.create_reply(author, public_topic, raw="Thanks, that is a useful example to keep.")
    deleted = posts.create_reply(author, public_topic, raw="An aside that the author later deleted.")
    posts.delete_post(author, deleted)
    restricted_topic = topics.create_topic(
        author,
        title="Planning the next carrotmob action",
        raw="Only organisers should read this plan.",
        category=restricted,
    )
    unlisted_topic = topics.create_topic(
        author,
        title="A draft the moderators unlisted",
        raw="This topic is reachable only by its link.",
        category=public,
    )
    topics.set_status(moderator, unlisted_topic, "visible", False)
    deleted_topic = topics.create_topic(
        author, title="A topic the author deleted later", raw="Nobody counts what was deleted here.", category=public
    )
    topics.delete_topic(author, deleted_topic)
    with write_unit(db.session):  # merge: authors already have a row for the topics they started
        db.session.merge(TopicUser(user_id=author.id, topic_id=public_topic.id, last_read_post_number=3, total_msecs_viewed=5_000))
        db.session.merge(TopicUser(user_id=author.id, topic_id=restricted_topic.id, last_read_post_number=1, total_msecs_viewed=7_000))
    return Forum(
        author, insider, outsider, moderator, group, public_topic, restricted_topic, unlisted_topic, last_public_post
    )


def test_a_users_page_matches_the_spec(client, forum):
    response = client.get("/u/author.json")
    assert response.status_code == 200
    assert_matches_spec(response, "get", "/u/{username}.json")
    page = response.json
    assert page["user_badges"] == []
    user = page["user"]
    assert (user["id"], user["username"], user["admin"], user["moderator"], user["trust_level"]) == (
        forum.author.id,
        "author",
        False,
        False,
        1,
    )
    assert user["name"] == ""  # the schema types name as a string only
    assert user["avatar_template"] == "/letter_avatar_proxy/v4/letter/a/8c91f0/{size}.png"
    assert user["created_at"].endswith("Z")


@pytest.mark.parametrize("path", ["/u/AUTHOR.json", "/u/author", "/users/author.json"])
def test_a_users_page_answers_on_every_path_whatever_the_case(client, forum, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.json["user"]["username"] == "author"


def test_an_unknown_user_is_not_found(client):
    response = client.get("/u/nobody.json")
    assert response.status_code == 404
    assert response.json == {"errors": ["There is no user named 'nobody'."], "error_type": "not_found"}
    assert client.get("/u/no%00body.json").status_code == 404  # no stored name can hold a NUL


# (viewer, topic_count, post_count, seconds read): the public topic (3 live posts by the author, one
# deleted), the restricted topic for the group and staff, the unlisted topic for staff only.
COUNT_CASES = [
    (None, 1, 2, 5),
    ("outsider", 1, 2, 5),
    ("insider", 2, 3, 12),
    ("author", 2, 3, 12),
    ("moderator", 3, 4, 12),
]


@pytest.mark.parametrize("viewer, topic_count, post_count, seconds_read", COUNT_CASES)
def test_counts_on_a_users_page_cover_only_what_the_viewer_may_see(
    client, auth_headers, forum, viewer, topic_count, post_count, seconds_read
):
    headers = auth_headers(getattr(forum, viewer)) if viewer else {}
    user = client.get("/u/author.json", headers=headers).json["user"]
    assert (user["topic_count"], user["post_count"], user["time_read"]) == (topic_count, post_count, seconds_read)


def test_the_last_post_time_does_not_reveal_restricted_posts(client, auth_headers, forum):
    last_public = client.get("/u/author.json").json["user"]["last_posted_at"]
    last_seen_by_staff = client.get("/u/author.json", headers=auth_headers(forum.moderator)).json["user"][
        "last_posted_at"
    ]
    assert last_public == forum.last_public_post.created_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assert last_seen_by_staff > last_public
    assert client.get("/u/outsider.json").json["user"]["last_posted_at"] is None


def test_others_do_not_see_a_users_email_sessions_or_groups(app, client, auth_headers, forum):
    assert sign_in(app.test_client(), "author").status_code == 200
    for headers in ({}, auth_headers(forum.outsider), auth_headers(forum.insider)):
        response = client.get("/u/author.json", headers=headers)
        assert "author@example.com" not in response.get_data(as_text=True)
        user = response.json["user"]
        assert user["user_auth_tokens"] == [] and user["groups"] == [] and user["group_users"] == []


def test_users_see_their_own_sessions_and_groups(client, forum):
    assert sign_in(client, "author").status_code == 200
    response = client.get("/u/author.json")
    assert_matches_spec(response, "get", "/u/{username}.json")
    user = response.json["user"]
    [session] = user["user_auth_tokens"]
    assert session["is_active"] is True and session["client_ip"] == "127.0.0.1"
    assert session["seen_at"] == session["created_at"]
    [group] = user["groups"]
    # As Discourse's BasicGroupSerializer: display_name is the name (a translated one only for automatic groups).
    assert (group["id"], group["name"], group["display_name"], group["full_name"], group["user_count"]) == (
        forum.group.id,
        "organisers",
        "organisers",
        "Campaign organisers",
        2,
    )
    assert user["group_users"] == [{"group_id": forum.group.id, "user_id": forum.author.id, "notification_level": 0}]


def test_staff_see_a_users_sessions_and_groups(app, client, auth_headers, forum):
    assert sign_in(app.test_client(), "author").status_code == 200
    response = client.get("/u/author.json", headers=auth_headers(forum.moderator))
    assert_matches_spec(response, "get", "/u/{username}.json")
    user = response.json["user"]
    [session] = user["user_auth_tokens"]
    assert session["is_active"] is False  # not the session of this request
    assert [group["name"] for group in user["groups"]] == ["organisers"]


def test_ended_sessions_are_not_listed(client, forum):
    assert sign_in(client, "author").status_code == 200
    assert client.delete("/session/author.json", headers={"X-CSRF-Token": csrf(client)}).status_code == 200
    assert sign_in(client, "author").status_code == 200
    assert len(client.get("/u/author.json").json["user"]["user_auth_tokens"]) == 1


def test_a_users_page_is_a_fixed_number_of_queries(client, auth_headers, forum, moderator):
    def count_queries(username: str) -> int:
        with recorded_statements() as statements:
            assert client.get(f"/u/{username}.json", headers=auth_headers(moderator)).status_code == 200
        return len(statements)

    auth_headers(moderator)  # create the key before counting
    for _ in range(2):
        assert sign_in(client, "author").status_code == 200
    count_queries("outsider")  # warm up: the caller's key and user are loaded once
    baseline = count_queries("outsider")  # no sessions, no groups
    assert count_queries("author") == baseline


# GET /u/{username}/emails.json


def test_users_see_their_own_email(client, auth_headers, forum):
    response = client.get("/u/author/emails.json", headers=auth_headers(forum.author))
    assert response.status_code == 200
    assert_matches_spec(response, "get", "/u/{username}/emails.json")
    assert response.json == {
        "email": "author@example.com",
        "secondary_emails": [],
        "unconfirmed_emails": [],
        "associated_accounts": [],
    }
    assert audit_actions("user.check_email") == []


def test_nobody_else_sees_a_users_email(client, auth_headers, forum):
    for headers in ({}, auth_headers(forum.outsider)):
        response = client.get("/u/author/emails.json", headers=headers)
        assert response.status_code == 403 and "author@example.com" not in response.get_data(as_text=True)
    assert client.get("/u/nobody/emails.json", headers=auth_headers(forum.moderator)).status_code == 404


# The staff's list: GET /admin/users/list/{flag}.json


@pytest.fixture
def people(app, make_user, admin, moderator, member):
    """An admin, a moderator, an active member, a member awaiting activation and a suspended member."""
    pending = users.create_user("pending", email="pending@example.com", password=None, active=False)
    suspended = make_user(Role.MEMBER, "suspended")
    users.suspend(admin, suspended.id, until="2099-01-01", reason="spam")
    silenced = make_user(Role.MEMBER, "silenced")
    users.silence(admin, silenced.id, until="2099-01-01", reason="personal attacks")
    return {"admin": admin, "moderator": moderator, "member": member, "pending": pending, "suspended": suspended, "silenced": silenced}


def listed_usernames(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [entry["username"] for entry in response.json]


@pytest.mark.parametrize(
    "flag, expected",
    [
        ("active", {"admin", "moderator", "member", "silenced", "system", "tactics-bot", "summary-bot"}),
        ("new", {"pending"}),
        ("staff", {"admin", "moderator", "system"}),
        ("suspended", {"suspended"}),
        ("blocked", {"silenced"}),
        ("suspect", set()),
        ("all", {"admin", "moderator", "member", "pending", "suspended", "silenced", "system", "tactics-bot", "summary-bot"}),
    ],
)
def test_the_list_flags(client, auth_headers, people, flag, expected):
    response = client.get(f"/admin/users/list/{flag}.json", headers=auth_headers(people["moderator"]))
    assert seeded_bots() == {"system", "tactics-bot", "summary-bot"}
    assert set(listed_usernames(response)) == expected
    if expected:  # the schema requires at least one item
        assert_matches_spec(response, "get", "/admin/users/list/{flag}.json")


def test_admin_users_lists_every_account_as_the_all_flag_does(client, auth_headers, people):
    headers = auth_headers(people["moderator"])
    everyone = listed_usernames(client.get("/admin/users/list/all.json?order=username&asc=true", headers=headers))
    assert listed_usernames(client.get("/admin/users.json?order=username&asc=true", headers=headers)) == everyone
    assert "pending" in everyone and "suspended" in everyone
    assert client.get("/admin/users.json", headers=auth_headers(people["member"])).status_code == 403


def test_a_listed_user(client, auth_headers, people, forum):
    response = client.get("/admin/users/list/all.json?order=username&asc=true", headers=auth_headers(people["admin"]))
    assert_matches_spec(response, "get", "/admin/users/list/{flag}.json")
    entry = {item["username"]: item for item in response.json}["author"]
    assert "email" not in entry
    assert (entry["id"], entry["active"], entry["admin"], entry["moderator"], entry["trust_level"]) == (
        forum.author.id,
        True,
        False,
        False,
        1,
    )
    # Staff count everything live; the author has entered the three live topics she started.
    assert (entry["post_count"], entry["topics_entered"], entry["time_read"]) == (4, 3, 12)
    assert entry["last_seen_at"] is None and entry["last_seen_age"] is None
    assert 0 <= entry["created_at_age"] < 600
    pending = {item["username"]: item for item in response.json}["pending"]
    assert pending["active"] is False


@pytest.mark.parametrize("role", [None, Role.MEMBER])
def test_the_list_is_for_staff_only(client, auth_headers, people, make_user, role):
    headers = auth_headers(make_user(role)) if role else {}
    response = client.get("/admin/users/list/active.json", headers=headers)
    assert response.status_code == 403
    assert response.json["error_type"] == ("invalid_access" if role else "not_logged_in")
    assert "admin@example.com" not in response.get_data(as_text=True)


def test_showing_emails_is_audited(client, auth_headers, people):
    plain = client.get("/admin/users/list/staff.json", headers=auth_headers(people["admin"])).json
    assert all("email" not in entry for entry in plain)
    assert audit_actions("user.show_emails") == []
    response = client.get("/admin/users/list/staff.json?show_emails=true", headers=auth_headers(people["admin"]))
    assert_matches_spec(response, "get", "/admin/users/list/{flag}.json")
    assert {entry["username"]: entry["email"] for entry in response.json} == {
        "admin": "admin@example.com",
        "moderator": "moderator@example.com",
        "system": "",  # bots have no email address; the schema types it as a string
    }
    assert all(entry["secondary_emails"] == [] for entry in response.json)
    [entry] = audit_actions("user.show_emails")
    assert entry.actor_id == people["admin"].id and entry.context["flag"] == "staff"


def test_ordering_the_list(client, auth_headers, people):
    headers = auth_headers(people["moderator"])
    everyone = list(db.session.scalars(select(User)))
    names = sorted(user.username for user in everyone)
    assert listed_usernames(client.get("/admin/users/list/all.json?order=username&asc=true", headers=headers)) == names
    assert listed_usernames(client.get("/admin/users/list/all.json?order=username", headers=headers)) == names[::-1]
    # By default: the newest first; on the active list, the most recently seen first (never seen: last).
    newest_first = [
        user.username for user in sorted(everyone, key=lambda user: (-user.created_at.timestamp(), user.username))
    ]
    assert listed_usernames(client.get("/admin/users/list/all.json", headers=headers)) == newest_first
    with write_unit(db.session):
        db.session.execute(
            update(User).where(User.username == "admin").values(last_seen_at=utcnow() - timedelta(days=2))
        )
        db.session.execute(
            update(User).where(User.username == "member").values(last_seen_at=utcnow() - timedelta(hours=1))
        )
    active = listed_usernames(client.get("/admin/users/list/active.json", headers=headers))
    assert active == ["member", "admin", "moderator", "silenced", "summary-bot", "system", "tactics-bot"]
    active_ascending = listed_usernames(
        client.get("/admin/users/list/active.json?order=seen&asc=true", headers=headers)
    )
    assert active_ascending == ["moderator", "silenced", "summary-bot", "system", "tactics-bot", "admin", "member"]
    # Staff rank above members by trust level; untracked measures tie, so the username decides.
    assert (
        listed_usernames(client.get("/admin/users/list/active.json?order=trust_level", headers=headers))[-4:]
        == ["member", "silenced", "summary-bot", "tactics-bot"]
    )
    assert listed_usernames(client.get("/admin/users/list/all.json?order=days_visited", headers=headers)) == names


def test_ordering_by_post_count(client, auth_headers, forum):
    response = client.get("/admin/users/list/active.json?order=posts", headers=auth_headers(forum.moderator))
    assert listed_usernames(response)[:2] == ["author", "insider"]


def test_the_list_comes_in_pages_of_100(client, auth_headers, people, make_user):
    for number in range(101 - user_count()):
        make_user(Role.MEMBER, f"extra{number:03d}")
    headers = auth_headers(people["moderator"])
    url = "/admin/users/list/all.json?order=username&asc=true"
    first = listed_usernames(client.get(f"{url}&page=1", headers=headers))
    second = listed_usernames(client.get(f"{url}&page=2", headers=headers))
    assert len(first) == 100 and len(second) == 1
    assert first + second == sorted(db.session.scalars(select(User.username)))
    assert listed_usernames(client.get(url, headers=headers)) == first  # page 1 is the default
    assert listed_usernames(client.get(f"{url}&page=3", headers=headers)) == []


def test_filtering_the_list_by_email_or_address(app, client, auth_headers, people):
    assert listed_usernames(client.get("/admin/users/list/all.json?email=MEMBER@example.com", headers=auth_headers(people["admin"]))) == [
        "member"
    ]
    headers = auth_headers(people["moderator"])
    assert sign_in(app.test_client(), "member", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
    assert listed_usernames(client.get("/admin/users/list/all.json?ip=192.0.2.7", headers=headers)) == ["member"]
    assert listed_usernames(client.get("/admin/users/list/all.json?ip=192.0.2.8", headers=headers)) == []


@pytest.mark.parametrize(
    "url",
    [
        "/admin/users/list/everyone.json",
        "/admin/users/list/all.json?order=karma",
        "/admin/users/list/all.json?page=two",
        "/admin/users/list/all.json?asc=maybe",
    ],
)
def test_bad_list_parameters_are_invalid(client, auth_headers, people, url):
    response = client.get(url, headers=auth_headers(people["moderator"]))
    assert response.status_code == 400 and response.json["error_type"] == "invalid_parameters"


# Suspension: PUT /admin/users/{id}/suspend.json and unsuspend.json


def suspend(client, headers: dict, user: User, body: dict | None = None, *, as_json: bool = True):
    body = {"suspend_until": "2099-01-01T00:00:00Z", "reason": "Repeated spam"} if body is None else body
    return send(client, "PUT", f"/admin/users/{user.id}/suspend.json", body, as_json=as_json, headers=headers)


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_staff_suspend_a_member(app, client, auth_headers, moderator, member, as_json):
    _, member_key = users.create_api_key(member, created_by=member)
    browser = app.test_client()
    assert sign_in(browser, "member").status_code == 200

    response = suspend(client, auth_headers(moderator), member, as_json=as_json)
    assert response.status_code == 200, response.json
    assert_matches_spec(response, "put", "/admin/users/{id}/suspend.json")
    suspension = response.json["suspension"]
    assert suspension["suspend_reason"] == suspension["full_suspend_reason"] == "Repeated spam"
    assert suspension["suspended_till"] == "2099-01-01T00:00:00.000Z"
    assert suspension["suspended_by"] == {
        "id": moderator.id,
        "username": "moderator",
        "name": "",
        "avatar_template": "/letter_avatar_proxy/v4/letter/m/8c91f0/{size}.png",
    }

    stored = db.session.get(User, member.id)
    assert stored.is_suspended and stored.suspend_reason == "Repeated spam"
    [entry] = audit_actions("user.suspend")
    assert (entry.actor_id, entry.subject_id) == (moderator.id, member.id)
    assert entry.before == {"suspended_till": None}
    assert entry.after == {"suspended_till": "2099-01-01T00:00:00+00:00", "suspend_reason": "Repeated spam"}
    # Neither the member's API key nor their session works any more, and they cannot sign in again.
    assert (
        client.get("/session/current.json", headers={"Api-Key": member_key, "Api-Username": "member"}).status_code
        == 403
    )
    assert signed_in_username(browser) is None
    assert sign_in(browser, "member").status_code == 403


def test_a_suspension_until_a_date_ends_at_midnight_utc(client, auth_headers, admin, member):
    response = suspend(client, auth_headers(admin), member, {"suspend_until": "2121-02-22", "reason": "cooling off"})
    assert response.status_code == 200
    assert response.json["suspension"]["suspended_till"] == "2121-02-22T00:00:00.000Z"


def test_an_offset_in_the_suspension_time_is_respected(client, auth_headers, admin, member):
    response = suspend(
        client, auth_headers(admin), member, {"suspend_until": "2121-02-22T10:00:00+02:00", "reason": "cooling off"}
    )
    assert response.json["suspension"]["suspended_till"] == "2121-02-22T08:00:00.000Z"


def test_the_forums_bots_cannot_be_suspended(client, auth_headers, admin):
    """The system user fires every timer: suspended, it stopped them all, with nothing to show for it."""
    for bot in (bots.system_user(), bots.bot_user("tactics-bot")):
        response = suspend(client, auth_headers(admin), bot)
        assert response.status_code == 403 and response.json["errors"] == ["The forum's bots cannot be suspended."]
        assert not db.session.get(User, bot.id).is_suspended
    assert audit_actions("user.suspend") == []


def test_admins_may_suspend_moderators(client, auth_headers, admin, moderator):
    assert suspend(client, auth_headers(admin), moderator).status_code == 200
    assert db.session.get(User, moderator.id).is_suspended


@pytest.mark.parametrize(
    "actor_role, target_role",
    [
        (Role.MODERATOR, Role.ADMIN),  # a moderator cannot suspend an admin
        (Role.MEMBER, Role.MEMBER),
        (None, Role.MEMBER),
        ("self", Role.ADMIN),
        ("self", Role.MODERATOR),
    ],
)
def test_who_may_not_suspend(client, auth_headers, make_user, actor_role, target_role):
    target = make_user(target_role)
    actor = target if actor_role == "self" else (make_user(actor_role) if actor_role else None)
    headers = auth_headers(actor) if actor else {"X-CSRF-Token": csrf(client)}
    response = suspend(client, headers, target)
    assert response.status_code == 403
    assert response.json["error_type"] == ("invalid_access" if actor else "not_logged_in")
    assert not db.session.get(User, target.id).is_suspended
    assert audit_actions("user.suspend") == []


@pytest.mark.parametrize(
    "body, message",
    [
        ({"reason": "spam"}, "param is missing or the value is empty: suspend_until"),
        ({"suspend_until": "2099-01-01"}, "param is missing or the value is empty: reason"),
        ({"suspend_until": "2099-01-01", "reason": "   "}, "param is missing or the value is empty: reason"),
        ({"suspend_until": "next tuesday", "reason": "spam"}, "suspend_until must be an ISO 8601 date or time"),
        (
            {"suspend_until": "9999-12-31T23:00:00-05:00", "reason": "spam"},
            "suspend_until must be an ISO 8601 date or time",
        ),
        ({"suspend_until": "2001-01-01", "reason": "spam"}, "suspend_until must be in the future."),
        ({"suspend_until": "2099-01-01", "reason": "r" * 301}, "reason must be at most 300 characters."),
        ({"suspend_until": "2099-01-01", "reason": "spam\x00"}, "reason must not contain NUL characters."),
    ],
)
@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_bad_suspensions_are_invalid_and_change_nothing(
    client, auth_headers, moderator, member, body, message, as_json
):
    response = suspend(client, auth_headers(moderator), member, body, as_json=as_json)
    assert response.status_code == 400
    assert response.json["error_type"] == "invalid_parameters" and response.json["errors"][0].startswith(message)
    assert not db.session.get(User, member.id).is_suspended
    assert audit_actions("user.suspend") == []


def test_suspending_an_unknown_user_is_not_found(client, auth_headers, moderator):
    response = client.put(
        "/admin/users/999999/suspend.json",
        json={"suspend_until": "2099-01-01", "reason": "spam"},
        headers=auth_headers(moderator),
    )
    assert response.status_code == 404


def test_a_suspended_user_cannot_be_suspended_again(client, auth_headers, admin, moderator, member):
    assert suspend(client, auth_headers(admin), member).status_code == 200
    response = suspend(client, auth_headers(moderator), member, {"suspend_until": "2199-01-01", "reason": "longer"})
    assert response.status_code == 422 and response.json["errors"] == ["member is already suspended."]
    assert db.session.get(User, member.id).suspended_till.year == 2099
    assert len(audit_actions("user.suspend")) == 1


def test_staff_unsuspend_a_user(client, auth_headers, admin, moderator, member):
    _, member_key = users.create_api_key(member, created_by=member)
    member_headers = {"Api-Key": member_key, "Api-Username": "member"}
    assert suspend(client, auth_headers(admin), member).status_code == 200
    response = client.put(f"/admin/users/{member.id}/unsuspend.json", headers=auth_headers(moderator))
    assert response.status_code == 200
    assert response.json == {"suspension": {"suspended_till": None, "suspended_at": None}}
    stored = db.session.get(User, member.id)
    assert (stored.suspended_till, stored.suspended_at, stored.suspend_reason) == (None, None, None)
    [entry] = audit_actions("user.unsuspend")
    assert (entry.actor_id, entry.before["suspend_reason"], entry.after) == (
        moderator.id,
        "Repeated spam",
        {"suspended_till": None},
    )
    assert client.get("/session/current.json", headers=member_headers).status_code == 200
    # Unsuspending a user who is not suspended changes nothing and records nothing.
    assert client.put(f"/admin/users/{member.id}/unsuspend.json", headers=auth_headers(moderator)).status_code == 200
    assert len(audit_actions("user.unsuspend")) == 1


def test_who_may_not_unsuspend(client, auth_headers, make_user, admin, moderator, member):
    other_admin = make_user(Role.ADMIN, "other_admin")
    assert suspend(client, auth_headers(admin), other_admin).status_code == 200
    assert suspend(client, auth_headers(admin), member).status_code == 200
    for headers, target in ((auth_headers(moderator), other_admin), (auth_headers(make_user(Role.MEMBER)), member)):
        assert client.put(f"/admin/users/{target.id}/unsuspend.json", headers=headers).status_code == 403
    assert db.session.get(User, other_admin.id).is_suspended and db.session.get(User, member.id).is_suspended
    assert audit_actions("user.unsuspend") == []


def test_a_suspension_that_has_run_out_no_longer_counts(client, auth_headers, moderator, member):
    with write_unit(db.session):
        db.session.execute(
            update(User)
            .where(User.id == member.id)
            .values(suspended_at=utcnow() - timedelta(days=2), suspended_till=utcnow() - timedelta(days=1))
        )
    listed = client.get("/admin/users/list/suspended.json", headers=auth_headers(moderator)).json
    assert listed == []
    assert sign_in(client, "member").status_code == 200
    assert suspend(client, auth_headers(moderator), member).status_code == 200  # a new suspension


def test_suspension_times_are_stored_in_utc(app, admin, member):
    users.suspend(admin, member.id, until="2121-02-22T10:00:00-03:00", reason="testing")
    stored = db.session.get(User, member.id)
    assert stored.suspended_till == datetime(2121, 2, 22, 13, tzinfo=timezone.utc)
    assert json.dumps(audit_actions("user.suspend")[0].after)  # the audit record is plain JSON
