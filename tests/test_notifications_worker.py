"""Notifications in a real Celery worker on the real broker: a reply written in the web process reaches the member it
answers through the domain events, and an edit's new mention reaches the member it names."""
import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Notification, NotificationType, Post
from forum.services import posts, topics
from tests.conftest import wait_until


@pytest.fixture
def notifications_on(app):
    app.config["NOTIFICATIONS_ENABLED"] = True
    yield
    app.config["NOTIFICATIONS_ENABLED"] = False


def _told(user_id: int) -> list[tuple[int, int]]:
    db.session.rollback()  # a fresh snapshot each time
    query = select(Notification.notification_type, Notification.post_number).where(Notification.user_id == user_id)
    return [tuple(row) for row in db.session.execute(query.order_by(Notification.id))]


def test_a_reply_and_an_edits_new_mention_are_told_by_the_worker(app, notifications_on, member, make_user, worker):
    topic = topics.create_topic(member, title="How do organisations work with companies?",
                                raw="What has worked for you when engaging a company on human rights?")
    author, named = make_user(), make_user(username="named_later")
    post = posts.create_reply(author, topic, raw="We wrote to the company's board first, then met them.", reply_to_post_number=1)
    assert wait_until(lambda: _told(member.id), timeout=60) == [(NotificationType.REPLIED, post.post_number)]

    posts.edit_post(author, db.session.get(Post, post.id), raw="We wrote to the company's board first, then met them, @named_later.")
    assert wait_until(lambda: _told(named.id), timeout=60) == [(NotificationType.MENTIONED, post.post_number)]
    assert _told(member.id) == [(NotificationType.REPLIED, post.post_number)]
    assert worker.poll() is None, "the worker died"
