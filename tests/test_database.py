"""The write unit: it reads what others committed before it began, on both backends, whatever the server's default
isolation level."""
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, update

from forum.api.serializers import iso
from forum.database import configure_engine, write_unit
from forum.extensions import db
from forum.models import Topic
from forum.services import topics

CHANGED_TITLE = "Changed by another writer meanwhile"


def _changed_elsewhere(topic_id: int) -> None:
    with db.engine.connect() as other:  # a connection of its own: a writer in another request
        other.execute(update(Topic).where(Topic.id == topic_id).values(title=CHANGED_TITLE))
        other.commit()


@pytest.mark.parametrize("keep_loaded", [False, True])
def test_a_write_unit_reads_what_was_committed_since_the_request_first_read(app, member, keep_loaded):
    topic = topics.create_topic(member, title="How do we start a dialogue with a company?", raw="Where did your first meeting take place?")
    loaded = db.session.get(Topic, topic.id)
    assert loaded.title != CHANGED_TITLE  # the request's read transaction is open, with the topic loaded
    _changed_elsewhere(topic.id)
    with write_unit(db.session, keep_loaded=keep_loaded):
        assert db.session.scalar(select(Topic.title).where(Topic.id == topic.id)) == CHANGED_TITLE
        # What the request had loaded is read again, unless the unit said it reloads what it relies on itself.
        assert (loaded.title == CHANGED_TITLE) is not keep_loaded


def test_postgresql_connections_read_committed_whatever_the_server_default(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's isolation levels")
    strict = create_engine(db.engine.url, connect_args={"options": "-c default_transaction_isolation=serializable"})
    try:
        with strict.connect() as connection:
            assert connection.exec_driver_sql("SHOW transaction_isolation").scalar() == "serializable"
        strict.dispose()
        configure_engine(strict)
        with strict.connect() as connection:
            assert connection.exec_driver_sql("SHOW transaction_isolation").scalar() == "read committed"
    finally:
        strict.dispose()


def test_postgresql_times_are_utc_whatever_the_session_time_zone(app, member):
    """A server whose time zone is the host's answers in it: times came out shifted and still marked "Z"."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's session time zone")
    topic = topics.create_topic(member, title="When did this dialogue open?", raw="Tell us the time it opened where you are.")
    local = create_engine(db.engine.url, connect_args={"options": "-c timezone=America/New_York"})
    try:
        with local.connect() as connection:
            created = connection.execute(select(Topic.created_at).where(Topic.id == topic.id)).scalar()
        assert created.utcoffset() == timedelta(0) and created == topic.created_at
        assert iso(created) == iso(topic.created_at)
    finally:
        local.dispose()
