"""GET /directory_items.json: Discourse's user directory, the members and what they did in a period, counted over what
the viewer may read."""
from datetime import timedelta

import pytest

from forum.models import Post, Role, User
from forum.models.base import utcnow
from forum.services import post_actions, posts, reading, topics
from tests.api.factories import set_columns
from tests.api.spec import assert_matches_spec


@pytest.fixture
def dialogue(make_user, moderator):
    """opener starts two topics (one of them unlisted by staff); replier answers three times, once 40 days ago; liker
    likes the opening post and reads the topic."""
    opener, replier, liker = make_user(username="opener"), make_user(username="replier"), make_user(username="liker")
    topic = topics.create_topic(opener, title="How do organisations work with companies?", raw="What has worked for you so far?")
    hidden = topics.create_topic(opener, title="A topic the staff unlisted for now", raw="Drafting the guiding questions here.")
    topics.set_status(moderator, hidden, "visible", False)
    replies = [posts.create_reply(replier, topic, raw=f"Reply {n}: we trained the suppliers' managers.") for n in range(3)]
    set_columns(Post, replies[0].id, created_at=utcnow() - timedelta(days=40))
    post_actions.like(liker, posts.first_post(topic))
    reading.record_timings(liker, topic.id, 10000, {1: 5000, 2: 5000})
    suspended = make_user(username="suspended")
    set_columns(User, suspended.id, suspended_till=utcnow() + timedelta(days=3))
    pending = make_user(username="pending")
    set_columns(User, pending.id, active=False)
    return topic


def items(client, query: str, headers=None) -> dict[str, dict]:
    response = client.get(f"/directory_items.json?{query}", headers=headers or {})
    assert response.status_code == 200, response.json
    return {item["user"]["username"]: item for item in response.json["directory_items"]}


def test_the_directory_counts_what_each_member_did(client, dialogue):
    response = client.get("/directory_items.json?period=all&order=post_count")
    assert_matches_spec(response, "get", "/directory_items.json")
    listed = [item["user"]["username"] for item in response.json["directory_items"]]
    assert listed[0] == "replier"
    assert set(listed) == {"opener", "replier", "liker", "moderator"}  # not bots, the suspended or the pending
    by_name = {item["user"]["username"]: item for item in response.json["directory_items"]}
    counts = {name: {key: by_name[name][key] for key in ("likes_received", "likes_given", "topic_count", "post_count", "topics_entered")}
              for name in ("opener", "replier", "liker")}
    assert counts == {
        "opener": {"likes_received": 1, "likes_given": 0, "topic_count": 1, "post_count": 0, "topics_entered": 1},
        "replier": {"likes_received": 0, "likes_given": 0, "topic_count": 0, "post_count": 3, "topics_entered": 1},
        "liker": {"likes_received": 0, "likes_given": 1, "topic_count": 0, "post_count": 0, "topics_entered": 1},
    }
    assert by_name["liker"]["id"] == by_name["liker"]["user"]["id"]
    assert (by_name["liker"]["posts_read"], by_name["liker"]["days_visited"]) == (0, 0)
    meta = response.json["meta"]
    assert meta["total_rows_directory_items"] == 4
    assert meta["load_more_directory_items"] == "/directory_items.json?order=post_count&page=1&period=all"


def test_a_period_counts_only_what_was_done_in_it(client, dialogue):
    assert items(client, "period=monthly&order=post_count")["replier"]["post_count"] == 2
    assert items(client, "period=yearly&order=post_count")["replier"]["post_count"] == 3


def test_staff_count_what_they_may_read(client, auth_headers, dialogue, moderator):
    assert items(client, "period=all&order=topic_count")["opener"]["topic_count"] == 1
    assert items(client, "period=all&order=topic_count", auth_headers(moderator))["opener"]["topic_count"] == 2


def test_order_ascending_and_pages(client, dialogue, make_user):
    names = list(items(client, "period=all&order=likes_given&asc=true"))
    assert names[-1] == "liker" and names[:-1] == sorted(names[:-1])  # ties by username
    for n in range(50):
        make_user(username=f"reader{n:02d}")
    first, second = items(client, "period=all&order=likes_given"), items(client, "period=all&order=likes_given&page=1")
    assert len(first) == 50 and len(second) == 4 and not set(first) & set(second)


@pytest.mark.parametrize("query, says", [
    ("order=post_count", "param is missing or the value is empty: period"),
    ("period=hourly", "period must be one of"),
    ("period=all&order=badges", "order must be one of"),
    ("period=all&page=-1", "page"),
])
def test_a_bad_query_is_refused(client, query, says):
    response = client.get(f"/directory_items.json?{query}")
    assert response.status_code == 400 and says in response.json["errors"][0]


def test_the_default_order_is_likes_received(client, dialogue):
    listed = [item["user"]["username"] for item in client.get("/directory_items.json?period=all").json["directory_items"]]
    assert listed[0] == "opener" and len(listed) == len(set(listed))


def test_likes_of_a_staff_whisper_are_not_counted(client, auth_headers, dialogue, moderator, make_user):
    from tests.api.test_topics import add_whisper

    other_moderator = make_user(Role.MODERATOR, "other_moderator")
    post_actions.like(other_moderator, add_whisper(dialogue, moderator))
    for viewer in (None, moderator):
        listed = items(client, "period=all&order=likes_received", auth_headers(viewer) if viewer else None)
        assert listed["moderator"]["likes_received"] == 0 and listed["other_moderator"]["likes_given"] == 0
