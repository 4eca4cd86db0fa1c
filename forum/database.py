"""Engine set-up and the unit of work every service write runs in.

SQLite allows one writer at a time. A transaction that starts by reading and later writes can
fail at once with SQLITE_BUSY when another writer got in between (no busy wait applies), so write
units begin with ``BEGIN IMMEDIATE``: they queue for the write lock up front and then cannot fail
that way. Read-only work keeps plain deferred transactions, which WAL lets run beside a writer.
PostgreSQL needs none of this: its row locks serialise the writers that touch the same rows, and under READ
COMMITTED (set on every connection, whatever the server's default) each statement reads a fresh snapshot, so a
write unit may carry on the request's read transaction instead of committing it first.
"""
import logging
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, scoped_session

_in_write_unit: ContextVar[bool] = ContextVar("forum_in_write_unit", default=False)
# Callbacks to run once the outermost write unit has committed (dropped if it rolls back), by key.
_after_commit: ContextVar[dict[Hashable, Callable[[], None]] | None] = ContextVar("forum_after_commit", default=None)
logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Row locks for a read-then-write (PostgreSQL's FOR NO KEY UPDATE, the lock an UPDATE of non-key columns takes):
# unlike FOR UPDATE it lets rows that refer to the locked one be inserted meanwhile (a post of a locked topic, a
# tag on it), so such an insert, holding other rows, can never deadlock with it. SQLite ignores it.
ROW_LOCK = {"key_share": True}


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def _on_postgresql_connect(dbapi_connection, connection_record):
            # Sent with each BEGIN, no round trip of its own. write_unit relies on it (see the module's docstring).
            engine.dialect.set_isolation_level(dbapi_connection, "READ COMMITTED")

    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        # Take transaction control away from the sqlite3 module, so the "begin" hook decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _in_write_unit.get() else "BEGIN")


@contextmanager
def write_unit(session: Session | scoped_session, *, keep_loaded: bool = False) -> Iterator[Session]:
    """Run a block as one write transaction: committed if it succeeds, rolled back if not.

    Nested units join the outer one, so a service may call another service. Its commits expire what the session
    has loaded, so that the unit reads it afresh and its caller sees what was stored. ``keep_loaded`` leaves it as
    it is (no query reads it again): only for a unit that reloads what it relies on under its own row locks, whose
    bulk statements synchronise the session, and whose caller needs nothing another writer may have changed meanwhile.
    """
    if _in_write_unit.get():
        yield session
        return
    own_session = session() if isinstance(session, scoped_session) else session
    expires = own_session.expire_on_commit
    own_session.expire_on_commit = not keep_loaded
    try:
        if own_session.get_bind().dialect.name == "sqlite":
            # Finish any read transaction first: the write must start from a fresh snapshot, under BEGIN IMMEDIATE.
            session.commit()
        elif not keep_loaded:
            own_session.expire_all()  # what the commit above would expire, without its round trips
        token = _in_write_unit.set(True)
        callbacks_token = _after_commit.set({})
        try:
            yield session
            session.commit()
            callbacks = _after_commit.get()
        except BaseException:
            session.rollback()
            raise
        finally:
            _after_commit.reset(callbacks_token)
            _in_write_unit.reset(token)
    finally:
        own_session.expire_on_commit = expires
    for callback in callbacks.values():
        try:
            callback()
        except Exception:  # the write is stored: a broker or cache outage must not turn it into an error
            logger.exception("an after-commit callback failed")


def after_commit(callback: Callable[[], None], key: Hashable | None = None) -> None:
    """Run ``callback`` when the outermost write unit commits, never if it rolls back (a nested unit whose
    error the caller caught commits with the outer one). Callbacks with the same ``key`` run once.

    What it starts (a task, a cache eviction) then never sees uncommitted or discarded rows. A callback that
    fails is logged and the others still run.
    """
    callbacks = _after_commit.get()
    if callbacks is None:
        raise RuntimeError("after_commit needs an open write unit")
    callbacks.setdefault(callback if key is None else key, callback)


def upsert_insert(dialect: str):
    """The dialect's INSERT construct, which has ON CONFLICT (PostgreSQL and SQLite, the two backends)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert
