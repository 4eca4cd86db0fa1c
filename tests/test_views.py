"""Topic views are counted in the web process and applied by the real worker in batches."""
from forum.extensions import db
from forum.models import Topic
from forum.services import topics
from forum.services.views import ViewBuffer
from tests.conftest import wait_until


def test_viewing_topics_counts_views_in_batches_applied_by_the_worker(client, member, worker, monkeypatch):
    topic = topics.create_topic(member, title="A topic people keep reading", raw="## Hello\n\nSomething worth reading.")
    other = topics.create_topic(member, title="Another topic people read", raw="## Hello\n\nSomething else to read.")
    # A buffer of this test's own: the process-wide one holds views of earlier tests' topics, whose
    # ids the database may have handed out again.
    topic_views = ViewBuffer()
    monkeypatch.setattr("forum.api.topics.topic_views", topic_views)
    for _ in range(5):
        assert client.get(f"/t/{topic.id}.json").status_code == 200
    client.get(f"/t/{other.slug}/{other.id}.json")
    db.session.rollback()
    assert db.session.get(Topic, topic.id).views == 0  # viewing wrote nothing
    topic_views.flush()

    def counted():
        db.session.rollback()
        return (db.session.get(Topic, topic.id).views, db.session.get(Topic, other.id).views) == (5, 1)

    wait_until(counted, timeout=60)
