"""How members follow topics: Discourse's notification levels (POST /t/{id}/notifications), set by members or by what
they do, and what they change in /unread, /new and the other lists."""
import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import NotificationLevel, NotificationReason, Role, Topic, TopicUser
from forum.models.base import utcnow
from forum.services import posts
from tests.api.factories import make_category, make_topic

MUTED, REGULAR, TRACKING, WATCHING = 0, 1, 2, 3
CREATED_TOPIC, USER_CHANGED, CREATED_POST = 1, 2, 4


def details(get, topic, user) -> tuple[int, int | None]:
    """The level the topic view shows ``user``, and the reason stored for it (the spec's topic view has no field for
    the reason)."""
    level = get(f"/t/{topic.id}.json", user).get_json()["details"]["notification_level"]
    db.session.rollback()
    state = db.session.get(TopicUser, (user.id, topic.id)) if user is not None else None
    return level, state.notifications_reason_id if state else None


def listed(get, path: str, user) -> dict[int, dict]:
    return {item["id"]: item for item in get(path, user).get_json()["topic_list"]["topics"]}


def read(post, user, topic, msecs: int, up_to: int = 1) -> None:
    response = post("/topics/timings.json", user, json={"topic_id": topic.id, "topic_time": msecs, "timings": {str(up_to): 1000}})
    assert response.status_code == 200, response.get_data(as_text=True)


def choose(post, user, topic, level):
    return post(f"/t/{topic.id}/notifications.json", user, json={"notification_level": level})


def stored_rows() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(TopicUser))


def test_authors_watch_their_topics_repliers_track_them_and_readers_start_regular(post, get, member, old_member, make_user):
    topic = make_topic(member, 1)
    replier = make_user(Role.MEMBER, "replier")
    assert post("/posts.json", replier, json={"topic_id": topic.id, "raw": "## A reply\n\nWe trained the buyers."}).status_code == 200
    read(post, old_member, topic, 5_000)
    assert details(get, topic, member) == (WATCHING, CREATED_TOPIC)
    assert details(get, topic, replier) == (TRACKING, CREATED_POST)
    assert details(get, topic, old_member) == (REGULAR, None)
    assert details(get, topic, None) == (REGULAR, None)
    options = get(f"/u/{replier.username}.json", replier).get_json()["user"]["user_option"]
    assert (options["notification_level_when_replying"], options["auto_track_topics_after_msecs"]) == (TRACKING, 240_000)


def test_auto_track_false_leaves_the_author_at_regular(post, get, member, old_member):
    body = {"title": "A topic its author will not watch", "raw": "## Opening\n\nWhat worked for you?", "auto_track": False}
    response = post("/posts.json", member, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    topic = db.session.get(Topic, response.get_json()["topic_id"])
    reply = {"topic_id": topic.id, "raw": "## A reply\n\nWe trained the buyers.", "auto_track": "false"}
    assert post("/posts.json", old_member, data=reply).status_code == 200
    assert details(get, topic, member) == (REGULAR, None)
    assert details(get, topic, old_member) == (REGULAR, None)


def test_four_minutes_of_reading_start_tracking_and_only_followed_topics_are_unread(post, get, member, old_member, make_user):
    skimmed, studied = make_topic(member, 1), make_topic(member, 2)
    for _ in range(3):  # a batch adds at most a minute
        read(post, old_member, skimmed, 60_000)
    for _ in range(4):
        read(post, old_member, studied, 60_000)
    assert details(get, skimmed, old_member) == (REGULAR, None)
    assert details(get, studied, old_member) == (TRACKING, None)
    replier = make_user(Role.MEMBER, "replier")
    for topic in (skimmed, studied):
        posts.create_reply(replier, topic, raw="## News\n\nThe company answered our letter.")
    unread = listed(get, "/unread.json", old_member)
    assert set(unread) == {studied.id} and unread[studied.id]["unread_posts"] == 1
    assert unread[studied.id]["notification_level"] == TRACKING
    assert listed(get, "/latest.json", old_member)[skimmed.id]["unread_posts"] == 1  # still shown as unread in lists


def test_a_level_the_member_chose_stands_when_they_reply_or_read(post, get, member, old_member):
    topic = make_topic(member, 1)
    assert choose(post, old_member, topic, REGULAR).get_json() == {"success": "OK"}
    assert post("/posts.json", old_member, json={"topic_id": topic.id, "raw": "## Me too\n\nWe saw the same thing."}).status_code == 200
    for _ in range(5):
        read(post, old_member, topic, 60_000, up_to=2)
    assert details(get, topic, old_member) == (REGULAR, USER_CHANGED)
    assert choose(post, member, topic, "0").status_code == 200  # the author may mute their own topic
    assert details(get, topic, member) == (MUTED, USER_CHANGED)


def test_muted_topics_leave_the_members_lists_until_unmuted(post, get, member, old_member, make_user):
    other = make_user(Role.MEMBER, "other")  # joined before the topics, which are new to them
    category = make_category("Dialogues")
    muted, kept = make_topic(member, 1, category=category, tags=("training",)), make_topic(member, 2, category=category, tags=("training",))
    paths = ("/latest.json", "/new.json", "/top.json", f"/c/{category.slug}/{category.id}.json", "/tag/training.json")
    assert choose(post, old_member, muted, MUTED).status_code == 200
    for path in paths:
        mine, everyones = listed(get, path, old_member), listed(get, path, other)
        assert kept.id in mine and muted.id not in mine, path
        assert muted.id in everyones, path  # muting is the member's own
    read(post, old_member, muted, 1_000)
    posts.create_reply(make_user(Role.MEMBER, "replier"), muted, raw="## News\n\nA new reply to the muted topic.")
    assert muted.id not in listed(get, "/unread.json", old_member)
    assert choose(post, old_member, muted, WATCHING).status_code == 200
    assert listed(get, "/unread.json", old_member)[muted.id]["notification_level"] == WATCHING
    assert muted.id in listed(get, "/latest.json", old_member)


def test_following_a_topic_before_opening_it_keeps_it_new(post, get, member, old_member, admin):
    topic = make_topic(member, 1)
    assert choose(post, old_member, topic, WATCHING).status_code == 200
    item = listed(get, "/new.json", old_member)[topic.id]
    assert item["unseen"] is True and item["notification_level"] == WATCHING
    assert "last_read_post_number" not in item and "unread_posts" not in item
    assert topic.id not in listed(get, "/unread.json", old_member)
    [listed_user] = [u for u in get("/admin/users/list/active.json", admin).get_json() if u["id"] == old_member.id]
    assert listed_user["topics_entered"] == 0
    read(post, old_member, topic, 1_000)
    assert topic.id not in listed(get, "/new.json", old_member)
    assert details(get, topic, old_member) == (WATCHING, USER_CHANGED)


@pytest.mark.parametrize("body", [
    {"notification_level": 4}, {"notification_level": -1}, {"notification_level": "watching"}, {"notification_level": ""},
    {"notification_level": 2.5}, {}, {"level": 2},
])
def test_bad_levels_are_400_and_store_nothing(post, member, old_member, body):
    topic = make_topic(member, 1)
    before = stored_rows()
    response = post(f"/t/{topic.id}/notifications.json", old_member, json=body)
    assert response.status_code == 400, body
    assert response.get_json()["error_type"] == "invalid_parameters"
    assert stored_rows() == before


def test_hidden_missing_and_deleted_topics_are_404_and_anonymous_callers_403(post, get, member, old_member, make_user):
    insider = make_user(Role.MEMBER, "insider")
    secret = make_topic(member, 1, category=make_category("Board room", restricted_to=(insider, member)))
    deleted = make_topic(member, 2, deleted_at=utcnow())
    before = stored_rows()
    for topic_id in (secret.id, deleted.id, 999_999):
        response = post(f"/t/{topic_id}/notifications.json", old_member, json={"notification_level": WATCHING})
        assert response.status_code == 404 and response.get_json()["error_type"] == "not_found", topic_id
    token = get("/session/csrf").get_json()["csrf"]
    response = post(f"/t/{secret.id}/notifications.json", None, json={"notification_level": 3}, headers={"X-CSRF-Token": token})
    assert response.status_code == 403
    assert stored_rows() == before
    assert choose(post, insider, secret, TRACKING).status_code == 200
    db.session.rollback()
    state = db.session.get(TopicUser, (insider.id, secret.id))
    assert (state.notification_level, state.notifications_reason_id) == (NotificationLevel.TRACKING, NotificationReason.USER_CHANGED)
