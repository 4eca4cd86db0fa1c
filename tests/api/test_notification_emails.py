"""Notification emails, as Discourse's email_level has them: a member is mailed a mention, a reply to them or a post in
a topic they watch at once (always), when still unread a while later (only when away, the default), or never; each
once, and only while they may read the post."""
import re
from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from forum.extensions import db
from forum.models import EmailLevel, Notification, NotificationLevel, Post, Role, User
from forum.models.base import utcnow
from forum.services import notifications, posts, reading, topics, unsubscribes, users
from tests.api.factories import set_columns
from tests.conftest import wait_until


@pytest.fixture
def reply(member, make_user):
    """A reply to the member's topic, and the member's notification about it (not sent by a worker: made here)."""
    topic = topics.create_topic(member, title="How do organisations work with companies?", raw="What has worked for you so far?")
    answer = posts.create_reply(make_user(username="replier"), topic, raw="We trained the suppliers' managers first.",
                                reply_to_post_number=1)
    notifications.notify_about_post(answer.id)
    return answer


def notification_of(user: User) -> Notification:
    db.session.expire_all()
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id)).one()


@pytest.mark.parametrize("level, read, mailed", [
    (EmailLevel.ONLY_WHEN_AWAY, False, True),
    (EmailLevel.ONLY_WHEN_AWAY, True, False),  # read meanwhile: nothing to tell
    (EmailLevel.ALWAYS, True, True),
    (EmailLevel.NEVER, False, False),
])
def test_the_email_level_decides(member, reply, level, read, mailed):
    set_columns(User, member.id, email_level=level)
    item = notification_of(member)
    set_columns(Notification, item.id, read=read)
    assert notifications.email_notification(item.id) is mailed
    assert (notification_of(member).emailed_at is not None) is mailed


def test_a_post_read_in_its_topic_is_not_mailed_to_a_member_away(member, reply):
    reading.record_timings(member, reply.topic_id, 3000, {reply.post_number: 3000})
    item = notification_of(member)
    assert item.read is False  # the notification itself was never opened: the post was read
    assert notifications.email_notification(item.id) is False


def test_nothing_is_mailed_about_a_topic_muted_since_or_a_post_hidden_since(member, reply, moderator):
    item = notification_of(member)
    reading.set_notification_level(member, reply.topic_id, NotificationLevel.MUTED)
    assert notifications.email_notification(item.id) is False
    reading.set_notification_level(member, reply.topic_id, NotificationLevel.REGULAR)
    set_columns(Post, reply.id, hidden_at=utcnow())
    assert notifications.email_notification(item.id) is False
    set_columns(Post, reply.id, hidden_at=None)
    assert notifications.email_notification(item.id) is True


def test_a_notification_is_mailed_once(member, reply):
    item = notification_of(member)
    assert notifications.email_notification(item.id) is True
    assert notifications.email_notification(item.id) is False


def test_nothing_is_mailed_about_a_post_deleted_since_or_a_notification_that_is_gone(member, moderator, reply):
    item = notification_of(member)
    posts.delete_post(moderator, db.session.get(type(reply), reply.id))
    assert notifications.email_notification(item.id) is False
    assert notifications.email_notification(999999) is False


@pytest.mark.parametrize("closed", [{"active": False}, {"suspended_till": utcnow() + timedelta(days=7)}],
                         ids=["deactivated", "suspended"])
def test_a_member_who_may_not_sign_in_is_not_mailed(member, reply, closed):
    item = notification_of(member)
    set_columns(User, member.id, **closed)
    assert notifications.email_notification(item.id) is False
    set_columns(User, member.id, active=True, suspended_till=None)
    assert notifications.email_notification(item.id) is True  # the same notification, once they may again


def test_an_anonymized_member_is_not_mailed(member, moderator, reply):
    item = notification_of(member)
    users.anonymize(moderator, member.id)
    assert notifications.email_notification(item.id) is False


def test_a_member_sets_their_email_level_and_sees_it(client, auth_headers, member, moderator):
    response = client.put("/u/member.json", json={"email_level": 2}, headers=auth_headers(member))
    assert response.status_code == 200
    assert response.json["user"]["user_option"]["email_level"] == 2
    assert client.get("/u/member.json", headers=auth_headers(member)).json["user"]["user_option"]["email_level"] == 2
    shown_to_others = client.get("/u/member.json").json["user"]["user_option"]["email_level"]
    assert shown_to_others == EmailLevel.ONLY_WHEN_AWAY  # the forum's default: another's preference is theirs
    refused = client.put("/u/member.json", json={"email_level": 7}, headers=auth_headers(member))
    assert refused.status_code == 400 and "email_level must be" in refused.json["errors"][0]
    assert db.session.get(User, member.id).email_level == EmailLevel.NEVER


@pytest.fixture
def notifications_on(app):
    app.config["NOTIFICATIONS_ENABLED"] = True
    yield
    app.config["NOTIFICATIONS_ENABLED"] = False


def test_a_worker_mails_an_unread_reply_after_the_delay(app, make_user, notifications_on, worker, inbox, instance_path):
    asker = make_user(username="away_member")  # an address no other test mails: the inbox lasts the whole session
    topic = topics.create_topic(asker, title="How do organisations work with companies?", raw="What has worked for you so far?")
    posts.create_reply(make_user(username="replier"), topic, raw="A membership association set the code of conduct.",
                       reply_to_post_number=1)
    describe = lambda: (instance_path / "worker.log").read_text()[-3000:]  # noqa: E731
    (message,) = wait_until(lambda: inbox.to("away_member@example.com"), timeout=60, describe=describe)
    assert message["Subject"] == "[forum] How do organisations work with companies?"
    body = message.get_content()
    assert 'replier replied to you in "How do organisations work with companies?"' in body
    assert "A membership association set the code of conduct." in body
    assert f"/t/{topic.slug}/{topic.id}/2" in body
    mailed = notification_of(asker)
    assert mailed.emailed_at - mailed.created_at >= timedelta(seconds=app.config["NOTIFICATION_EMAIL_DELAY"])
    unsubscribe = re.search(r"http://\S+/email/unsubscribe/\S+", body).group(0)
    assert message["List-Unsubscribe"].strip() == f"<{unsubscribe}>"  # (a long header is folded after its colon)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert worker.poll() is None, "the worker died"


def test_the_unsubscribe_link_shows_whose_mail_stops_and_its_button_stops_it(app, client, member):
    key = unsubscribes.link_for(member).rsplit("/", 1)[1]
    page = client.get(f"/email/unsubscribe/{key}")
    assert page.status_code == 200 and "<strong>member</strong>" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert db.session.get(User, member.id).email_level == EmailLevel.ONLY_WHEN_AWAY  # opening it changes nothing
    authenticity_token = re.search(r'name="authenticity_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    done = client.post(f"/email/unsubscribe/{key}", data={"authenticity_token": authenticity_token})
    assert done.status_code == 200 and "is mailed no more notifications" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, member.id).email_level == EmailLevel.NEVER


@pytest.mark.parametrize("key", ["not-a-key", URLSafeSerializer("another secret", salt="forum.unsubscribe").dumps([1, "x"]),
                                 URLSafeSerializer("testing-only-secret", salt="another.purpose").dumps([1, "x"]),
                                 URLSafeSerializer("testing-only-secret", salt="forum.unsubscribe").dumps(1)])
def test_a_key_the_forum_did_not_sign_for_this_names_nobody(client, member, key):
    page = client.get(f"/email/unsubscribe/{key}")
    assert page.status_code == 404 and "<form" not in page.get_data(as_text=True)


def test_a_mail_providers_one_click_post_stops_the_mail_without_a_session(app, member):
    """RFC 8058: the provider posts List-Unsubscribe=One-Click to the link, with no cookie and no CSRF token."""
    key = unsubscribes.link_for(member).rsplit("/", 1)[1]
    response = app.test_client().post(f"/email/unsubscribe/{key}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert db.session.get(User, member.id).email_level == EmailLevel.NEVER
    other_writes = app.test_client().post("/session/forgot_password.json", json={"login": "member"})
    assert other_writes.status_code == 403  # every other write still needs its token


def test_a_key_names_no_later_account_that_takes_the_same_id(client, member):
    key = unsubscribes.link_for(member).rsplit("/", 1)[1]
    set_columns(User, member.id, created_at=utcnow())  # as an account made anew under the id would be
    assert client.get(f"/email/unsubscribe/{key}").status_code == 404


def test_a_members_email_level_is_theirs_or_an_admins_to_change(client, auth_headers, member, moderator, make_user):
    """A preference, as the bots' opt-out: moderators edit a member's name, not their mail."""
    admin = make_user(Role.ADMIN, "admin")
    refused = client.put("/u/member.json", json={"email_level": 2}, headers=auth_headers(moderator))
    assert refused.status_code == 403 and refused.json["errors"] == ["You can only change your own preferences."]
    assert client.put("/u/member.json", json={"email_level": 0}, headers=auth_headers(admin)).status_code == 200
    assert db.session.get(User, member.id).email_level == EmailLevel.ALWAYS
