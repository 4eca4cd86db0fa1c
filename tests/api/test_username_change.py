"""PUT /u/{username}/preferences/username: a member renames themselves while their account is new, staff rename
anyone; the @mentions of the old name in others' posts (and in revisions and notifications) follow, as Discourse's
UsernameChanger makes them, and so do they when staff anonymize an account."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import AuditLogEntry, Notification, Post, PostRevision, Reviewable, Role, User
from forum.models.base import utcnow
from forum.services import groups, notifications, posts, topics, users
from tests.api.factories import set_columns
from tests.api.test_session import csrf, sign_in

MENTIONS = ("Thanks @member for the example. @member2 ran another; mail me at ngo@member.org, "
            "or see https://social.example/@member.\n\n[quote=\"Member, post:2, topic:1\"]\nWe trained them.\n[/quote]")


def rename(client, auth_headers, actor, username: str, new_username: str | None):
    body = {} if new_username is None else {"new_username": new_username}
    return client.put(f"/u/{username}/preferences/username.json", json=body, headers=auth_headers(actor))


def settle(user: User) -> None:
    """An account past the change period that has written a post: its name is how others know it."""
    topics.create_topic(user, title="How do organisations work with companies?", raw="What has worked for you so far?")
    set_columns(User, user.id, created_at=utcnow() - timedelta(days=4))


def test_a_new_member_renames_themselves_and_signs_in_by_the_new_name(app, client, auth_headers, member):
    response = rename(client, auth_headers, member, "member", "Amara_O")
    assert response.status_code == 200
    assert response.json == {"id": member.id, "username": "Amara_O"}
    assert users.find_by_username("amara_o").id == member.id and users.find_by_username("member") is None
    assert sign_in(app.test_client(), "amara_o").status_code == 200
    entry = db.session.scalars(select(AuditLogEntry).where(AuditLogEntry.action == "user.change_username")).one()
    assert (entry.actor_id, entry.before, entry.after) == (member.id, {"username": "member"}, {"username": "Amara_O"})


def test_a_change_of_case_is_a_rename_and_the_same_name_changes_nothing(client, auth_headers, member):
    assert rename(client, auth_headers, member, "member", "Member").json["username"] == "Member"
    assert rename(client, auth_headers, member, "Member", "Member").status_code == 200
    (entry,) = db.session.scalars(select(AuditLogEntry).where(AuditLogEntry.action == "user.change_username"))
    assert entry.after == {"username": "Member"}


@pytest.mark.parametrize("new_username, message", [
    ("a", "Username must be 3 to 20 characters"),
    ("amara..o", "Username must not have two of"),
    ("amara.json", "Username must not end like a file name"),
    ("OTHER", "Username 'OTHER' is already taken."),
    ("circle", "Username 'circle' is already taken."),
    ("staff", "Username 'staff' is already taken."),
    ("support", "Username 'support' is reserved."),
])
def test_a_name_that_cannot_be_taken_is_refused(client, auth_headers, member, admin, make_user, new_username, message):
    make_user(username="other")
    groups.create_group(admin, "circle")
    response = rename(client, auth_headers, member, "member", new_username)
    assert response.status_code == 422
    assert response.json["error_type"] == "invalid_record" and response.json["errors"][0].startswith(message)
    assert users.find_by_username("member") is not None


def test_a_request_without_a_new_name_is_refused(client, auth_headers, member):
    response = rename(client, auth_headers, member, "member", None)
    assert response.status_code == 400 and response.json["error_type"] == "invalid_parameters"


def test_who_may_rename_whom(client, auth_headers, member, moderator, make_user):
    admin, other = make_user(Role.ADMIN, "admin"), make_user(username="other")
    settle(member)
    refused = [
        (member, "member", "no longer be changed by you"),  # settled: staff rename it
        (other, "member", "only change your own"),
        (moderator, "admin", "Only admins"),
        (admin, "tactics-bot", "bots"),
    ]
    for actor, target, says in refused:
        response = rename(client, auth_headers, actor, target, "newname")
        assert response.status_code == 403, (actor, target, response.json)
        assert says in response.json["errors"][0]
    anonymous = client.put("/u/member/preferences/username.json", json={"new_username": "newname"}, headers={"X-CSRF-Token": csrf(client)})
    assert anonymous.status_code == 403 and anonymous.json["error_type"] == "not_logged_in"
    assert rename(client, auth_headers, admin, "nobody", "newname").status_code == 404
    assert rename(client, auth_headers, moderator, "member", "amara").status_code == 200
    assert rename(client, auth_headers, admin, "admin", "chief").status_code == 200


@pytest.mark.parametrize("days_old, has_posts", [(4, False), (1, True)])
def test_a_member_renames_themselves_while_new_or_silent(client, auth_headers, member, days_old, has_posts):
    if has_posts:
        topics.create_topic(member, title="How do organisations work with companies?", raw="What has worked for you so far?")
    set_columns(User, member.id, created_at=utcnow() - timedelta(days=days_old))
    assert rename(client, auth_headers, member, "member", "amara").status_code == 200


def test_mentions_of_the_old_name_follow_in_posts_revisions_and_notifications(client, auth_headers, member, moderator, make_user):
    make_user(username="member2")
    writer = make_user(username="writer")
    topic = topics.create_topic(writer, title="How do organisations work with companies?", raw=MENTIONS)
    reply = posts.create_reply(writer, topic, raw="First draft, no names yet.", reply_to_post_number=1)
    posts.edit_post(writer, reply, raw="Second draft: as @Member said, start with the board.")
    answer = posts.create_reply(member, topic, raw="Glad it helped; the board listened to us too.", reply_to_post_number=1)
    notifications.notify_about_post(answer.id)  # the writer is told, by the member's name
    version = posts.first_post(topic).version

    assert rename(client, auth_headers, moderator, "member", "amara").status_code == 200
    db.session.expire_all()
    first = posts.first_post(topic)
    assert first.raw == ("Thanks @amara for the example. @member2 ran another; mail me at ngo@member.org, "
                         "or see https://social.example/@member.\n\n[quote=\"amara, post:2, topic:1\"]\nWe trained them.\n[/quote]")
    assert "@amara" in first.cooked and "@member " not in first.cooked
    assert first.version == version  # no revision: the author's words, of the same member
    (revision,) = db.session.scalars(select(PostRevision).where(PostRevision.post_id == reply.id))
    assert revision.raw_after == "Second draft: as @amara said, start with the board."
    assert db.session.get(Post, reply.id).raw == "Second draft: as @amara said, start with the board."
    (told,) = db.session.scalars(select(Notification).where(Notification.user_id == writer.id))
    assert told.data["display_username"] == "amara"
    entry = db.session.scalars(select(AuditLogEntry).where(AuditLogEntry.action == "user.change_username")).one()
    assert entry.context == {"posts_whose_mentions_were_renamed": 2}


def test_the_evidence_a_tactic_suggestion_quotes_follows_too(client, auth_headers, member, moderator, make_user):
    from tests.api.test_review import suggest

    writer = make_user(username="writer")
    topic = topics.create_topic(writer, title="How do organisations work with companies?", raw="What has worked for you?")
    post = posts.create_reply(writer, topic, raw="As @member showed, we trained the managers of the supplier.")
    [item] = suggest(post, "training", evidence="As @member showed, we trained the managers of the supplier.")
    assert rename(client, auth_headers, moderator, "member", "amara").status_code == 200
    db.session.expire_all()
    assert db.session.get(Reviewable, item.id).payload["evidence"] == [
        "As @amara showed, we trained the managers of the supplier."]
    shown = client.get(f"/review/{item.id}.json", headers=auth_headers(moderator)).json["reviewable"]["payload"]
    assert shown["evidence"] == ["As @amara showed, we trained the managers of the supplier."]


def test_anonymizing_renames_the_mentions_of_the_person(client, auth_headers, member, moderator, make_user):
    writer = make_user(username="writer")
    topic = topics.create_topic(writer, title="How do organisations work with companies?", raw=MENTIONS)
    users.anonymize(moderator, member.id)
    anonymous = db.session.get(User, member.id).username
    db.session.expire_all()
    assert posts.first_post(topic).raw == MENTIONS.replace("Thanks @member ", f"Thanks @{anonymous} ").replace(
        '[quote="Member,', f'[quote="{anonymous},')


def test_two_accounts_taking_one_name_at_once_get_it_once(app, make_user):
    from forum.services.errors import ValidationFailed
    from tests.conftest import run_together

    first, second = make_user(username="first"), make_user(username="second")
    ids = [first.id, second.id]

    def take(start, user_id):
        user = db.session.get(User, user_id)
        start()
        users.change_username(user, user.username, "amara")

    errors = run_together(app, take, [(user_id,) for user_id in ids])
    assert len(errors) == 1 and isinstance(errors[0], ValidationFailed), errors
    assert errors[0].messages in (["Username 'amara' is already taken."],  # refused by the check, or by the database:
                                  ["That username was just taken by another change; please try again."])
    assert sorted(db.session.get(User, user_id).username for user_id in ids) in (["amara", "second"], ["amara", "first"])


def test_the_profile_says_what_the_viewer_may_change(client, auth_headers, member, moderator, make_user):
    admin = make_user(Role.ADMIN, "admin")

    def flags(viewer) -> tuple:
        user = client.get("/u/member.json", headers=auth_headers(viewer)).json["user"]
        return user["can_edit"], user["can_edit_name"], user["can_edit_username"], user["can_edit_email"]

    assert flags(member) == (True, True, True, True)
    assert flags(moderator) == (True, True, True, False)  # moderators never move an address
    assert flags(admin) == (True, True, True, True)
    assert flags(None) == (False, False, False, False)
    settle(member)
    assert flags(member) == (True, True, False, True)
