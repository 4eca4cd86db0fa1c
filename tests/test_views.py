"""Topic views are counted in the web process and applied by the real worker in batches."""
import os
import subprocess
import sys

from forum.extensions import db
from forum.models import Topic
from forum.services import topics
from forum.services.views import ViewBuffer
from tests.conftest import REPO_ROOT, wait_until


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


def test_views_still_buffered_are_sent_when_a_gunicorn_worker_exits(app, member, settings, worker):
    topic = topics.create_topic(member, title="A topic read just before a restart", raw="## Hello\n\nSomething worth reading.")
    # A separate process, as a gunicorn worker is: it counts two views, and gunicorn's exit hook runs.
    script = (
        "import runpy\n"
        "from wsgi import app\n"
        "from forum.services.views import topic_views\n"
        "with app.app_context():\n"
        f"    topic_views.record({topic.id})\n"
        f"    topic_views.record({topic.id})\n"
        "runpy.run_path('gunicorn.conf.py')['worker_exit'](None, None)\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env={**os.environ, **settings}, check=True, timeout=120)

    def counted():
        db.session.rollback()
        return db.session.get(Topic, topic.id).views == 2

    wait_until(counted, timeout=60)


def test_a_broker_that_is_down_never_fails_a_topic_view_and_its_views_are_kept(app, member, settings, monkeypatch):
    from forum import create_app

    topic = topics.create_topic(member, title="A topic read while the broker is down", raw="## Hello\n\nSomething worth reading.")
    broker_down = create_app(
        {"DATABASE_URL": settings["FORUM_DATABASE_URL"], "BROKER_URL": "redis://127.0.0.1:1/0", "VIEW_FLUSH_SECONDS": 0, "PAGE_CACHE_ENABLED": False}
    )
    broker_down.extensions["celery"].conf.broker_connection_timeout = 1
    topic_views = ViewBuffer()
    monkeypatch.setattr("forum.api.topics.topic_views", topic_views)
    client = broker_down.test_client()
    assert [client.get(f"/t/{topic.id}.json").status_code for _ in range(2)] == [200, 200]
    assert topic_views._counts == {topic.id: 2}  # kept for the next flush, which may find the broker back
