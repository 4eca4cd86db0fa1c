"""Read tracking: POST /topics/timings, and the read state lists show from it."""
import pytest
from sqlalchemy import func, select, update

from forum.database import write_unit
from forum.extensions import db
from forum.models import Post, Role, Topic, TopicUser, User
from forum.models.base import utcnow
from forum.services import bots, posts, reading, topics
from tests.api.factories import make_category, make_topic
from tests.conftest import run_together


@pytest.fixture
def thread(app, member, make_user) -> Topic:
    """A topic of 5 posts."""
    topic = make_topic(member, 1)
    replier = make_user(Role.MEMBER, "replier")
    for n in range(2, 6):
        posts.create_reply(replier, topic, raw=f"## Reply {n}\n\nSomething worth reading, number {n}.")
    return topic


def stored(user: User, topic: Topic) -> TopicUser | None:
    db.session.rollback()  # a fresh snapshot: the request wrote in a session of its own
    return db.session.get(TopicUser, (user.id, topic.id))


def set_columns_topic_user(user: User, topic: Topic, **values) -> None:
    with write_unit(db.session):
        db.session.execute(update(TopicUser).where(TopicUser.user_id == user.id, TopicUser.topic_id == topic.id).values(**values))


def stored_count() -> int:
    """Read positions recorded by reading: those of users who have not posted in the topic (posting
    records the author's own position)."""
    db.session.rollback()
    posted = select(Post.id).where(Post.topic_id == TopicUser.topic_id, Post.user_id == TopicUser.user_id).exists()
    return db.session.scalar(select(func.count()).select_from(TopicUser).where(~posted))


def test_form_encoded_timings_record_the_read_position(post, thread, old_member):
    response = post("/topics/timings", old_member, data={"topic_id": thread.id, "topic_time": 3000, "timings[1]": 1000, "timings[2]": 1500})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_data() == b""  # Discourse answers an empty 200
    state = stored(old_member, thread)
    assert (state.last_read_post_number, state.total_msecs_viewed) == (2, 3000)
    assert state.first_visited_at == state.last_visited_at


def test_json_timings_record_the_read_position(post, thread, old_member):
    body = {"topic_id": thread.id, "topic_time": 2000, "timings": {"1": 1000, "3": 900}}
    assert post("/topics/timings.json", old_member, json=body).status_code == 200
    assert (stored(old_member, thread).last_read_post_number, stored(old_member, thread).total_msecs_viewed) == (3, 2000)


def test_the_read_position_only_moves_forward_and_retries_change_it_not(post, thread, old_member):
    def send(post_number: int, topic_time: int = 1000):
        response = post("/topics/timings", old_member, data={"topic_id": thread.id, "topic_time": topic_time, f"timings[{post_number}]": 500})
        assert response.status_code == 200

    send(4)
    first = stored(old_member, thread)
    first_visit, position = first.first_visited_at, first.last_read_post_number
    send(4)  # a retry
    send(2)  # a late batch from further up the page
    state = stored(old_member, thread)
    assert (position, state.last_read_post_number) == (4, 4)
    assert state.total_msecs_viewed == 3000  # reading time adds up, as in Discourse
    assert state.first_visited_at == first_visit and state.last_visited_at > first_visit
    send(5)
    assert stored(old_member, thread).last_read_post_number == 5


def test_post_numbers_beyond_the_last_post_are_clamped(post, thread, old_member):
    assert post("/topics/timings", old_member, data={"topic_id": thread.id, "timings[99]": 100}).status_code == 200
    assert stored(old_member, thread).last_read_post_number == thread.highest_post_number == 5


def test_one_batch_adds_at_most_a_minute_of_reading(post, thread, old_member):
    post("/topics/timings", old_member, data={"topic_id": thread.id, "topic_time": 3_600_000, "timings[1]": 3_600_000})
    assert stored(old_member, thread).total_msecs_viewed == reading.MAX_READ_TIME_PER_BATCH_MS


def test_reading_time_saturates_instead_of_overflowing(post, thread, old_member):
    reading.record_timings(old_member, thread.id, 1000, {1: 1000})
    set_columns_topic_user(old_member, thread, total_msecs_viewed=reading.MAX_TOTAL_MSECS - 10)
    assert post("/topics/timings", old_member, data={"topic_id": thread.id, "topic_time": 5000, "timings[1]": 1}).status_code == 200
    assert stored(old_member, thread).total_msecs_viewed == reading.MAX_TOTAL_MSECS


def test_lists_show_what_is_unread(post, get, member, old_member, make_user):
    """"27 posts / 3 new": 27 posts, read up to 24, leaves 3 unread."""
    topic = make_topic(member, 1)
    replier = make_user(Role.MEMBER, "replier")
    for n in range(2, 28):
        posts.create_reply(replier, topic, raw=f"## Reply {n}\n\nAnother contribution, number {n}.")
    untouched = make_topic(member, 2).id

    def item(path: str) -> dict | None:
        found = [i for i in get(path, old_member).get_json()["topic_list"]["topics"] if i["id"] == topic.id]
        return found[0] if found else None

    before = item("/latest.json")
    assert before["unseen"] is True and "unread_posts" not in before and item("/new.json") is not None
    timings = {f"timings[{n}]": 1000 for n in range(1, 25)}
    assert post("/topics/timings", old_member, data={"topic_id": topic.id, "topic_time": 24_000, **timings}).status_code == 200
    after = item("/latest.json")
    assert (after["highest_post_number"], after["last_read_post_number"], after["unread_posts"]) == (27, 24, 3)
    assert after["unseen"] is False
    assert item("/new.json") is None
    assert item("/unread.json") is None  # read, but not followed: Discourse's /unread lists tracked topics only
    assert post(f"/t/{topic.id}/notifications.json", old_member, json={"notification_level": 2}).status_code == 200
    assert item("/unread.json")["unread_posts"] == 3
    assert [i["id"] for i in get("/new.json", old_member).get_json()["topic_list"]["topics"]] == [untouched]
    post("/topics/timings", old_member, json={"topic_id": topic.id, "topic_time": 3000, "timings": {"25": 1000, "26": 1000, "27": 1000}})
    assert item("/latest.json")["unread_posts"] == 0
    assert item("/unread.json") is None


def test_timings_for_a_topic_the_user_cannot_see_are_404_and_store_nothing(post, app, make_user, member, moderator, old_member):
    insider = make_user(Role.MEMBER, "insider")
    category = make_category("Board room", restricted_to=(insider, member))
    secret = make_topic(member, 1, category=category)
    deleted = make_topic(member, 2, deleted_at=utcnow())
    for topic_id in (secret.id, deleted.id, 999_999):
        response = post("/topics/timings", old_member, data={"topic_id": topic_id, "topic_time": 1000, "timings[1]": 1000})
        assert response.status_code == 404, topic_id
        assert response.get_json()["error_type"] == "not_found"
    assert stored_count() == 0
    for user in (insider, moderator):
        assert post("/topics/timings", user, data={"topic_id": secret.id, "timings[1]": 1000}).status_code == 200
    assert stored(insider, secret).last_read_post_number == 1


def test_anonymous_timings_are_403(post, get, thread):
    token = get("/session/csrf").get_json()["csrf"]  # an anonymous browser session, CSRF token and all
    response = post("/topics/timings", None, data={"topic_id": thread.id, "timings[1]": 1000}, headers={"X-CSRF-Token": token})
    assert response.status_code == 403
    assert response.get_json()["errors"] == ["You need to be logged in to do that."]
    assert stored_count() == 0


FORM_BAD_INPUT = [
    {"topic_time": "1000", "timings[1]": "1000"},  # no topic
    {"topic_id": "abc", "timings[1]": "1000"},
    {"topic_id": "{topic}", "topic_time": "1000"},  # no timings
    {"topic_id": "{topic}", "timings[0]": "1000"},
    {"topic_id": "{topic}", "timings[-1]": "1000"},
    {"topic_id": "{topic}", "timings[first]": "1000"},
    {"topic_id": "{topic}", "timings[1]": "long"},
    {"topic_id": "{topic}", "timings[1]": "-5"},
    {"topic_id": "{topic}", "topic_time": "-1", "timings[1]": "1000"},
    {"topic_id": "{topic}", "topic_time": "soon", "timings[1]": "1000"},
]

JSON_BAD_INPUT = [
    {"topic_id": "{topic}", "timings": [1000, 1000]},
    {"topic_id": "{topic}", "timings": "1=1000"},
    {"topic_id": "{topic}", "timings": {}},
    {"topic_id": "{topic}", "timings": {"1": "x"}},
    {"topic_id": "{topic}", "timings": {"1": True}},
    {"topic_id": "{topic}", "timings": {"1": 10.5}},
    {"topic_id": "{topic}", "timings": {"one": 1000}},
    {"topic_id": {"id": "{topic}"}, "timings": {"1": 1000}},
    [{"topic_id": "{topic}"}],
]


def _with_topic(value, topic_id: int):
    if isinstance(value, dict):
        return {key: _with_topic(item, topic_id) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_topic(item, topic_id) for item in value]
    return topic_id if value == "{topic}" else value


@pytest.mark.parametrize("body", FORM_BAD_INPUT, ids=[str(b) for b in FORM_BAD_INPUT])
def test_bad_form_input_is_400_and_stores_nothing(post, thread, old_member, body):
    response = post("/topics/timings", old_member, data=_with_topic(body, thread.id))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error_type"] == "invalid_parameters"
    assert stored_count() == 0


@pytest.mark.parametrize("body", JSON_BAD_INPUT, ids=[str(b) for b in JSON_BAD_INPUT])
def test_bad_json_input_is_400_and_stores_nothing(post, thread, old_member, body):
    response = post("/topics/timings", old_member, json=_with_topic(body, thread.id))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error_type"] == "invalid_parameters"
    assert stored_count() == 0


def test_concurrent_timings_lose_no_update(app, thread, old_member):
    """Many batches at once (tabs, retries): the furthest position wins and every batch's time counts."""
    batches = [(post_number, 100 * post_number) for post_number in (3, 1, 5, 2, 4, 5, 1, 3)]
    topic_id, reader_id = thread.id, old_member.id

    def send(start, post_number: int, msecs: int) -> None:
        user = db.session.get(User, reader_id)
        start()
        reading.record_timings(user, topic_id, msecs, {post_number: msecs})

    errors = run_together(app, send, batches)
    assert errors == []
    state = db.session.get(TopicUser, (reader_id, topic_id))
    assert state.last_read_post_number == 5
    assert state.total_msecs_viewed == sum(msecs for _, msecs in batches)


def test_a_moderators_own_status_change_is_read_by_them_as_any_post_they_write(post, get, thread, member, moderator, app):
    """Closing a topic they had read left it unread for the moderator (its small-action post), and pinning one
    they never opened left it new. A timer's status change is the system user's, who reads nothing."""
    assert post("/topics/timings", moderator, json={"topic_id": thread.id, "topic_time": 5000,
                                                     "timings": {str(n): 1000 for n in range(1, 6)}}).status_code == 200
    topics.set_status(moderator, thread, "closed", True)
    unopened = make_topic(member, 2)
    topics.set_status(moderator, unopened, "pinned", True)
    assert [t["id"] for t in get("/unread.json", moderator).get_json()["topic_list"]["topics"]] == []
    assert unopened.id not in [t["id"] for t in get("/new.json", moderator).get_json()["topic_list"]["topics"]]
    assert stored(moderator, thread).last_read_post_number == 6
    topics.set_status(bots.system_user(), db.session.get(Topic, thread.id), "closed", False)
    assert db.session.scalar(select(func.count()).select_from(TopicUser).where(TopicUser.user_id == bots.system_user().id)) == 0
