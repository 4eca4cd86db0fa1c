"""Concurrent replies into one topic: throughput, latency, and the post-number invariant.

    .venv/bin/python -m bench.concurrent_posting [--threads 8] [--posts 50] [--smoke]

Runs on a fresh SQLite file, or on a fresh PostgreSQL database when FORUM_TEST_DATABASE_URL is set
(created and dropped here). Exits non-zero if post numbers are not exactly 1..n.
"""
import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("FORUM_ENV", "testing")

import flask_migrate  # noqa: E402
from sqlalchemy import select  # noqa: E402

from forum import create_app  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.models import Post, Topic, User  # noqa: E402
from forum.services import posts, topics, users  # noqa: E402
from tests import databases  # noqa: E402


def run(threads: int, posts_per_thread: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        database_url = databases.new_database_url(Path(tmp))
        try:
            app = create_app({"DATABASE_URL": database_url, "BROKER_URL": f"sqla+sqlite:///{tmp}/broker.sqlite"})
            with app.app_context():
                flask_migrate.upgrade()
                return _race(app, threads, posts_per_thread)
        finally:
            with app.app_context():
                db.engine.dispose()
            databases.drop_database(database_url)


def _race(app, threads: int, posts_per_thread: int) -> dict:
    authors = [users.create_user(f"poster{n}", email=f"poster{n}@example.com", password=None) for n in range(threads)]
    topic = topics.create_topic(authors[0], title="Benchmark: concurrent replies", raw="## Start\n\nThe opening post.")
    topic_id, author_ids = topic.id, [author.id for author in authors]
    db.session.remove()
    latencies: list[float] = []
    barrier = threading.Barrier(threads)

    def post_many(author_id: int):
        with app.app_context():
            author = db.session.get(User, author_id)
            barrier.wait()
            for n in range(posts_per_thread):
                started = time.perf_counter()
                posts.create_reply(author, db.session.get(Topic, topic_id), raw=f"## Reply {n}\n\nA reply body of some length.")
                latencies.append(time.perf_counter() - started)
            db.session.remove()

    workers = [threading.Thread(target=post_many, args=(author_id,)) for author_id in author_ids]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    numbers = list(db.session.scalars(select(Post.post_number).where(Post.topic_id == topic_id).order_by(Post.post_number)))
    expected = threads * posts_per_thread + 1
    latencies.sort()
    return {
        "backend": db.engine.dialect.name,
        "posts": len(latencies),
        "gapless": numbers == list(range(1, expected + 1)),
        "posts_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--posts", type=int, default=50, help="posts per thread")
    parser.add_argument("--smoke", action="store_true", help="a few posts only, to prove the script runs")
    args = parser.parse_args()
    result = run(args.threads, 3 if args.smoke else args.posts)
    print(
        f"{result['backend']}: {result['posts']} replies from {args.threads} threads, "
        f"{result['posts_per_s']:.0f} posts/s, p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
        f"numbers 1..n without gaps or duplicates: {'yes' if result['gapless'] else 'NO'}"
    )
    return 0 if result["gapless"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
