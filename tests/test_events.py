"""Domain events reach listeners only after the change committed, and never when it rolled back."""
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from forum.database import after_commit, write_unit
from forum.extensions import db
from forum.models import Post
from forum.services import events, posts, tactics, topics
from forum.services.errors import NotAllowed


@contextmanager
def listening(signal):
    received = []
    with signal.connected_to(lambda sender, **data: received.append((sender, data))):
        yield received


def test_after_commit_runs_after_the_outermost_unit_commits(app):
    calls = []
    with write_unit(db.session):
        after_commit(lambda: calls.append("outer"))
        with write_unit(db.session):
            after_commit(lambda: calls.append("inner"))
        assert calls == []  # the nested unit joined the outer one, which has not committed yet
    assert calls == ["outer", "inner"]


def test_after_commit_callbacks_are_dropped_on_rollback(app):
    calls = []
    with pytest.raises(RuntimeError):
        with write_unit(db.session):
            after_commit(lambda: calls.append("never"))
            raise RuntimeError("the write failed")
    with write_unit(db.session):
        pass
    assert calls == []


def test_after_commit_outside_a_write_unit_is_a_programming_error(app):
    with pytest.raises(RuntimeError):
        after_commit(lambda: None)


def test_posting_and_editing_announce_the_post_and_the_topic(app, member):
    with listening(events.post_created) as created, listening(events.topic_changed) as changed:
        topic = topics.create_topic(member, title="Working with suppliers on labour rights", raw="How did your organisation start working with suppliers?")
        reply = posts.create_reply(member, topic, raw="We began with a training for managers.")
    first_id = db.session.scalar(select(Post.id).where(Post.topic_id == topic.id, Post.post_number == 1))
    assert created == [(first_id, {"topic_id": topic.id}), (reply.id, {"topic_id": topic.id})]
    assert [sender for sender, _ in changed] == [topic.id, topic.id]  # once per write unit: the topic, the reply
    with listening(events.post_edited) as edited:
        posts.edit_post(member, reply, raw="We began with a training for supplier managers.")
        posts.edit_post(member, reply, raw="We began with a training for supplier managers.")  # unchanged: no event
    assert edited == [(reply.id, {"topic_id": topic.id})]


def test_a_recovered_post_or_topic_is_announced_for_the_bots_to_read_again(app, member, moderator):
    topic = topics.create_topic(member, title="Trainings for supplier managers", raw="Who has trained supplier managers?")
    reply = posts.create_reply(member, topic, raw="We trained the managers of two suppliers.")
    posts.delete_post(moderator, reply)
    with listening(events.post_edited) as edited:
        posts.recover_post(moderator, reply)
        posts.recover_post(moderator, reply)  # not deleted any more: nothing happens
    assert edited == [(reply.id, {"topic_id": topic.id})]
    topics.delete_topic(moderator, topic)
    with listening(events.topic_recovered) as recovered, listening(events.post_edited) as edited:
        topics.recover_topic(moderator, topic)
        topics.recover_topic(moderator, topic)  # not deleted any more: nothing happens
    assert recovered == [(topic.id, {})] and edited == []  # one announcement, however long the topic
    assert tactics.scorable_post_ids(topic.id) == [posts.first_post(topic).id, reply.id]


def test_a_refused_reply_announces_nothing(app, member, moderator, make_user):
    topic = topics.create_topic(member, title="A closed dialogue on buycotts", raw="Who has run a carrotmob?")
    topics.set_status(moderator, topic, "closed", True)
    with listening(events.post_created) as created, listening(events.topic_changed) as changed:
        with pytest.raises(NotAllowed):
            posts.create_reply(make_user(), topic, raw="Too late, the topic is closed.")
    assert created == [] and changed == []


def test_one_announcement_per_unit_and_a_failing_listener_spoils_nothing(app, member, moderator):
    topic = topics.create_topic(member, title="A dialogue about restorative circles", raw="Who has sat in a circle with a company?")
    calls = []
    with write_unit(db.session):
        after_commit(lambda: 1 / 0)  # a broken listener (a cache or broker outage): logged, not raised
        after_commit(lambda: calls.append("first"), key="same")
        after_commit(lambda: calls.append("second"), key="same")
    assert calls == ["first"]
    with listening(events.topic_changed) as changed:
        topics.set_status(moderator, topic, "closed", True)  # the status and its small-action post: one change
    assert changed == [(topic.id, {})]
