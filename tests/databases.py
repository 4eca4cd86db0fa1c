"""Throwaway databases and broker namespaces for the tests: each run makes its own and removes it."""
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

REQUIRE_SERVICES = os.environ.get("FORUM_REQUIRE_SERVICES") == "1"


def unavailable(reason: str):
    """Skip for a missing optional service; fail when CI says the service must be there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (FORUM_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def new_database_url(tmp_dir: Path) -> str:
    """A fresh empty database on the configured server, or an SQLite file under ``tmp_dir``."""
    server_url = os.environ.get("FORUM_TEST_DATABASE_URL")
    return new_server_database(server_url) if server_url else new_sqlite_url(tmp_dir)


def new_sqlite_url(tmp_dir: Path) -> str:
    return f"sqlite:///{tmp_dir / f'forum-{uuid.uuid4().hex[:8]}.sqlite'}"


def new_server_database(server_url: str) -> str:
    """A fresh database, uniquely named after the one in ``server_url``, on that server."""
    url = make_url(server_url)
    name = f"{url.database or 'forum_test'}_{uuid.uuid4().hex[:10]}"
    try:
        with _maintenance_engine(url).connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # any connection failure means the service is missing
        unavailable(f"cannot create a test database at {url.render_as_string()}: {error}")
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return
    with _maintenance_engine(url).connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))


def _maintenance_engine(url):
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)


def new_broker(tmp_dir: Path) -> tuple[str, dict]:
    """Broker URL and transport options: Redis under a key prefix of this run's own, or an SQLite file."""
    broker_url = os.environ.get("FORUM_TEST_BROKER_URL")
    if not broker_url:
        return f"sqla+sqlite:///{tmp_dir / 'broker.sqlite'}", {}
    return broker_url, {"global_keyprefix": f"forum-test-{uuid.uuid4().hex[:10]}:"}


def check_broker(broker_url: str) -> None:
    if not broker_url.startswith("redis"):
        return
    import redis

    try:
        redis.Redis.from_url(broker_url, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        unavailable(f"cannot reach the test broker at {broker_url}: {error}")


def remove_broker_keys(broker_url: str, transport_options: dict) -> None:
    prefix = transport_options.get("global_keyprefix")
    if not prefix:
        return
    import redis

    client = redis.Redis.from_url(broker_url)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
