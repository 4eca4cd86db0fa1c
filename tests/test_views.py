"""Topic views are buffered in the web process and applied by the real worker in batches."""
from forum.extensions import db
from forum.models import Topic
from forum.services import topics
from forum.services.views import ViewBuffer
from tests.conftest import wait_until


def test_views_are_counted_in_batches_by_the_worker(app, member, worker):
    topic = topics.create_topic(member, title="A topic people keep reading", raw="## Hello\n\nSomething worth reading.")
    other = topics.create_topic(member, title="Another topic people read", raw="## Hello\n\nSomething else to read.")
    buffer = ViewBuffer(flush_seconds=3600)
    for _ in range(5):
        buffer.record(topic.id)
    buffer.record(other.id)
    db.session.refresh(topic)
    assert topic.views == 0  # nothing written while viewing
    buffer.flush()

    def counted():
        db.session.rollback()
        return (db.session.get(Topic, topic.id).views, db.session.get(Topic, other.id).views) == (5, 1)

    wait_until(counted, timeout=60)
