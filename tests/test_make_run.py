"""`make run` end to end: install, migrate, demo data, then web, worker and beat as separate processes."""
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, wait_until


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _clean_env(instance: Path, port: int) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FORUM_")}
    return {**env, "FORUM_INSTANCE_PATH": str(instance), "PORT": str(port)}


class RunningForum:
    def __init__(self, instance: Path, port: int):
        self.port, self.log_path = port, instance.parent / f"make-run-{time.monotonic_ns()}.log"
        self.env = _clean_env(instance, port)
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            ["make", "run"], cwd=REPO_ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        return self.log_path.read_text()

    def get_index(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=2) as response:
                return json.load(response)
        except OSError:
            assert self.process.poll() is None, self.output()
            return None

    def stop(self) -> int:
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            code = self.process.wait(timeout=60)
        finally:
            self.log.close()
        wait_until(lambda: not _group_alive(self.process.pid), timeout=30)
        return code


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def instance(tmp_path):
    return tmp_path / "instance"


def test_make_run_serves_runs_tasks_stops_and_keeps_data(instance):
    port = _free_port()
    forum = RunningForum(instance, port)
    try:
        assert wait_until(forum.get_index, timeout=180)["api"] == "discourse"
        output = forum.output()
        password = re.search(r"Demo admin: username admin, password (\S+)", output).group(1)
        assert f"http://127.0.0.1:{port}/" in output
        wait_until(lambda: "beat: Starting" in forum.output() and "celery@" in forum.output(), timeout=60)

        # The demo dialogue has its key points from the start, and the worker has read its posts for tactics.
        summary = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/discourse-ai/summarization/t/1.json", timeout=30))
        assert summary["key_points"] and summary["ai_topic_summary"]["outdated"] is False

        def suggested():
            with sqlite3.connect(instance / "forum.sqlite") as connection:
                return connection.execute("SELECT count(*) FROM reviewables WHERE type = 'ReviewableTacticTag'").fetchone()[0]

        assert wait_until(suggested, timeout=120) > 0

        # A real task through the real worker: spoil a post's HTML, queue a rebake, watch it come back.
        database = instance / "forum.sqlite"
        with sqlite3.connect(database) as connection:
            post_id, cooked = connection.execute("SELECT id, cooked FROM posts WHERE post_number = 1 LIMIT 1").fetchone()
            connection.execute("UPDATE posts SET cooked = '<p>stale</p>' WHERE id = ?", (post_id,))
        subprocess.run(
            [str(REPO_ROOT / ".venv/bin/flask"), "--app", "wsgi", "forum", "rebake"],
            cwd=REPO_ROOT, env={**forum.env, "FORUM_ENV": "development"}, check=True, capture_output=True,
        )

        def rebaked():
            with sqlite3.connect(database) as connection:
                return connection.execute("SELECT cooked FROM posts WHERE id = ?", (post_id,)).fetchone()[0] == cooked

        wait_until(rebaked, timeout=60)
    finally:
        forum.stop()

    again = RunningForum(instance, port)
    try:
        assert wait_until(again.get_index, timeout=180)["api"] == "discourse"
        output = again.output()
        assert "0 users, 0 categories, 0 topics created" in output
        assert f"password {password}" in output
    finally:
        again.stop()
