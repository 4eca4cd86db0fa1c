"""Discourse's groups endpoints: names are public, members are for staff and the group's own members, and only admins
create, change and delete groups and who is in them (audited, all or nothing, announced to the site's caches)."""
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import AuditLogEntry, Category, Group, Role, User, group_users
from forum.services import categories, events, groups, topics
from tests.api.factories import set_columns
from tests.api.spec import assert_matches_spec
from tests.conftest import run_together

OPENING = "## Opening\n\nWho should we talk to first about the supplier audit?"


@pytest.fixture
def call(client, auth_headers):
    """``method path`` as ``user`` (None: anonymous), with ``body`` as the test client takes it (json=, data=)."""

    def call(method: str, path: str, user: User | None, **body):
        return client.open(path, method=method, headers=auth_headers(user), **body)

    return call


@contextmanager
def site_changes():
    received = []
    with events.site_changed.connected_to(lambda sender, **data: received.append(sender)):
        yield received


def _member_names(group_id: int) -> list[str]:
    return sorted(
        db.session.scalars(
            select(User.username).join(group_users, group_users.c.user_id == User.id).where(group_users.c.group_id == group_id)
        )
    )


def _group_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Group))


def _audit(action: str) -> list[AuditLogEntry]:
    return list(db.session.scalars(select(AuditLogEntry).where(AuditLogEntry.action == action).order_by(AuditLogEntry.id)))


def _refused(response, status: int, error_type: str) -> list[str]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.json["error_type"] == error_type
    return response.json["errors"]


# POST /admin/groups.json


def test_an_admin_creates_a_group_with_its_members(call, admin, member, make_user):
    other = make_user(Role.MEMBER, "sione")
    with site_changes() as changes:
        response = call("POST", "/admin/groups.json", admin, json={"group": {"name": "Field_team", "full_name": "Field team", "usernames": "member, Sione"}})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_matches_spec(response, "post", "/admin/groups.json")
    created = response.json["basic_group"]
    assert (created["name"], created["full_name"], created["user_count"]) == ("Field_team", "Field team", 2)
    assert (created["members_visibility_level"], created["can_see_members"], created["can_edit_group"]) == (2, True, True)
    assert _member_names(created["id"]) == ["member", "sione"]
    assert changes  # /site.json lists groups, and who may read a category changed
    assert [entry.after["name"] for entry in _audit("group.create")] == ["Field_team"]
    assert _audit("group.add_members")[0].after == {"user_ids": sorted([member.id, other.id])}


def test_a_group_is_created_from_a_form_body_too(call, admin, member):
    response = call("POST", "/admin/groups", admin, data={"group[name]": "circle", "group[usernames]": "member"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert (response.json["basic_group"]["full_name"], _member_names(response.json["basic_group"]["id"])) == (None, ["member"])


@pytest.mark.parametrize("who", [None, "member", "moderator"])
def test_only_admins_create_groups(call, member, moderator, who):
    user = {"member": member, "moderator": moderator}.get(who)
    response = call("POST", "/admin/groups.json", user, json={"group": {"name": "circle", "usernames": "member"}})
    assert response.status_code == 403
    assert _group_count() == 0


@pytest.mark.parametrize(
    "name, reason",
    [
        ("ab", "must be 3 to 20 characters"),
        ("field team", "must be 3 to 20 characters"),
        ("-team", "must be 3 to 20 characters"),
        ("Staff", "is reserved"),
        ("Circle", "has already been taken"),  # whatever its case
        ("member", "has already been taken"),  # a username: an @-mention would not say which it meant
        ("", "must be 3 to 20 characters"),
    ],
)
def test_bad_group_names_are_refused_and_nothing_is_stored(call, admin, circle, name, reason):
    response = call("POST", "/admin/groups.json", admin, json={"group": {"name": name, "usernames": "admin"}})
    assert reason in " ".join(_refused(response, 422, "invalid_record"))
    assert (_group_count(), _audit("group.add_members")[1:]) == (1, [])


def test_a_group_with_an_unknown_username_is_not_created(call, admin, member):
    response = call("POST", "/admin/groups.json", admin, json={"group": {"name": "circle", "usernames": "member,ghost,phantom"}})
    errors = _refused(response, 400, "invalid_parameters")
    assert "ghost" in errors[0] and "phantom" in errors[0] and "member" not in errors[0]
    assert _group_count() == 0


def test_a_bio_is_refused_rather_than_dropped(call, admin, circle):
    """This forum keeps no group bios: one sent is refused, never silently lost."""
    response = call("POST", "/admin/groups.json", admin, json={"group": {"name": "lawyers", "bio_raw": "Lawyers who help."}})
    assert "bio" in _refused(response, 422, "invalid_record")[0]
    assert _group_count() == 1
    response = call("POST", "/admin/groups.json", admin, json={"group": {"name": "lawyers", "bio_raw": ""}})
    assert response.status_code == 200


# GET /groups.json


def test_groups_are_listed_to_everyone_but_their_sizes_only_to_who_may_see_members(call, admin, moderator, member, circle, make_user):
    groups.create_group(admin, "lawyers", full_name="Lawyers network", members=[make_user(Role.MEMBER, "amal")])
    outsider = make_user(Role.MEMBER, "outsider")
    seen = {}
    for name, user in {"anonymous": None, "outsider": outsider, "member": member, "moderator": moderator, "admin": admin}.items():
        response = call("GET", "/groups.json", user)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert_matches_spec(response, "get", "/groups.json")
        assert (response.json["total_rows_groups"], [group["name"] for group in response.json["groups"]]) == (2, ["circle", "lawyers"])
        seen[name] = response.json
    for name in ("anonymous", "outsider"):
        assert [(g["can_see_members"], "user_count" in g, g["is_group_user"]) for g in seen[name]["groups"]] == [(False, False, False)] * 2
    circle_seen, lawyers_seen = seen["member"]["groups"]
    assert (circle_seen["can_see_members"], circle_seen["user_count"], circle_seen["is_group_user"]) == (True, 1, True)
    assert (lawyers_seen["can_see_members"], "user_count" in lawyers_seen) == (False, False)
    for name in ("moderator", "admin"):
        assert [(g["can_see_members"], g["user_count"]) for g in seen[name]["groups"]] == [(True, 1), (True, 1)]
    assert [g["can_edit_group"] for g in seen["moderator"]["groups"] + seen["admin"]["groups"]] == [False, False, True, True]
    assert seen["anonymous"]["extras"]["type_filters"] == ["close"]
    assert seen["member"]["extras"]["type_filters"] == ["my", "close"]
    assert {g["members_visibility_level"] for name in seen for g in seen[name]["groups"]} == {2}


def test_groups_come_a_page_at_a_time_and_my_groups_on_their_own(call, admin, member, circle):
    for n in range(groups.GROUPS_PAGE_SIZE):
        groups.create_group(admin, f"team_{n:02d}")
    first = call("GET", "/groups.json", member).json
    assert (len(first["groups"]), first["total_rows_groups"], first["load_more_groups"]) == (groups.GROUPS_PAGE_SIZE, 37, "/groups?page=1")
    second = call("GET", "/groups.json?page=1", member)
    assert_matches_spec(second, "get", "/groups.json")
    assert [group["name"] for group in second.json["groups"]] == ["team_35"]
    mine = call("GET", "/groups.json?type=my", member).json
    assert ([group["name"] for group in mine["groups"]], mine["total_rows_groups"], mine["load_more_groups"]) == (["circle"], 1, "/groups?page=1&type=my")
    _refused(call("GET", "/groups.json?type=my", None), 400, "invalid_parameters")  # anonymous has no groups of its own
    _refused(call("GET", "/groups.json?type=secret", member), 400, "invalid_parameters")
    _refused(call("GET", "/groups.json?page=-1", member), 400, "invalid_parameters")
    _refused(call("GET", "/groups.json?page=x", member), 400, "invalid_parameters")


# GET /groups/{name}.json and /groups/by-id/{id}.json


def test_a_group_is_shown_by_name_in_any_case_and_by_id(call, admin, member, circle, make_user):
    groups.create_group(admin, "lawyers")
    outsider = make_user(Role.MEMBER, "outsider")
    for path, spec_path in (("/groups/CIRCLE.json", "/groups/{name}.json"), (f"/groups/by-id/{circle.id}.json", "/groups/by-id/{id}.json")):
        for user, sees_members in ((None, False), (outsider, False), (member, True), (admin, True)):
            response = call("GET", path, user)
            assert response.status_code == 200, response.get_data(as_text=True)
            assert_matches_spec(response, "get", spec_path)
            shown = response.json["group"]
            assert (shown["id"], shown["name"], shown["can_see_members"], shown["is_group_user"]) == (circle.id, "circle", sees_members, user is member)
            assert ("user_count" in shown) is sees_members
            assert response.json["extras"] == {"visible_group_names": ["circle", "lawyers"]}
    assert call("GET", "/groups/circle", None).status_code == 200


@pytest.mark.parametrize("path", ["/groups/nobody.json", "/groups/by-id/999999.json", "/groups/by-id/abc.json", "/groups/by-id/99999999999.json"])
def test_an_unknown_group_is_not_found(call, admin, circle, path):
    _refused(call("GET", path, admin), 404, "not_found")
    assert call("GET", f"/groups/by-id/{circle.id}.json", admin).status_code == 200


# PUT /groups/{id}.json


def test_an_admin_renames_a_group_and_sets_its_full_name(call, admin, circle):
    with site_changes() as changes:
        response = call("PUT", f"/groups/{circle.id}.json", admin, json={"group": {"name": "Inner_circle", "full_name": "The inner circle"}})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_matches_spec(response, "put", "/groups/{id}.json")
    assert response.json == {"success": "OK"}
    stored = db.session.get(Group, circle.id)
    assert (stored.name, stored.full_name) == ("Inner_circle", "The inner circle")
    assert changes
    (entry,) = _audit("group.update")
    assert (entry.actor_id, entry.before, entry.after) == (
        admin.id, {"name": "circle", "full_name": None}, {"name": "Inner_circle", "full_name": "The inner circle"}
    )
    # What is not sent stays; an empty full name clears it; a change of case alone is no clash with itself.
    assert call("PUT", f"/groups/{circle.id}", admin, data={"group[full_name]": ""}).status_code == 200
    assert call("PUT", f"/groups/{circle.id}", admin, json={"group": {"name": "inner_circle"}}).status_code == 200
    stored = db.session.get(Group, circle.id)
    assert (stored.name, stored.full_name) == ("inner_circle", None)


def test_a_bad_update_changes_nothing(call, admin, circle):
    groups.create_group(admin, "lawyers")
    for body, status in (
        ({"group": {"name": "lawyers", "full_name": "Taken"}}, 422),
        ({"group": {"name": "x", "full_name": "Too short"}}, 422),
        ({"group": {"full_name": "y" * 101}}, 422),
        ({"group": {"name": ""}}, 422),
        ({"group": {"full_name": "About us", "bio_raw": "We help."}}, 422),
    ):
        _refused(call("PUT", f"/groups/{circle.id}.json", admin, json=body), status, "invalid_record")
    stored = db.session.get(Group, circle.id)
    assert (stored.name, stored.full_name, _audit("group.update")) == ("circle", None, [])


@pytest.mark.parametrize("who", [None, "member", "moderator"])
def test_only_admins_update_groups(call, member, moderator, circle, who):
    user = {"member": member, "moderator": moderator}.get(who)
    response = call("PUT", f"/groups/{circle.id}.json", user, json={"group": {"full_name": "Ours now"}})
    assert response.status_code == 403
    assert db.session.get(Group, circle.id).full_name is None


@pytest.mark.parametrize("path", ["/groups/999999.json", "/groups/circle.json", "/groups/99999999999.json"])
def test_updating_an_unknown_group_id_is_not_found(call, admin, circle, path):
    """The id is a number (Discourse's Group.find): a name there names no group, a 404 rather than a 405."""
    _refused(call("PUT", path, admin, json={"group": {"full_name": "Nobody"}}), 404, "not_found")
    assert call("PUT", f"/groups/{circle.id}.json", admin, json={"group": {"full_name": "Somebody"}}).status_code == 200


# GET /groups/{name}/members.json


def test_members_are_shown_to_staff_and_to_the_group_s_own_members(call, admin, moderator, member, circle, make_user):
    amal = make_user(Role.MEMBER, "amal")
    groups.add_members(admin, circle, [amal])
    for user in (member, amal, moderator, admin):
        response = call("GET", "/groups/circle/members.json", user)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert_matches_spec(response, "get", "/groups/{name}/members.json")
        assert [listed["username"] for listed in response.json["members"]] == ["amal", "member"]
        assert (response.json["owners"], response.json["meta"]) == ([], {"total": 2, "limit": 50, "offset": 0})


def test_members_are_refused_to_anyone_else_though_the_group_is_public(call, circle, make_user):
    outsider = make_user(Role.MEMBER, "outsider")
    assert call("GET", "/groups/circle.json", outsider).status_code == 200
    for user in (None, outsider):
        response = call("GET", "/groups/circle/members.json", user)
        assert _refused(response, 403, "invalid_access") == ["Only staff and the group's own members can see who is in it."]
    _refused(call("GET", "/groups/nobody/members.json", None), 404, "not_found")


def test_members_come_a_page_at_a_time(call, admin, circle, make_user):
    groups.add_members(admin, circle, [make_user(Role.MEMBER, f"user_{n}") for n in range(3)])
    response = call("GET", "/groups/circle/members.json?offset=1&limit=2", admin)
    assert_matches_spec(response, "get", "/groups/{name}/members.json")
    assert [listed["username"] for listed in response.json["members"]] == ["user_0", "user_1"]
    assert response.json["meta"] == {"total": 4, "limit": 2, "offset": 1}
    for query in ("limit=1001", "limit=-1", "offset=-1", "limit=many", "offset=x"):
        _refused(call("GET", f"/groups/circle/members.json?{query}", admin), 400, "invalid_parameters")


def test_a_member_s_last_post_is_one_the_viewer_may_see(call, admin, member, circle):
    """A co-member learns nothing of the member's posts in categories they cannot read."""
    groups.add_members(admin, circle, [admin])
    staff_room = categories.create_category(admin, {"name": "Staff room"}, {"staff": 1})
    topics.create_topic(admin, title="Budget for the next field visit", raw=OPENING, category=staff_room)
    as_member = {listed["username"]: listed for listed in call("GET", "/groups/circle/members.json", member).json["members"]}
    as_admin = {listed["username"]: listed for listed in call("GET", "/groups/circle/members.json", admin).json["members"]}
    assert as_member["admin"]["last_posted_at"] == ""
    assert as_admin["admin"]["last_posted_at"].endswith("Z")
    assert as_admin["member"]["last_posted_at"] == ""  # never posted


def test_an_account_waiting_for_activation_is_listed_to_staff_only(call, admin, member, circle, make_user):
    waiting = make_user(Role.MEMBER, "waiting")
    set_columns(User, waiting.id, active=False)
    groups.add_members(admin, circle, [waiting])
    as_member = call("GET", "/groups/circle/members.json", member).json
    assert ([m["username"] for m in as_member["members"]], as_member["meta"]["total"]) == (["member"], 1)
    assert call("GET", "/groups/circle.json", member).json["group"]["user_count"] == 1
    assert call("GET", "/groups/circle/members.json", admin).json["meta"]["total"] == 2


# PUT /groups/{id}/members.json


def test_an_admin_adds_members(call, admin, member, circle, make_user):
    make_user(Role.MEMBER, "amal")
    with site_changes() as changes:
        response = call("PUT", f"/groups/{circle.id}/members.json", admin, json={"usernames": "Amal,member"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_matches_spec(response, "put", "/groups/{id}/members.json")
    assert response.json == {"success": "OK", "usernames": ["amal", "member"], "emails": []}
    assert _member_names(circle.id) == ["amal", "member"] and changes
    assert len(_audit("group.add_members")) == 2  # the fixture's, and amal's: member was in already
    again = call("PUT", f"/groups/{circle.id}/members", admin, data={"usernames": "member"})
    assert (again.status_code, len(_audit("group.add_members"))) == (200, 2)


def test_adding_an_unknown_username_adds_no_one(call, admin, circle, make_user):
    make_user(Role.MEMBER, "amal")
    response = call("PUT", f"/groups/{circle.id}/members.json", admin, json={"usernames": "amal,ghost"})
    assert "ghost" in _refused(response, 400, "invalid_parameters")[0]
    assert _member_names(circle.id) == ["member"]
    _refused(call("PUT", f"/groups/{circle.id}/members.json", admin, json={}), 400, "invalid_parameters")
    _refused(call("PUT", f"/groups/{circle.id}/members.json", admin, json={"usernames": " , "}), 400, "invalid_parameters")


def test_admins_adding_the_same_members_at_once_add_them_once(app, admin, circle, make_user):
    user_ids = [make_user(Role.MEMBER, f"user_{n}").id for n in range(3)]
    admin_id, group_id = admin.id, circle.id

    def add(start):
        actor, group = db.session.get(User, admin_id), db.session.get(Group, group_id)
        members = [db.session.get(User, user_id) for user_id in user_ids]
        start()
        groups.add_members(actor, group, members)

    assert run_together(app, add, [()] * 4) == []
    assert _member_names(group_id) == ["member", "user_0", "user_1", "user_2"]
    assert len(_audit("group.add_members")) == 2  # the fixture's, and the one that came first


@pytest.mark.parametrize("who", [None, "member", "moderator"])
def test_only_admins_change_members(call, member, moderator, circle, make_user, who):
    make_user(Role.MEMBER, "amal")
    user = {"member": member, "moderator": moderator}.get(who)
    assert call("PUT", f"/groups/{circle.id}/members.json", user, json={"usernames": "amal"}).status_code == 403
    assert call("DELETE", f"/groups/{circle.id}/members.json", user, json={"usernames": "member"}).status_code == 403
    assert _member_names(circle.id) == ["member"]


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize("path", ["/groups/999999/members.json", "/groups/circle/members.json"])
def test_changing_members_of_an_unknown_group_id_is_not_found(call, admin, circle, method, path):
    _refused(call(method, path, admin, json={"usernames": "member"}), 404, "not_found")
    assert call(method, f"/groups/{circle.id}/members.json", admin, json={"usernames": "member"}).status_code == 200


# DELETE /groups/{id}/members.json


def test_an_admin_removes_members_and_hears_who_was_not_in(call, admin, member, circle, make_user):
    amal = make_user(Role.MEMBER, "amal")
    make_user(Role.MEMBER, "sione")
    groups.add_members(admin, circle, [amal])
    with site_changes() as changes:
        response = call("DELETE", f"/groups/{circle.id}/members.json", admin, json={"usernames": "member,Sione"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_matches_spec(response, "delete", "/groups/{id}/members.json")
    assert response.json == {"success": "OK", "usernames": ["member"], "skipped_usernames": ["sione"]}
    assert _member_names(circle.id) == ["amal"] and changes
    (entry,) = _audit("group.remove_members")
    assert (entry.actor_id, entry.before) == (admin.id, {"user_ids": [member.id]})
    by_id = call("DELETE", f"/groups/{circle.id}/members.json?user_id={amal.id}", admin)
    assert (by_id.json["usernames"], _member_names(circle.id)) == (["amal"], [])


def test_removing_an_unknown_user_removes_no_one(call, admin, circle):
    response = call("DELETE", f"/groups/{circle.id}/members.json", admin, json={"usernames": "member,ghost"})
    assert "ghost" in _refused(response, 400, "invalid_parameters")[0]
    _refused(call("DELETE", f"/groups/{circle.id}/members.json?user_id=999999", admin), 400, "invalid_parameters")
    _refused(call("DELETE", f"/groups/{circle.id}/members.json?user_id=abc", admin), 400, "invalid_parameters")
    assert _member_names(circle.id) == ["member"]


# Membership is access: a restricted category opens and closes with it at once.


def test_joining_a_group_opens_its_category_and_leaving_closes_it(call, admin, circle, make_user):
    room = categories.create_category(admin, {"name": "Circle room"}, {"circle": 1})
    topic = topics.create_topic(admin, title="Plans for the supplier audit", raw=OPENING, category=room)
    amal = make_user(Role.MEMBER, "amal")
    assert call("GET", f"/t/{topic.id}.json", amal).status_code == 404
    assert call("PUT", f"/groups/{circle.id}/members.json", admin, json={"usernames": "amal"}).status_code == 200
    assert call("GET", f"/t/{topic.id}.json", amal).status_code == 200
    assert room.id in [c["id"] for c in call("GET", "/site.json", amal).json["categories"]]
    assert call("DELETE", f"/groups/{circle.id}/members.json", admin, json={"usernames": "amal"}).status_code == 200
    assert call("GET", f"/t/{topic.id}.json", amal).status_code == 404
    assert room.id not in [c["id"] for c in call("GET", "/site.json", amal).json["categories"]]


# DELETE /admin/groups/{id}.json


def test_an_admin_deletes_a_group_and_its_members_keep_everything_else(call, admin, member, circle):
    topic = topics.create_topic(member, title="What the circle learnt this year", raw=OPENING)
    group_id = circle.id
    with site_changes() as changes:
        response = call("DELETE", f"/admin/groups/{group_id}.json", admin)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_matches_spec(response, "delete", "/admin/groups/{id}.json")
    assert response.json == {"success": "OK"}
    assert (_group_count(), _member_names(group_id), changes) == (0, [], [None])
    assert db.session.get(User, member.id) is not None and call("GET", f"/t/{topic.id}.json", member).status_code == 200
    (entry,) = _audit("group.delete")
    assert (entry.actor_id, entry.subject_id, entry.before) == (admin.id, group_id, {"name": "circle", "full_name": None, "user_ids": [member.id]})
    assert "circle" not in [group["name"] for group in call("GET", "/site.json", admin).json["groups"]]
    _refused(call("DELETE", f"/admin/groups/{group_id}.json", admin), 404, "not_found")


def test_a_group_that_still_grants_a_category_is_not_deleted(call, admin, member, circle):
    """Who may read a category changes on the category, on purpose, never as a side effect of deleting a group."""
    room = categories.create_category(admin, {"name": "Circle room"}, {"circle": 1})
    topic = topics.create_topic(member, title="Notes from the circle meeting", raw=OPENING, category=room)
    errors = _refused(call("DELETE", f"/admin/groups/{circle.id}.json", admin), 422, "invalid_record")
    assert "Circle room" in errors[0]
    assert (_group_count(), _member_names(circle.id), _audit("group.delete")) == (1, ["member"], [])
    assert call("GET", f"/t/{topic.id}.json", member).status_code == 200
    categories.update_category(admin, room.id, {}, {"staff": 1})
    assert call("DELETE", f"/admin/groups/{circle.id}.json", admin).status_code == 200
    assert db.session.get(Category, room.id).read_restricted is True  # staff only, as the admin chose


@pytest.mark.parametrize("who", [None, "member", "moderator"])
def test_only_admins_delete_groups(call, member, moderator, circle, who):
    user = {"member": member, "moderator": moderator}.get(who)
    assert call("DELETE", f"/admin/groups/{circle.id}.json", user).status_code == 403
    assert _group_count() == 1


@pytest.mark.parametrize("path", ["/admin/groups/999999.json", "/admin/groups/circle.json"])
def test_deleting_an_unknown_group_is_not_found(call, admin, circle, path):
    _refused(call("DELETE", path, admin), 404, "not_found")
    assert call("DELETE", f"/admin/groups/{circle.id}.json", admin).status_code == 200
