import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading

import pytest
from flask import request
from kombu.exceptions import OperationalError

from forum import ConfigurationError, create_app
from tests.conftest import REPO_ROOT


def test_production_without_a_secret_key_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.setenv("FORUM_ENV", "production")
    monkeypatch.delenv("FORUM_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="FORUM_SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"})


def test_production_without_a_base_url_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.setenv("FORUM_ENV", "production")
    monkeypatch.setenv("FORUM_SECRET_KEY", "from-the-environment")
    monkeypatch.delenv("FORUM_BASE_URL", raising=False)
    with pytest.raises(ConfigurationError, match="FORUM_BASE_URL"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"})


def test_production_takes_its_settings_from_forum_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("FORUM_ENV", "production")
    monkeypatch.setenv("FORUM_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("FORUM_BASE_URL", "https://forum.example.org/")
    monkeypatch.setenv("FORUM_DATABASE_URL", f"sqlite:///{tmp_path / 'prod.sqlite'}")
    monkeypatch.setenv("FORUM_MIN_POST_LENGTH", "5")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'prod.sqlite'}"
    assert app.config["MIN_POST_LENGTH"] == 5
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["BASE_URL"] == "https://forum.example.org"  # links add their paths, each starting with "/"


def test_unknown_environment_name_is_refused(monkeypatch):
    monkeypatch.setenv("FORUM_ENV", "staging-ish")
    with pytest.raises(ConfigurationError, match="FORUM_ENV"):
        create_app()


def test_development_secret_key_is_generated_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("FORUM_ENV", "development")
    overrides = {"DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite'}", "SECRET_KEY_FILE": str(tmp_path / "secret_key")}
    first = create_app(overrides).config["SECRET_KEY"]
    second = create_app(overrides).config["SECRET_KEY"]
    assert len(first) == 64 and first == second


def test_index_answers_json(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.json["api"] == "discourse"


def test_unknown_path_is_a_discourse_style_json_404(client):
    response = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.is_json
    assert response.json["error_type"] == "not_found" and response.json["errors"]


def test_wrong_method_is_a_json_error(client):
    response = client.delete("/")
    assert response.status_code == 405
    assert response.json["error_type"] == "invalid_parameters"


@pytest.mark.parametrize("proxies", ["two", -1, 1.5, True])
def test_a_number_of_trusted_proxies_that_is_no_count_refuses_to_start(tmp_path, proxies):
    with pytest.raises(ConfigurationError, match="FORUM_TRUSTED_PROXIES"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}", "TRUSTED_PROXIES": proxies})


@pytest.mark.parametrize(("proxies", "seen"), [(1, {"address": "10.0.0.7", "scheme": "https"}),
                                               (0, {"address": "127.0.0.1", "scheme": "http"})])
def test_the_client_address_and_scheme_come_from_trusted_proxies_only(tmp_path, proxies, seen):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}", "TRUSTED_PROXIES": proxies})
    app.add_url_rule("/probe", "probe", lambda: {"address": request.remote_addr, "scheme": request.scheme})
    forwarded = {"X-Forwarded-For": "203.0.113.9, 10.0.0.7", "X-Forwarded-Proto": "https"}  # the leftmost is the client's own
    assert app.test_client().get("/probe", headers=forwarded).json == seen


def test_the_embedded_broker_keeps_its_file_in_wal_mode(tmp_path):
    broker_file = tmp_path / "queues" / "broker.sqlite"
    create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}", "BROKER_URL": f"sqla+sqlite:///{broker_file}"})
    connection = sqlite3.connect(broker_file)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        connection.close()


def _start_and_send(database_url: str, broker_url: str, start_together, outcomes) -> None:
    start_together.wait()
    app = create_app({"DATABASE_URL": database_url, "BROKER_URL": broker_url})
    try:
        app.extensions["celery"].send_task("forum.scan_due_timers", retry=False)
        outcomes.put("sent")
    except Exception as error:  # reported to the test, which names it
        outcomes.put(f"{type(error).__name__}: {error}")


def test_processes_starting_together_on_a_new_embedded_broker_each_send_their_first_task(tmp_path):
    # As `make run` starts web, worker and beat: before, losers of the broker's first table and queue creation failed
    # their sends (3 of 4 tasks lost in 2 of 5 such rounds).
    processes, rounds = 4, 5
    context = multiprocessing.get_context("fork")  # the children share this process's imports: they start at once
    database_url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    for round_number in range(rounds):
        broker_file = tmp_path / f"broker-{round_number}.sqlite"
        start_together, outcomes = context.Barrier(processes), context.Queue()
        arguments = (database_url, f"sqla+sqlite:///{broker_file}", start_together, outcomes)
        children = [context.Process(target=_start_and_send, args=arguments) for _ in range(processes)]
        for child in children:
            child.start()
        try:
            reported = [outcomes.get(timeout=60) for _ in children]
        finally:
            for child in children:
                child.join(timeout=60)
                if child.is_alive():  # stuck (forked while a thread held a lock?): it must not outlive the test
                    child.kill()
        assert reported == ["sent"] * processes, f"round {round_number}: {reported}"
        connection = sqlite3.connect(broker_file)
        try:
            assert connection.execute("SELECT count(*) FROM kombu_message").fetchone() == (processes,)
        finally:
            connection.close()


def test_a_gunicorn_worker_freezes_the_loaded_app_out_of_garbage_collection(settings):
    # A separate process, as a gunicorn worker is: gunicorn calls the hook once the worker has loaded the app.
    script = (
        "import gc, runpy\n"
        "from wsgi import app\n"
        "assert gc.get_freeze_count() == 0\n"
        "runpy.run_path('gunicorn.conf.py')['post_worker_init'](None)\n"
        "print(gc.get_freeze_count())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env={**os.environ, **settings}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) > 10_000  # the app's modules and mappers, not a handful of objects


def test_a_redis_broker_that_stops_answering_fails_a_send_instead_of_holding_the_thread(tmp_path, silent_redis):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'forum.db'}", "BROKER_URL": silent_redis.url,
                      "BROKER_SOCKET_TIMEOUT": 0.3, "PAGE_CACHE_ENABLED": False})
    outcome = []

    def send():
        with app.app_context():
            from bots.tasks import add_topic_views

            try:
                add_topic_views.delay({"1": 1})
                outcome.append("sent")
            except OperationalError:
                outcome.append("failed")

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    sender.join(timeout=60)
    assert outcome == ["failed"]
