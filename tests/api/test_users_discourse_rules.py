"""Discourse's account rules, as sign-up, email addresses and the staff's user list follow them: a password needs enough
different characters and must not be the username or email address (PasswordValidator); a group's name is not free
as a username (User.username_exists?); only admins read email addresses unless moderators_view_emails is on
(UserGuardian#can_check_emails?); and the staff's list takes a ``filter`` (AdminUserIndexQuery#filter_by_search)."""
import pytest

from forum.models import Role, User
from forum.services import groups, sessions, users
from forum.services.errors import ValidationFailed
from tests.api.spec import assert_matches_spec
from tests.api.test_session import csrf
from tests.api.test_users import NEW_ACCOUNT, audit_actions, listed_usernames, send, user_count

REPEATED_CHARACTERS = "Password has too many repeated characters. Please use a more secure password."
SAME_AS_USERNAME = "Password is the same as your username. Please use a more secure password."
SAME_AS_EMAIL = "Password is the same as your email. Please use a more secure password."


def assert_signup_refused(response, message: str) -> None:
    """Refused as the sign-up endpoint refuses a field (422, Discourse's failed sign-up), and nothing stored."""
    assert response.status_code == 422, response.json
    assert response.json["success"] is False and response.json["error_type"] == "invalid_record"
    assert message in response.json["errors"], response.json
    assert users.find_by_username(NEW_ACCOUNT["username"]) is None


# Passwords


@pytest.mark.parametrize(
    "password",
    [
        " " * 10,
        "a" * 10,
        "ab" * 10,
        "aaaaaa5432",  # Discourse's own example: five different characters where six are needed
        "zz" + "\u00e9" * 20 + "11",
    ],
)
@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_a_password_of_too_few_different_characters_is_refused(client, auth_headers, admin, password, as_json):
    users_before, created_before = user_count(), len(audit_actions("user.create"))
    body = {**NEW_ACCOUNT, "password": password}
    response = send(client, "POST", "/users.json", body, as_json=as_json, headers=auth_headers(admin))
    assert_signup_refused(response, REPEATED_CHARACTERS)
    assert (user_count(), len(audit_actions("user.create"))) == (users_before, created_before)


def test_a_browser_signup_with_a_weak_password_is_refused(client):
    challenge = client.get("/session/hp.json").json
    body = {
        **NEW_ACCOUNT,
        "password": " " * 12,
        "password_confirmation": challenge["value"],
        "challenge": challenge["challenge"][::-1],
    }
    response = client.post("/users.json", data=body, headers={"X-CSRF-Token": csrf(client)})
    assert_signup_refused(response, REPEATED_CHARACTERS)


@pytest.mark.parametrize("password", ["aaaaa12345", "aaaAaa1234"])  # six different characters; case counts
def test_a_password_of_six_different_characters_is_enough(client, auth_headers, admin, password):
    response = client.post("/users.json", json={**NEW_ACCOUNT, "password": password}, headers=auth_headers(admin))
    assert response.status_code == 200, response.json
    assert users.check_password(users.find_by_username(NEW_ACCOUNT["username"]), password)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"username": "sione_tuilagi", "password": "sione_tuilagi"}, SAME_AS_USERNAME),
        ({"username": "sione_tuilagi", "password": "SIONE_Tuilagi"}, SAME_AS_USERNAME),
        ({"email": "sione.tuilagi@example.org", "password": "Sione.Tuilagi@Example.org"}, SAME_AS_EMAIL),
    ],
)
def test_a_password_that_is_the_username_or_email_address_is_refused(client, auth_headers, admin, changes, message):
    response = client.post("/users.json", json={**NEW_ACCOUNT, **changes}, headers=auth_headers(admin))
    assert_signup_refused(response, message)
    assert users.find_by_username(changes.get("username", NEW_ACCOUNT["username"])) is None


def test_accounts_made_without_the_api_follow_the_same_password_rules(app):
    """``flask forum create-user`` and the demo create accounts through the same service."""
    with pytest.raises(ValidationFailed) as refused:
        users.create_user("priya", email="priya@example.com", password="x" * 16)
    assert refused.value.messages == [REPEATED_CHARACTERS]
    with pytest.raises(ValidationFailed) as refused:
        users.create_user("priya_sharma", email="priya@example.com", password="Priya_Sharma")
    assert refused.value.messages == [SAME_AS_USERNAME]
    assert users.find_by_username("priya") is None and users.find_by_username("priya_sharma") is None


# Usernames and group names


@pytest.mark.parametrize("username", ["circle", "Circle", "CIRCLE"])
def test_a_groups_name_is_not_free_as_a_username(client, auth_headers, admin, username):
    groups.create_group(admin, "Circle")
    users_before = user_count()
    body = {**NEW_ACCOUNT, "username": username}
    response = client.post("/users.json", json=body, headers=auth_headers(admin))
    assert response.status_code == 422, response.json
    assert response.json["error_type"] == "invalid_record"
    assert f"Username {username!r} is already taken." in response.json["errors"]
    assert user_count() == users_before
    with pytest.raises(ValidationFailed, match="already taken"):
        users.create_user(username, email="circle@example.com", password="correct horse battery")
    assert users.find_by_username(username) is None


@pytest.mark.parametrize("username", ["staff", "Admins", "trust_level_0", "everyone"])
def test_an_automatic_groups_name_is_not_free_as_a_username(client, auth_headers, admin, username):
    response = client.post("/users.json", json={**NEW_ACCOUNT, "username": username}, headers=auth_headers(admin))
    assert response.status_code == 422 and f"Username {username!r} is already taken." in response.json["errors"], response.json
    assert users.find_by_username(username) is None


@pytest.mark.parametrize("group_name", ["member", "Member"])
def test_a_users_name_is_not_free_as_a_group_name(admin, member, group_name):
    with pytest.raises(ValidationFailed) as refused:
        groups.create_group(admin, group_name)
    assert refused.value.messages == [f"Group name {group_name!r} has already been taken."]
    assert groups.find_by_name(group_name) is None


def test_a_name_that_only_contains_a_groups_name_is_free(client, auth_headers, admin):
    groups.create_group(admin, "circle")
    body = {**NEW_ACCOUNT, "username": "circle_keeper"}
    assert client.post("/users.json", json=body, headers=auth_headers(admin)).status_code == 200
    assert users.find_by_username("circle_keeper") is not None


# Email addresses: admins, the user themself, and moderators only when the forum lets them


def test_the_forum_keeps_emails_from_moderators_by_default(app):
    assert app.config["MODERATORS_VIEW_EMAILS"] is False


def test_moderators_do_not_read_a_users_email(client, auth_headers, moderator, member):
    response = client.get("/u/member/emails.json", headers=auth_headers(moderator))
    assert response.status_code == 403 and response.json["error_type"] == "invalid_access"
    assert "member@example.com" not in response.get_data(as_text=True)
    assert audit_actions("user.check_email") == []


def test_admins_read_a_users_email_and_it_is_audited(client, auth_headers, admin, member):
    response = client.get("/u/member/emails.json", headers=auth_headers(admin))
    assert response.status_code == 200 and response.json["email"] == "member@example.com"
    [entry] = audit_actions("user.check_email")
    assert (entry.actor_id, entry.subject_id) == (admin.id, member.id)


def test_moderators_read_their_own_email(client, auth_headers, moderator):
    response = client.get("/u/moderator/emails.json", headers=auth_headers(moderator))
    assert response.status_code == 200 and response.json["email"] == "moderator@example.com"
    assert audit_actions("user.check_email") == []


def test_moderators_read_emails_when_the_forum_lets_them(app, client, auth_headers, moderator, member, monkeypatch):
    monkeypatch.setitem(app.config, "MODERATORS_VIEW_EMAILS", True)
    response = client.get("/u/member/emails.json", headers=auth_headers(moderator))
    assert response.status_code == 200 and response.json["email"] == "member@example.com"
    [entry] = audit_actions("user.check_email")
    assert (entry.actor_id, entry.subject_id) == (moderator.id, member.id)


def test_the_staff_list_shows_moderators_no_emails(client, auth_headers, admin, moderator, member):
    response = client.get("/admin/users/list/all.json?show_emails=true", headers=auth_headers(moderator))
    assert response.status_code == 200
    assert all("email" not in entry and "secondary_emails" not in entry for entry in response.json)
    assert "@example.com" not in response.get_data(as_text=True)
    assert audit_actions("user.show_emails") == []  # nothing was shown


@pytest.mark.parametrize("query", ["email=member@example.com", "order=email", "order=email&asc=true"])
def test_moderators_cannot_look_users_up_or_order_them_by_email(client, auth_headers, admin, moderator, member, query):
    """Either would tell them the addresses they may not read."""
    refused = client.get(f"/admin/users/list/all.json?{query}", headers=auth_headers(moderator))
    assert refused.status_code == 403 and refused.json["error_type"] == "invalid_access", refused.json
    assert "@example.com" not in refused.get_data(as_text=True)
    assert client.get(f"/admin/users/list/all.json?{query}", headers=auth_headers(admin)).status_code == 200


def test_the_staff_list_shows_admins_emails(client, auth_headers, admin, moderator, member):
    response = client.get("/admin/users/list/all.json?show_emails=true", headers=auth_headers(admin))
    assert {entry["username"]: entry["email"] for entry in response.json}["member"] == "member@example.com"
    [entry] = audit_actions("user.show_emails")
    assert entry.actor_id == admin.id


def test_the_staff_list_shows_moderators_emails_when_the_forum_lets_them(
    app, client, auth_headers, moderator, member, monkeypatch
):
    monkeypatch.setitem(app.config, "MODERATORS_VIEW_EMAILS", True)
    response = client.get("/admin/users/list/all.json?show_emails=true", headers=auth_headers(moderator))
    assert {entry["username"]: entry["email"] for entry in response.json}["member"] == "member@example.com"
    [entry] = audit_actions("user.show_emails")
    assert entry.actor_id == moderator.id


# The staff's list: ?filter=


@pytest.fixture
def searchable(app, make_user, admin, moderator):
    """Members whose usernames and email addresses the filter tells apart."""
    for username, email in [
        ("alice_w", "alice@ngo.example"),
        ("alicexw", "axw@ngo.example"),
        ("bob", "wanderer@ngo.example"),
        ("carol", "carol@ngo.example"),
    ]:
        users.create_user(username, email=email, password="correct horse battery", name=username.title())
    return {"admin": admin, "moderator": moderator}


def filtered(client, auth_headers, viewer: User, query: str, flag: str = "all") -> list[str]:
    return listed_usernames(client.get(f"/admin/users/list/{flag}.json?{query}", headers=auth_headers(viewer)))


@pytest.mark.parametrize("viewer", ["admin", "moderator"])
def test_the_filter_finds_a_part_of_a_username_in_any_case(client, auth_headers, searchable, viewer):
    staff = searchable[viewer]
    assert filtered(client, auth_headers, staff, "filter=ALIC&order=username&asc=true") == ["alice_w", "alicexw"]
    assert filtered(client, auth_headers, staff, "filter=%20CaRoL%20") == ["carol"]  # spaces around are ignored
    assert filtered(client, auth_headers, staff, "filter=nobody-has-this") == []


def test_the_filters_wildcards_are_plain_characters(client, auth_headers, searchable):
    admin = searchable["admin"]
    assert filtered(client, auth_headers, admin, "filter=e_w") == ["alice_w"]
    assert filtered(client, auth_headers, admin, "filter=%25") == []


def test_the_filter_finds_email_addresses_for_admins(client, auth_headers, searchable):
    assert filtered(client, auth_headers, searchable["admin"], "filter=WANDERER@") == ["bob"]
    assert filtered(client, auth_headers, searchable["admin"], "filter=ngo.example&order=username&asc=true") == [
        "alice_w",
        "alicexw",
        "bob",
        "carol",
    ]


def test_the_filter_does_not_search_emails_for_moderators(app, client, auth_headers, searchable, monkeypatch):
    """Otherwise a moderator could read addresses a letter at a time from what the filter finds."""
    moderator = searchable["moderator"]
    assert filtered(client, auth_headers, moderator, "filter=wanderer") == []
    monkeypatch.setitem(app.config, "MODERATORS_VIEW_EMAILS", True)
    assert filtered(client, auth_headers, moderator, "filter=wanderer") == ["bob"]


def test_the_filter_keeps_the_flag_order_and_pages(client, auth_headers, searchable, make_user):
    admin = searchable["admin"]
    assert filtered(client, auth_headers, admin, "filter=alice", flag="staff") == []
    assert filtered(client, auth_headers, admin, "filter=alic&order=username") == ["alicexw", "alice_w"]
    for number in range(101):
        make_user(Role.MEMBER, f"extra{number:03d}")
    url = "filter=EXTRA&order=username&asc=true"
    first = filtered(client, auth_headers, admin, f"{url}&page=1")
    second = filtered(client, auth_headers, admin, f"{url}&page=2")
    assert (len(first), second) == (100, ["extra100"])
    assert first == [f"extra{number:03d}" for number in range(100)]


# PUT /u/{username}.json: the display name


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_members_rename_themselves_and_a_blank_name_clears_it(client, auth_headers, member, as_json):
    response = send(client, "PUT", "/u/member.json", {"name": "  Amara   Okafor "}, as_json=as_json, headers=auth_headers(member))
    assert response.status_code == 200, response.json
    assert_matches_spec(response, "put", "/u/{username}.json")
    assert response.json["success"] == "OK" and response.json["user"]["name"] == "Amara Okafor"
    assert client.get("/u/member.json").json["user"]["name"] == "Amara Okafor"
    assert send(client, "PUT", "/u/member.json", {}, as_json=as_json, headers=auth_headers(member)).json["user"]["name"] == "Amara Okafor"
    assert send(client, "PUT", "/u/member.json", {"name": ""}, as_json=as_json, headers=auth_headers(member)).status_code == 200
    assert users.find_by_username("member").name is None


def test_staff_rename_others_audited_members_cannot(client, auth_headers, member, moderator, make_user):
    other = make_user(Role.MEMBER, "other_member")
    refused = client.put("/u/other_member.json", json={"name": "Not yours"}, headers=auth_headers(member))
    assert refused.status_code == 403 and refused.json["error_type"] == "invalid_access"
    assert client.put("/u/other_member.json", json={"name": "Renamed"}, headers={}).status_code == 403
    assert client.put("/u/other_member.json", json={"name": "Chosen by staff"}, headers=auth_headers(moderator)).status_code == 200
    [entry] = audit_actions("user.edit")
    assert (entry.actor_id, entry.subject_id, entry.before, entry.after) == (moderator.id, other.id, {"name": None}, {"name": "Chosen by staff"})


@pytest.mark.parametrize("name, status, body", [
    ("n" * 256, 422, {"errors": ["Name must be at most 255 characters."], "error_type": "invalid_record"}),
    ("a\x00b", 400, {"errors": ["name must not contain NUL characters."], "error_type": "invalid_parameters"}),
])
def test_a_bad_name_is_refused_and_the_old_one_kept(client, auth_headers, member, name, status, body):
    assert client.put("/u/member.json", json={"name": "Kept Name"}, headers=auth_headers(member)).status_code == 200
    refused = client.put("/u/member.json", json={"name": name}, headers=auth_headers(member))
    assert (refused.status_code, refused.json) == (status, body)
    assert users.find_by_username("member").name == "Kept Name"
    assert client.put("/u/nobody.json", json={"name": "Ghost"}, headers=auth_headers(member)).status_code == 404
    users.create_user("pending", email="pending@example.com", password=None, active=False)
    assert client.put("/u/pending.json", json={"name": "Ghost"}, headers=auth_headers(member)).status_code == 404  # as its page


# POST /admin/users/{id}/log_out.json


def test_staff_sign_a_user_out_everywhere(client, auth_headers, member, moderator):
    tokens = [sessions.open_session(member, client_ip=f"192.0.2.{n}", user_agent="pytest") for n in (1, 2)]
    for headers in ({}, auth_headers(member)):
        refused = client.post(f"/admin/users/{member.id}/log_out.json", headers=headers)
        assert refused.status_code == 403 and refused.json["error_type"] == "invalid_access"
    assert all(sessions.user_for_token(token) == member for token in tokens)
    response = client.post(f"/admin/users/{member.id}/log_out.json", headers=auth_headers(moderator))
    assert response.status_code == 200 and response.json == {"success": "OK"}
    assert_matches_spec(response, "post", "/admin/users/{id}/log_out.json")
    assert [sessions.user_for_token(token) for token in tokens] == [None, None]
    [entry] = audit_actions("user.log_out")
    assert (entry.actor_id, entry.subject_id) == (moderator.id, member.id)
    assert client.post("/admin/users/424242/log_out.json", headers=auth_headers(moderator)).status_code == 404


def test_a_profile_shows_its_groups_sizes_as_the_groups_pages_do(client, auth_headers, admin, member):
    """An account waiting for activation counts for staff only, on the member's page as on the group's."""
    pending = users.create_user("pending", email="pending@example.com", password=None, active=False)
    group = groups.create_group(admin, "organisers", members=[member, pending])
    for viewer, size in ((member, 1), (admin, 2)):
        [shown] = client.get("/u/member.json", headers=auth_headers(viewer)).json["user"]["groups"]
        listed = client.get("/groups/organisers.json", headers=auth_headers(viewer)).json["group"]
        assert (shown["id"], shown["user_count"], listed["user_count"]) == (group.id, size, size)
