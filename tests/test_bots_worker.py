"""The bots in a real Celery worker on the real broker: a post written in the web process reaches the
tactics bot through the domain events, and beat's summary scan summarises quiet topics."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from bots.tasks import backfill_tactics, refresh_summaries
from forum.extensions import db
from forum.models import Post, Reviewable, ReviewableStatus, TacticScoring, Topic, TopicSummary
from forum.models.base import utcnow
from forum.services import posts, tactics, topics
from tests.api.factories import set_columns
from tests.conftest import wait_until

OPENING = "## Guiding questions\n\nWhat has worked for you when engaging a company on human rights?"
TRAINING = (
    "## Training supplier managers\n\n"
    "We organised a three-day training workshop for the managers of twelve garment factories on labour rights. "
    "The participants built a grievance procedure during the training sessions."
)
UNRELATED = "## Timing\n\nWe will meet the company again in March, after the annual report comes out."


@pytest.fixture
def bots_on(app):
    app.config["BOTS_ENABLED"] = True
    yield
    app.config["BOTS_ENABLED"] = False


def _items(post_id: int) -> list[Reviewable]:
    db.session.rollback()  # a fresh snapshot each time
    return list(db.session.scalars(select(Reviewable).where(Reviewable.post_id == post_id)))


def test_a_new_post_gets_suggestions_and_an_edit_withdraws_them(app, bots_on, member, make_user, worker):
    topic = topics.create_topic(member, title="How do organisations work with companies?", raw=OPENING)
    author = make_user()
    post = posts.create_reply(author, topic, raw=TRAINING, reply_to_post_number=1)
    post_id = post.id
    [item] = wait_until(lambda: _items(post_id), timeout=60)
    assert item.payload["tactic"] == "training" and item.status == ReviewableStatus.PENDING
    assert all(sentence in TRAINING for sentence in item.payload["evidence"])
    assert item.created_by.username == "tactics-bot"

    posts.edit_post(author, db.session.get(type(post), post_id), raw=UNRELATED)
    wait_until(lambda: [found.status for found in _items(post_id)] == [ReviewableStatus.DELETED], timeout=60)
    assert worker.poll() is None, "the worker died"


def test_a_recovered_topics_posts_are_suggested_again(app, bots_on, member, moderator, make_user, worker):
    topic = topics.create_topic(member, title="How do organisations work with companies?", raw=OPENING)
    post_id = posts.create_reply(make_user(), topic, raw=TRAINING, reply_to_post_number=1).id
    wait_until(lambda: [item.status for item in _items(post_id)] == [ReviewableStatus.PENDING], timeout=60)
    topics.delete_topic(moderator, db.session.get(Topic, topic.id))
    assert [item.status for item in _items(post_id)] == [ReviewableStatus.DELETED]
    topics.recover_topic(moderator, db.session.get(Topic, topic.id))
    [item] = wait_until(lambda: [item for item in _items(post_id) if item.status == ReviewableStatus.PENDING], timeout=60)
    assert item.payload["tactic"] == "training"
    assert worker.poll() is None, "the worker died"


def test_the_backfill_reads_a_post_whose_own_task_was_lost(app, member, make_user, worker):
    topic = topics.create_topic(member, title="How do organisations work with companies?", raw=OPENING)
    post_id = posts.create_reply(make_user(), topic, raw=TRAINING, reply_to_post_number=1).id  # bots off: no task sent
    for written in (posts.first_post(topic).id, post_id):
        set_columns(Post, written, updated_at=utcnow() - timedelta(hours=1))
    backfill_tactics.delay()
    [item] = wait_until(lambda: _items(post_id), timeout=60)
    assert item.payload["tactic"] == "training" and item.status == ReviewableStatus.PENDING
    opening_id = posts.first_post(topic).id
    wait_until(lambda: db.session.rollback() or db.session.get(TacticScoring, opening_id), timeout=60)
    assert tactics.unscored_post_ids(limit=10, written_before=utcnow()) == []
    assert worker.poll() is None, "the worker died"


def test_an_opted_out_authors_post_is_never_scored(app, bots_on, member, make_user, worker):
    topic = topics.create_topic(member, title="How do organisations work with companies?", raw=OPENING)
    author = make_user()
    author.bot_opt_out = True
    db.session.commit()
    opted_out = posts.create_reply(author, topic, raw=TRAINING).id
    marker = posts.create_reply(make_user(), topic, raw=TRAINING).id  # queued after: once it is scored, so was the other
    wait_until(lambda: _items(marker), timeout=60)
    assert _items(opted_out) == []


def test_the_summary_scan_in_the_worker_summarises_a_quiet_topic(app, member, make_user, worker):
    topic = topics.create_topic(member, title="How do organisations work with companies?", raw=OPENING)
    for _ in range(3):
        posts.create_reply(make_user(), topic, raw=TRAINING)
    set_columns(Topic, topic.id, bumped_at=utcnow() - timedelta(hours=1))
    topic_id = topic.id
    refresh_summaries.delay()

    def summarised():
        db.session.rollback()
        return db.session.get(TopicSummary, topic_id)

    summary = wait_until(summarised, timeout=60)
    assert summary.key_points and all(point["post_numbers"] for point in summary.key_points)
