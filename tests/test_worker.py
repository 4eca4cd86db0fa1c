"""A real Celery worker, on the real broker, runs a real task against the real database."""
from sqlalchemy import update

from forum.database import write_unit
from forum.extensions import db
from forum.models import Post
from forum.services import topics
from tests.conftest import wait_until

RAW = "## A subject line\n\nVisit https://example.org for the **training** notes."


def test_worker_rebakes_a_post(app, member, worker):
    from bots.tasks import rebake_post

    topic = topics.create_topic(member, title="A topic to rebake in the worker", raw=RAW)
    post = db.session.scalar(db.select(Post).where(Post.topic_id == topic.id))
    good_cooked, post_id = post.cooked, post.id
    with write_unit(db.session):
        db.session.execute(update(Post).where(Post.id == post_id).values(cooked="<p>stale</p>"))

    rebake_post.delay(post_id)

    def rebaked():
        db.session.rollback()  # read a fresh snapshot each time
        return db.session.get(Post, post_id).cooked == good_cooked

    wait_until(rebaked, timeout=60)
    assert worker.poll() is None, "the worker died"
