"""Fixtures for API tests: users with API keys, requests that act as them, the SQL that requests run, and the
worlds they run in (a small dialogue with a category and a tag group; the demo forum with moderators' decisions)."""
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import has_request_context
from sqlalchemy import event

from forum.database import write_unit
from forum.extensions import db
from forum.models import Category, Group, Post, Role, TagGroup, User
from forum.models.base import utcnow
from forum.services import groups, notifications, posts, topics, users
from tests.api.demo_dialogue import load_decided_demo
from tests.api.factories import set_columns


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, "admin")


@pytest.fixture
def circle(admin, member):
    """The group "circle", with ``member`` in it."""
    group = groups.create_group(admin, "circle")
    groups.add_members(admin, group, [member])
    return group


@pytest.fixture
def old_member(make_user):
    """A member who joined long ago, so that recent topics are new to them until opened."""
    user = make_user(Role.MEMBER, "old_member")
    set_columns(User, user.id, created_at=utcnow() - timedelta(days=30))
    return db.session.get(User, user.id)


@pytest.fixture
def auth_headers(app):
    """Headers for a request made as ``user`` with a user API key (None: anonymous)."""
    keys = {}

    def headers(user) -> dict:
        if user is None:
            return {}
        if user.id not in keys:
            keys[user.id] = users.create_api_key(user, created_by=user)[1]
        return {"Api-Key": keys[user.id], "Api-Username": user.username}

    return headers


@pytest.fixture
def get(client, auth_headers):
    """GET ``path`` as ``user`` (None: anonymous)."""

    def get(path: str, user: User | None = None):
        return client.get(path, headers=auth_headers(user))

    return get


@pytest.fixture
def post(client, auth_headers):
    """POST to ``path`` as ``user`` (None: anonymous), ``headers`` besides the API key's, ``body`` as the client takes it."""

    def post(path: str, user: User | None, headers: dict | None = None, **body):
        return client.post(path, headers={**auth_headers(user), **(headers or {})}, **body)

    return post


@contextmanager
def recorded_statements(*, requests_only: bool = False) -> Iterator[list[str]]:
    """Every SQL statement sent to the database inside the block; with ``requests_only``, only those sent
    while a request is handled (not the test's own), and not SQLite's bare ``BEGIN`` (no query)."""
    statements: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        if not requests_only or (has_request_context() and statement != "BEGIN"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def live_server(app):
    """The app behind a real HTTP server on a free loopback port, for real clients."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@dataclass
class World:
    """The conformance cases' dialogue: every endpoint they call has something to show."""
    admin: object
    member: object
    category: Category
    topic: object
    first_post: Post
    reply: Post
    tag_group: TagGroup
    group: Group  # "organisers", with the member in it


@pytest.fixture
def world(app, make_user):
    admin = make_user(Role.ADMIN, "admin")
    member = make_user(Role.MEMBER, "member")
    with write_unit(db.session):
        category = Category(name="Tactics dialogues", slug="tactics-dialogues", description="Engaging companies")
        tag_group = TagGroup(name="Tactics")
        db.session.add_all([category, tag_group])
    topic = topics.create_topic(member, title="How do NGOs train company staff?", raw="## Opening\n\nWhat worked for you?",
                                category=category, tag_names=("training",))
    reply = posts.create_reply(admin, topic, raw="## A reply\n\nWe trained supplier managers.", reply_to_post_number=1)
    follow_up = posts.create_reply(member, topic, raw="## Follow-up\n\nHow did you measure it?", reply_to_post_number=2)
    notifications.notify_about_post(follow_up.id)  # the admin is told of the answer to their reply
    first_post = db.session.scalar(db.select(Post).where(Post.topic_id == topic.id, Post.post_number == 1))
    group = groups.create_group(admin, "organisers", full_name="Campaign organisers", members=[member])
    return World(admin, member, category, topic, first_post, reply, tag_group, group)


@pytest.fixture
def demo(app, moderator):
    """The demo forum with moderators' decisions on its first dialogue (tests/api/demo_dialogue.py)."""
    return load_decided_demo(moderator)
