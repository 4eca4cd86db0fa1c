"""Digest export times: one 1,000-post topic, and a 500-topic category exported with ``flask forum digest``.

    .venv/bin/python -m bench.digests [--posts 1000] [--topics 500] [--posts-per-topic 12] [--repeat 3] [--smoke]

Runs on a fresh SQLite file, or on a fresh PostgreSQL database when FORUM_TEST_DATABASE_URL is set (created
and dropped here). Post bodies are the demo dialogue's posts (forum/demo/dialogue.toml), in turn; every tenth
post is an approved training example. Topic digests are fetched through the app (GET /t/{id}/digest.*), the
category through the CLI command, each format on its own. "cold" is the first digest of a topic, which makes
its summary; every later one only reads. Times are the best of --repeat runs.
"""
import argparse
import os
import tempfile
import time
import tomllib
from functools import partial
from pathlib import Path

os.environ.setdefault("FORUM_ENV", "testing")

import flask_migrate  # noqa: E402
from sqlalchemy import event, insert  # noqa: E402

from forum import create_app  # noqa: E402
from forum.content import cook  # noqa: E402
from forum.content.digests import FORMATS  # noqa: E402
from forum.database import write_unit  # noqa: E402
from forum.demo import DIALOGUE_FILE  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.models import Category, Topic, post_tags  # noqa: E402
from forum.services import posts, tactics, topics, users  # noqa: E402
from tests import databases  # noqa: E402

EXAMPLE_EVERY = 10


def _bodies() -> list[tuple[str, str]]:
    """(raw, cooked) of the demo dialogue's posts, cooked once."""
    dialogue = tomllib.loads(DIALOGUE_FILE.read_text(encoding="utf-8"))["topics"][0]
    return [(post["raw"], cook(post["raw"])) for post in dialogue["posts"]]


def _seed_topic(title: str, authors: list, bodies: list, count: int, category: Category | None, training_id: int) -> Topic:
    raw, _ = bodies[0]
    topic = topics.create_topic(authors[0], title=title, raw=raw, category=category)
    with write_unit(db.session):  # one unit: a commit per post would time the seeding, not the digest
        tagged = []
        for n in range(2, count + 1):
            raw, cooked = bodies[(n - 1) % len(bodies)]
            post = posts.append_post(topic, authors[n % len(authors)], raw=raw, cooked=cooked, reply_to_post_number=n - 1 if n % 4 else 1)
            if n % EXAMPLE_EVERY == 0:
                tagged.append({"post_id": post.id, "tag_id": training_id})
        if tagged:
            db.session.execute(insert(post_tags), tagged)
    return topic


def _best(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


class QueryCounter:
    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *args):
        self.count += 1


def measure(post_count: int, topic_count: int, posts_per_topic: int, repeat: int) -> tuple[str, list[tuple]]:
    with tempfile.TemporaryDirectory() as tmp:
        database_url = databases.new_database_url(Path(tmp))
        app = create_app({"DATABASE_URL": database_url, "BROKER_URL": f"sqla+sqlite:///{tmp}/broker.sqlite", "BOTS_ENABLED": False})
        try:
            with app.app_context():
                flask_migrate.upgrade()
                long_id, category_slug = _seed(post_count, topic_count, posts_per_topic)
                engine = db.engine
                db.session.remove()
            # Measured outside any app context: each request and each command gets its own, and its own
            # database session, as in production (nothing is served from a session's identity map).
            rows = _measure(app, engine, Path(tmp), long_id, category_slug, post_count, topic_count, posts_per_topic, repeat)
            return engine.dialect.name, rows
        finally:
            with app.app_context():
                db.engine.dispose()
            databases.drop_database(database_url)


def _seed(post_count: int, topic_count: int, posts_per_topic: int) -> tuple[int, str]:
    authors = [users.create_user(f"practitioner{n}", email=f"p{n}@example.com", password=None) for n in range(12)]
    training_id = tactics.get_tactic_tag("training").id
    bodies = _bodies()
    long = _seed_topic(f"A dialogue of {post_count} posts", authors, bodies, post_count, None, training_id)
    category = Category(name="Bench dialogues", slug="bench-dialogues")
    with write_unit(db.session):
        db.session.add(category)
    for n in range(topic_count):
        _seed_topic(f"Bench dialogue number {n + 1}", authors, bodies, posts_per_topic, category, training_id)
    return long.id, category.slug


def _measure(app, engine, tmp: Path, long_id: int, category_slug: str, post_count: int, topic_count: int,
             posts_per_topic: int, repeat: int) -> list[tuple]:  # fmt: skip
    client = app.test_client()
    queries = QueryCounter(engine)

    def fetch(path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]

    rows = []
    started = time.perf_counter()
    fetch(f"/t/{long_id}/digest.json")
    rows.append((f"topic, {post_count} posts", "json, cold (makes the summary)", time.perf_counter() - started, None))
    for format in FORMATS:
        before = queries.count
        fetch(f"/t/{long_id}/digest.{format}")
        per_request = queries.count - before
        seconds = _best(repeat, partial(fetch, f"/t/{long_id}/digest.{format}"))
        rows.append((f"topic, {post_count} posts", f"{format} (GET /t/{{id}}/digest.{format}, {per_request} queries)", seconds, None))

    runner = app.test_cli_runner()
    label = f"category, {topic_count} topics x {posts_per_topic} posts"

    def export(format: str, folder: str) -> None:
        result = runner.invoke(args=["forum", "digest", "--category", category_slug, "-f", format, "-o", str(tmp / folder)])
        assert result.exit_code == 0, result.output

    started = time.perf_counter()
    export("json", "cold")
    cold = time.perf_counter() - started
    rows.append((label, f"json, cold (makes {topic_count} summaries)", cold, cold / topic_count))
    for format in FORMATS:
        seconds = _best(repeat, partial(export, format, format))
        rows.append((label, f"{format} (flask forum digest --category)", seconds, seconds / topic_count))
    examples = topic_count * (posts_per_topic // EXAMPLE_EVERY) + post_count // EXAMPLE_EVERY
    for format in FORMATS:
        seconds = _best(repeat, partial(fetch, f"/tag/training/digest.{format}"))
        rows.append((f"tactic notebook, {examples} examples", f"{format} (GET /tag/training/digest.{format})", seconds, None))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000, help="posts of the long topic")
    parser.add_argument("--topics", type=int, default=500, help="topics of the category")
    parser.add_argument("--posts-per-topic", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="a 100-post topic and a 20-topic category, once each")
    args = parser.parse_args()
    if args.smoke:
        args.posts, args.topics, args.repeat = 100, 20, 1
    backend, rows = measure(args.posts, args.topics, args.posts_per_topic, args.repeat)
    print(f"Digest export times on {backend} (best of {args.repeat})")
    print(f"{'what':<40} {'how':<62} {'seconds':>9} {'per topic':>10}")
    for what, how, seconds, per_topic in rows:
        print(f"{what:<40} {how:<62} {seconds:>9.3f} {'' if per_topic is None else f'{per_topic * 1000:.1f} ms':>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
