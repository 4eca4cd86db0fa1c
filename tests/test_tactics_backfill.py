"""The tactics bot's backfill: which posts it reads again, when their own task never ran (the bot is off here,
as when the broker lost their task), and which it must leave alone."""
import socket
from datetime import timedelta

import flask_migrate
import pytest

from forum import create_app
from forum.extensions import db
from forum.models import Post, PostType, Reviewable, Role, TacticScoring
from forum.models.base import utcnow
from forum.services import bot_preferences, bots, posts, tactics, topics, users
from tests.api.factories import set_columns
from tests.api.test_review import TRAINING_POST as TRAINING, topic  # noqa: F401  (fixture)


def _written_long_ago(post_id: int) -> int:
    set_columns(Post, post_id, updated_at=utcnow() - timedelta(hours=1))
    return post_id


def _unscored() -> list[int]:
    db.session.rollback()
    return tactics.unscored_post_ids(limit=100, written_before=utcnow() - timedelta(minutes=5))


def test_a_post_never_read_is_listed_until_the_bot_reads_it_and_again_after_an_edit(topic, make_user):
    author = make_user()
    post_id = _written_long_ago(posts.create_reply(author, topic, raw=TRAINING).id)
    opening_id = _written_long_ago(posts.first_post(topic).id)
    assert _unscored() == [post_id, opening_id]  # newest first

    [item] = tactics.suggest_for_post(post_id)
    assert item.payload["tactic"] == "training"
    assert _unscored() == [opening_id]
    scoring = db.session.get(TacticScoring, post_id)
    assert (scoring.post_version, scoring.model_version) == (1, tactics.current_model().version)

    posts.edit_post(author, db.session.get(Post, post_id), raw=TRAINING + " Each factory now has a grievance committee.")
    assert _unscored() == [opening_id], "an edit is left to its own task at first"
    _written_long_ago(post_id)
    assert _unscored() == [post_id, opening_id]
    tactics.suggest_for_post(post_id)
    assert db.session.get(TacticScoring, post_id).post_version == 2
    assert _unscored() == [opening_id]


def test_posts_the_bot_may_not_read_are_never_listed(topic, make_user, moderator):
    opted_out, deleted_author = make_user(), make_user()
    bot_preferences.set_bot_opt_out(opted_out, opted_out.username, True)
    _written_long_ago(posts.create_reply(opted_out, topic, raw=TRAINING).id)
    deleted = posts.create_reply(deleted_author, topic, raw=TRAINING)
    posts.delete_post(moderator, deleted)
    _written_long_ago(deleted.id)
    _written_long_ago(posts.create_reply(bots.bot_user(bots.TACTICS_BOT_USERNAME), topic, raw=TRAINING).id)
    topics.set_status(moderator, topic, "closed", True)  # a small-action post: "closed this topic"
    small_action = db.session.scalar(db.select(Post.id).where(Post.topic_id == topic.id, Post.post_type == PostType.SMALL_ACTION))
    assert small_action is not None
    _written_long_ago(small_action)
    _written_long_ago(posts.first_post(topic).id)
    assert _unscored() == [posts.first_post(topic).id]

    topics.delete_topic(moderator, topic)
    assert _unscored() == []


def test_the_batch_takes_the_newest_posts_first(topic, make_user):
    author = make_user()
    ids = [_written_long_ago(posts.create_reply(author, topic, raw=TRAINING).id) for _ in range(3)]
    db.session.rollback()
    assert tactics.unscored_post_ids(limit=2, written_before=utcnow()) == [ids[2], ids[1]]


@pytest.mark.parametrize("bots_enabled", [True, False])
def test_beat_schedules_the_backfill_only_with_the_bots_on(tmp_path, bots_enabled):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'forum.sqlite'}", "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}",
                      "BOTS_ENABLED": bots_enabled})
    schedule = app.extensions["celery"].conf.beat_schedule
    assert ("backfill-tactics" in schedule) is bots_enabled
    assert {"scan-due-timers", "refit-tactics-model", "refresh-summaries"} <= set(schedule)


def test_a_reply_while_the_broker_refuses_is_stored_and_left_to_the_backfill(tmp_path):
    with socket.socket() as closed:  # a port nothing listens on: connections are refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'forum.sqlite'}", "BROKER_URL": f"redis://127.0.0.1:{port}/0",
                      "BOTS_ENABLED": True})
    with app.app_context():
        flask_migrate.upgrade()
        author = users.create_user("writer", email="writer@example.com", password=None, role=Role.MEMBER)
        _, key = users.create_api_key(author, created_by=author)
        topic = topics.create_topic(author, title="How do organisations work with companies on rights?", raw=TRAINING)
        answer = app.test_client().post("/posts.json", data={"topic_id": topic.id, "raw": TRAINING},
                                        headers={"Api-Key": key, "Api-Username": "writer"})
        assert answer.status_code == 200
        post_id = answer.get_json()["id"]
        assert db.session.get(Post, post_id).raw == TRAINING
        _written_long_ago(post_id)
        assert post_id in _unscored()
        db.engine.dispose()


def test_a_post_edited_while_the_bot_reads_it_is_left_to_the_edits_own_reading(topic, make_user, monkeypatch):
    """What the bot found in the old text is not filed, nor recorded as read: the new text waits for its own task
    (here lost, so the backfill lists it)."""
    author = make_user()
    post_id = posts.create_reply(author, topic, raw=TRAINING).id
    real_model = tactics.current_model

    def model_while_the_author_edits():
        posts.edit_post(author, db.session.get(Post, post_id), raw="## Timing\n\nWe meet the company again in March.")
        return real_model()

    monkeypatch.setattr(tactics, "current_model", model_while_the_author_edits)
    assert tactics.suggest_for_post(post_id) == []
    db.session.rollback()
    assert db.session.scalars(db.select(Reviewable).where(Reviewable.post_id == post_id)).all() == []
    assert db.session.get(TacticScoring, post_id) is None
    _written_long_ago(post_id)
    assert post_id in _unscored()
