"""Many timers due at once: how long real workers take to fire them all, and that each fires exactly once.

    .venv/bin/python -m bench.timers [--timers 10000] [--workers 1,2] [--smoke]

Runs on SQLite + Kombu's SQLAlchemy transport, or on PostgreSQL + Redis when FORUM_TEST_DATABASE_URL
and FORUM_TEST_BROKER_URL are set (a fresh database and key prefix, removed afterwards). Each worker
is a `celery worker` process (prefork, concurrency 2). Exits non-zero unless every timer fired once.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("FORUM_ENV", "testing")

import flask_migrate  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from forum import create_app  # noqa: E402
from forum.content import cook  # noqa: E402
from forum.database import write_unit  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.models import Post, Role, TimerState, TimerType, Topic, TopicTimer  # noqa: E402
from forum.models.base import utcnow  # noqa: E402
from forum.services import posts, users  # noqa: E402
from tests import databases  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
BODY = "## Opening\n\nA dialogue that closes on schedule."


def seed(count: int) -> None:
    """``count`` topics, each with a close timer that fell due a second ago."""
    moderator = users.create_user("moderator", email="moderator@example.com", password=None, role=Role.MODERATOR)
    cooked = cook(BODY)
    due = utcnow() - timedelta(seconds=1)
    with write_unit(db.session):
        for n in range(count):
            topic = Topic(title=f"Scheduled dialogue {n}", slug=f"scheduled-dialogue-{n}", user_id=moderator.id)
            db.session.add(topic)
            db.session.flush()
            posts.append_post(topic, moderator, raw=BODY, cooked=cooked)
            db.session.add(TopicTimer(topic_id=topic.id, user_id=moderator.id, status_type=TimerType.CLOSE, execute_at=due))


def fired_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(TopicTimer).where(TopicTimer.state == TimerState.FIRED))


def run(count: int, workers: int, tmp: Path) -> dict:
    database_url = databases.new_database_url(tmp)
    broker_url, options = databases.new_broker(tmp)
    env = {**os.environ, "FORUM_ENV": "testing", "FORUM_DATABASE_URL": database_url, "FORUM_BROKER_URL": broker_url,
           "FORUM_BROKER_TRANSPORT_OPTIONS": json.dumps(options), "FORUM_INSTANCE_PATH": str(tmp)}
    app = create_app({"DATABASE_URL": database_url, "BROKER_URL": broker_url, "BROKER_TRANSPORT_OPTIONS": options})
    processes = []
    try:
        with app.app_context():
            flask_migrate.upgrade()
            seed(count)
            for n in range(workers):
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "wsgi:celery", "worker", "--concurrency=2",
                     "--loglevel=WARNING", f"--hostname=bench{n}@%h"],
                    cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            time.sleep(3)  # let the workers connect, so the clock measures firing, not start-up
            from bots.tasks import scan_due_timers

            started = time.perf_counter()
            scan_due_timers.delay()  # one nudge, as beat gives: each scan asks for the next while timers remain
            deadline = started + max(120, count / 10)
            while fired_count() < count and time.perf_counter() < deadline:
                time.sleep(0.25)
            elapsed = time.perf_counter() - started
            closes = db.session.scalar(select(func.count()).select_from(Post).where(Post.action_code == "autoclosed.enabled"))
            closed = db.session.scalar(select(func.count()).select_from(Topic).where(Topic.closed))
            result = {"backend": db.engine.dialect.name, "workers": workers, "timers": count, "fired": fired_count(),
                      "small_actions": closes, "closed_topics": closed, "seconds": elapsed}
            db.engine.dispose()
            return result
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        databases.drop_database(database_url)
        databases.remove_broker_keys(broker_url, options)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2", help="worker process counts to measure, comma-separated")
    parser.add_argument("--smoke", action="store_true", help="200 timers and one worker, to prove the script runs")
    args = parser.parse_args()
    counts = [1] if args.smoke else [int(n) for n in args.workers.split(",")]
    timers = 200 if args.smoke else args.timers
    exact = True
    for workers in counts:
        with tempfile.TemporaryDirectory() as tmp:
            result = run(timers, workers, Path(tmp))
        once = result["fired"] == result["small_actions"] == result["closed_topics"] == timers
        exact = exact and once
        print(f"{result['backend']}: {result['timers']} timers, {workers} worker(s): all fired in {result['seconds']:.1f} s "
              f"({result['timers'] / result['seconds']:.0f}/s); fired {result['fired']}, close posts {result['small_actions']}, "
              f"closed topics {result['closed_topics']}: {'exactly once' if once else 'NOT EXACTLY ONCE'}")
    return 0 if exact else 1


if __name__ == "__main__":
    raise SystemExit(main())
