"""PUT /t/{id}/change-timestamp: staff date a topic (a dialogue brought in from elsewhere, as it was held); its posts
move with it, keeping their order and the gaps between them."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import AuditLogEntry, Post, Topic
from forum.models.base import utcnow
from forum.services import posts, topics
from tests.api.factories import set_columns
from tests.api.spec import assert_matches_spec

# When the New Tactics dialogue on working with corporations opened (its seed file gives no year; any past date does).
OPENED = datetime(2009, 10, 5, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def dialogue(member, moderator):
    """A topic and two replies written an hour apart, the last one deleted."""
    topic = topics.create_topic(member, title="How do organisations work with companies?", raw="What has worked for you so far?")
    first_reply = posts.create_reply(moderator, topic, raw="We trained the suppliers' managers first.")
    last_reply = posts.create_reply(member, topic, raw="A membership association set the code of conduct.")
    start = utcnow() - timedelta(hours=3)
    for number, post_id in enumerate([posts.first_post(topic).id, first_reply.id, last_reply.id]):
        set_columns(Post, post_id, created_at=start + timedelta(hours=number))
    set_columns(Topic, topic.id, created_at=start)
    return topic


def times(topic: Topic) -> list[datetime]:
    db.session.expire_all()
    return list(db.session.scalars(select(Post.created_at).where(Post.topic_id == topic.id).order_by(Post.post_number)))


def change(client, auth_headers, actor, topic_id: int, timestamp):
    return client.put(f"/t/{topic_id}/change-timestamp.json", json={"timestamp": timestamp}, headers=auth_headers(actor))


@pytest.mark.parametrize("timestamp", [str(int(OPENED.timestamp())), int(OPENED.timestamp())], ids=["string", "number"])
def test_the_topic_and_its_posts_move_to_the_date_keeping_their_gaps(client, auth_headers, moderator, dialogue, timestamp):
    response = change(client, auth_headers, moderator, dialogue.id, timestamp)
    assert response.status_code == 200 and response.json == {"success": "OK"}
    assert_matches_spec(response, "put", "/t/{id}/change-timestamp.json")
    assert times(dialogue) == [OPENED, OPENED + timedelta(hours=1), OPENED + timedelta(hours=2)]
    topic = db.session.get(Topic, dialogue.id)
    assert topic.created_at == OPENED
    assert topic.last_posted_at == topic.bumped_at == OPENED + timedelta(hours=2)
    view = client.get(f"/t/{dialogue.id}.json").json
    assert view["created_at"].startswith("2009-10-05T12:00:00")
    (entry,) = db.session.scalars(select(AuditLogEntry).where(AuditLogEntry.action == "topic.change_timestamp"))
    assert (entry.actor_id, entry.after) == (moderator.id, {"created_at": OPENED.isoformat()})


def test_a_deleted_last_post_keeps_its_place_but_does_not_date_the_last_post(client, auth_headers, moderator, dialogue):
    last = db.session.scalars(select(Post).where(Post.topic_id == dialogue.id).order_by(Post.post_number.desc())).first()
    posts.delete_post(moderator, last)
    assert change(client, auth_headers, moderator, dialogue.id, OPENED.timestamp()).status_code == 200
    assert times(dialogue)[2] == OPENED + timedelta(hours=2)
    assert db.session.get(Topic, dialogue.id).last_posted_at == OPENED + timedelta(hours=1)


def test_posts_moved_past_now_stop_at_now(client, auth_headers, moderator, dialogue):
    half_an_hour_ago = utcnow() - timedelta(minutes=30)
    assert change(client, auth_headers, moderator, dialogue.id, half_an_hour_ago.timestamp()).status_code == 200
    first, second, third = times(dialogue)
    assert abs(first - half_an_hour_ago) < timedelta(seconds=1)
    assert second == third and utcnow() - third < timedelta(minutes=1)


@pytest.mark.parametrize("timestamp, status, says", [
    ("yesterday", 400, "seconds since 1970"),
    ("1e30", 400, "seconds since 1970"),
    (None, 400, "param is missing"),
    (str(int((utcnow() + timedelta(days=1)).timestamp())), 422, "must not be in the future"),
])
def test_a_timestamp_that_is_no_past_time_is_refused(client, auth_headers, moderator, dialogue, timestamp, status, says):
    before = times(dialogue)
    response = change(client, auth_headers, moderator, dialogue.id, timestamp)
    assert response.status_code == status and says in response.json["errors"][0]
    assert times(dialogue) == before


def test_only_staff_date_a_topic(client, auth_headers, member, moderator, dialogue):
    before = times(dialogue)
    assert change(client, auth_headers, member, dialogue.id, OPENED.timestamp()).status_code == 403
    assert change(client, auth_headers, moderator, 999999, OPENED.timestamp()).status_code == 404
    assert times(dialogue) == before
