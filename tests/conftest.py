"""Fixtures: a real database (SQLite file, or PostgreSQL when FORUM_TEST_DATABASE_URL is set), a real
broker (Kombu's SQLAlchemy transport, or Redis when FORUM_TEST_BROKER_URL is set), and a real worker."""
import email
import email.policy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from sqlalchemy import delete, select, text

os.environ["FORUM_ENV"] = "testing"
# Before config is imported: nothing a test writes may land in the developer's own instance folder.
os.environ["FORUM_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="forum-test-instance-")

from forum import create_app  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.models import Role, User  # noqa: E402
from forum.services import events, users  # noqa: E402
from tests import databases  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = databases.new_database_url(tmp_path_factory.mktemp("db"))
    yield url
    databases.drop_database(url)


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    broker_url, options = databases.new_broker(tmp_path_factory.mktemp("broker"))
    databases.check_broker(broker_url)
    yield broker_url, options
    databases.remove_broker_keys(broker_url, options)


@pytest.fixture(scope="session")
def instance_path():
    path = Path(os.environ["FORUM_INSTANCE_PATH"])
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Inbox:
    """What a real SMTP server (aiosmtpd, in this process) received: the workers of the suite send their mail here."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    # Mailboxes at these domains are refused: for good (5xx), or for now (4xx).
    REFUSED_FOR_GOOD, REFUSED_FOR_NOW = "@refused.example", "@busy.example"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address.endswith(self.REFUSED_FOR_GOOD):
            return "550 5.1.1 No such mailbox"
        if address.endswith(self.REFUSED_FOR_NOW):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [message for message in self.messages if message["To"] == address]


@pytest.fixture(scope="session")
def smtp_server():
    with socket.socket() as probe:  # aiosmtpd needs a port number before it listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def inbox(smtp_server) -> Inbox:
    return smtp_server[0]


@pytest.fixture(scope="session")
def settings(database_url, broker, instance_path, smtp_server):
    """The settings of the app under test, as FORUM_* environment variables for other processes too."""
    broker_url, options = broker
    return {
        "FORUM_ENV": "testing",
        "FORUM_DATABASE_URL": database_url,
        "FORUM_BROKER_URL": broker_url,
        "FORUM_BROKER_TRANSPORT_OPTIONS": json.dumps(options),
        "FORUM_INSTANCE_PATH": str(instance_path),
        "FORUM_MAIL_SERVER": "127.0.0.1",
        "FORUM_MAIL_PORT": str(smtp_server[1]),
    }


class RequestIsolatingClient(FlaskClient):
    """Each request runs in an app context of its own, as in production: its own database session and
    its own Flask-Login user, instead of those of the test's surrounding context."""

    def open(self, *args, **kwargs):
        # End the test's own transaction (and expire what it loaded), so it reads what the request wrote.
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def _migrated_app(settings):
    import flask_migrate

    app = create_app(
        {
            "DATABASE_URL": settings["FORUM_DATABASE_URL"],
            "BROKER_URL": settings["FORUM_BROKER_URL"],
            "BROKER_TRANSPORT_OPTIONS": json.loads(settings["FORUM_BROKER_TRANSPORT_OPTIONS"]),
        }
    )
    app.test_client_class = RequestIsolatingClient
    with app.app_context():
        flask_migrate.upgrade()
        app.config["SEEDED_USER_IDS"] = sorted(db.session.scalars(select(User.id)))
        db.session.remove()
    return app


@pytest.fixture
def app(_migrated_app):
    """The app inside an app context; every table is emptied after the test."""
    _migrated_app.extensions["celery"].set_current()  # other tests may have made apps of their own
    with _migrated_app.app_context():
        yield _migrated_app
        db.session.rollback()
        db.session.remove()
        _empty_tables(_migrated_app)


def _empty_tables(app) -> None:
    """Back to the freshly migrated state: no rows but the users the migrations seed (the bots)."""
    # DELETE, not TRUNCATE: on tables this small PostgreSQL deletes far faster than it truncates.
    tables = [table.name for table in reversed(db.metadata.sorted_tables) if table.name != "users"]
    with db.engine.begin() as connection:
        for table in tables:
            connection.execute(text(f"DELETE FROM {table}"))
        connection.execute(delete(User).where(User.id.not_in(app.config["SEEDED_USER_IDS"])))
    # Rows went behind the services' backs: say so, or a cached page of this test could answer the next one.
    events.site_changed.send(None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(app):
    counter = iter(range(1, 10_000))

    def make(role: str = Role.MEMBER, username: str | None = None, password: str | None = "correct horse battery"):
        username = username or f"{role}{next(counter)}"
        return users.create_user(username, email=f"{username}@example.com", password=password, role=role)

    return make


@pytest.fixture
def member(make_user):
    return make_user(Role.MEMBER, "member")


@pytest.fixture
def moderator(make_user):
    return make_user(Role.MODERATOR, "moderator")


class CeleryProcess:
    """A real ``celery worker`` or ``celery beat`` process on the test broker and database."""

    def __init__(self, settings: dict, log_path: Path, *arguments: str, env: dict | None = None):
        self.log_path = log_path
        self._log = open(log_path, "a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "wsgi:celery", *arguments, "--loglevel=INFO"],
            cwd=REPO_ROOT,
            env={**os.environ, **settings, **(env or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so a test can kill it, children and all, like a crash
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def kill(self) -> None:
        """SIGKILL, as a machine crash or the OOM killer would: no clean shutdown."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)


@pytest.fixture(scope="session")
def worker(settings, _migrated_app, instance_path):
    """One worker for the whole session (its log: worker.log in the instance folder)."""
    process = CeleryProcess(settings, instance_path / "worker.log", "worker", "--pool=threads", "--concurrency=2")
    yield process.process
    process.stop()


@pytest.fixture
def start_celery(settings, _migrated_app, instance_path):
    """Start extra workers or a beat for one test: start_celery("worker", ..., env={...}); all stopped after it."""
    started = []

    def start(*arguments: str, env: dict | None = None) -> CeleryProcess:
        process = CeleryProcess(settings, instance_path / f"celery-{len(started)}.log", *arguments, env=env)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


class SilentRedis:
    """A real socket that takes connections and never answers, as a partitioned or paused Redis does."""

    def __init__(self):
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self._socket.settimeout(0.1)
        self.url = f"redis://127.0.0.1:{self._socket.getsockname()[1]}/0"
        self.connections: list[socket.socket] = []
        self._open = True
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def _accept(self) -> None:
        while self._open:
            try:
                self.connections.append(self._socket.accept()[0])
            except OSError:
                pass

    def close(self) -> None:
        self._open = False
        self._acceptor.join()
        self._socket.close()
        for connection in self.connections:
            connection.close()


@pytest.fixture
def silent_redis():
    server = SilentRedis()
    yield server
    server.close()


def wait_until(condition, timeout: float = 30.0, interval: float = 0.2, describe=None):
    """Poll ``condition`` until it returns a truthy value; fail with a clear message on timeout (and what
    ``describe()`` says of the state then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s" + (f": {describe()}" if describe else ""))


def run_together(app, work, calls: list[tuple]) -> list[Exception]:
    """Call ``work(start, *arguments)`` for every ``arguments`` in ``calls`` at once, each in a thread of its own
    with an app context of its own (its own database session and connection, as separate clients have).
    ``start()`` holds each thread until all are ready, so that they race. Returns the errors the calls raised."""
    db.session.remove()  # the test's own session: nothing it loaded may hold a lock the threads wait on
    barrier = threading.Barrier(len(calls))
    errors = []

    def run(arguments: tuple) -> None:
        with app.app_context():
            try:
                work(barrier.wait, *arguments)
            except Exception as error:  # returned, for the test to assert on
                errors.append(error)
                barrier.abort()  # the others would wait for this thread for ever
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(arguments,)) for arguments in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
