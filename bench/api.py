"""API throughput and latency under gunicorn, against SQLite and PostgreSQL, as ratios to a bare Flask ceiling.

    .venv/bin/python -m bench.api [--seconds 5] [--repeats 3] [--long-posts 10000] [--backends sqlite,postgresql] [--smoke]

Needs wrk (Debian: apt-get install wrk) as the load generator: a C client, so the client is not the
bottleneck on a 2-core machine. Each backend runs as it is deployed, bots on: SQLite with the embedded broker
(Kombu's SQLAlchemy transport), PostgreSQL with Redis as the broker and for the page cache's versions. PostgreSQL
is taken from FORUM_TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/forum_bench), Redis from
FORUM_TEST_BROKER_URL (default redis://127.0.0.1:6379/13); a fresh database and a key prefix of the run's own are
made, and removed afterwards. Each row: a warm-up of the same load (2 s, dropped), then the median of --repeats runs,
with the share of a core each gunicorn worker used during that run, and the CPU milliseconds per request of the web
workers and (PostgreSQL on this machine) of the database's backends serving them.
"""
import json
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

os.environ.setdefault("FORUM_ENV", "testing")

import flask_migrate  # noqa: E402
from sqlalchemy import create_engine, make_url, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from forum import create_app  # noqa: E402
from forum.content import cook  # noqa: E402
from forum.database import write_unit  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.models import Role  # noqa: E402
from forum.services import posts, topics, users  # noqa: E402
from tests import databases  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
# The deployment's own settings (gunicorn.conf.py: gthread workers of 4 threads), with two workers for the two cores
# these machines have.
GUNICORN_SETTINGS = ["--config", str(REPO_ROOT / "gunicorn.conf.py"), "--workers", "2",
                     "--no-control-socket", "--log-level", "warning"]
CONCURRENCY = 8
WARMUP_SECONDS = 2
REPLY = "## A reply for the benchmark\n\nTraining supplier managers changed more than audits did, in our experience."


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(database_url: str, long_posts: int) -> dict:
    """Migrate a fresh database and write the benchmark's content: a 27-post and a long topic."""
    app = create_app({"DATABASE_URL": database_url})
    with app.app_context():
        flask_migrate.upgrade()
        admin = users.create_user("admin", email="admin@example.com", password=None, role=Role.ADMIN)
        _, key = users.create_api_key(None, created_by=admin)
        short = topics.create_topic(admin, title="A dialogue of twenty-seven posts", raw=REPLY)
        for _ in range(26):
            posts.create_reply(admin, short, raw=REPLY, reply_to_post_number=1)
        long = topics.create_topic(admin, title="A very long dialogue for the benchmark", raw=REPLY)
        cooked = cook(REPLY)
        with write_unit(db.session):  # one unit: seeding 10,000 posts one commit each would take minutes
            for _ in range(long_posts - 1):
                posts.append_post(long, admin, raw=REPLY, cooked=cooked)
        # Table statistics as autovacuum would have them by the time a topic is this long: planned for the one
        # row that fresh statistics promise, PostgreSQL reads the 10,000-post stream by a bitmap scan and a sort
        # (6.8 ms against 2.5 ms by the index, measured with EXPLAIN ANALYZE).
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        seeded = {"key": key, "short_id": short.id, "long_id": long.id, "long_slug": long.slug, "long_last": long_posts}
        db.engine.dispose()
    return seeded


class Server:
    def __init__(self, app_path: str, env: dict):
        self.database_url = env["FORUM_DATABASE_URL"]
        self.port = _free_port()
        self.process = subprocess.Popen(
            [str(REPO_ROOT / ".venv/bin/gunicorn"), *GUNICORN_SETTINGS, "--bind", f"127.0.0.1:{self.port}", app_path],
            cwd=REPO_ROOT, env={**os.environ, **env},
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/", timeout=1)
                return
            except urllib.error.HTTPError:
                return  # answering, even if with an error status
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{app_path} did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)

    def workers_cpu_seconds(self) -> list[float]:
        """CPU seconds (user + system) each of its worker processes has used so far, in pid order."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [_cpu_seconds(int(pid)) for pid in sorted(children, key=int)]

    def database_cpu_seconds(self) -> dict[int, float] | None:
        """CPU seconds each PostgreSQL backend serving the benchmark's database has used so far, by pid; None where
        the database is not a server process on this machine (SQLite runs inside the workers)."""
        url = make_url(self.database_url)
        if url.get_backend_name() != "postgresql" or url.host not in ("127.0.0.1", "localhost", "::1"):
            return None
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                pids = connection.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                               "AND pid <> pg_backend_pid()")).all()
        finally:
            engine.dispose()
        return {pid: _cpu_seconds(pid) for pid in pids if Path(f"/proc/{pid}/stat").exists()}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime and stime, in clock ticks


def wrk(url: str, seconds: float, repeats: int, server: Server, headers: dict | None = None,
        script: str | None = None) -> dict:
    """Requests/s and latency of ``url``: of ``repeats`` runs of ``seconds`` each, the run with the median
    requests/s, after WARMUP_SECONDS of the same load whose figures are dropped.

    The warm-up: a fresh worker's first requests (imports, compiled statements, its pages) are not its steady state;
    on the 27-post topic, first in a run, 5 s right after the server started gave 1,567 req/s, the next 5 s 3,452.
    The median: on these shared 2-core machines one run of a row could read half of the next (the 10,000-post
    topic's first page: 2,056 req/s beside its last page's 5,178 in one run). Each run also says how busy each of the
    server's workers was: one may hold all of wrk's keep-alive connections while the other idles (replies: 104-115
    req/s so, 161-182 when shared), and that tells such a run from slow code."""
    warmup = _run_wrk(url, min(WARMUP_SECONDS, seconds), server, headers, script)
    runs = sorted((_run_wrk(url, seconds, server, headers, script) for _ in range(repeats)), key=lambda run: run["rps"])
    return runs[len(runs) // 2] | {"errors": warmup["errors"] + sum(run["errors"] for run in runs)}  # every error shows


def _run_wrk(url: str, seconds: float, server: Server, headers: dict | None, script: str | None) -> dict:
    command = ["wrk", "-t2", f"-c{CONCURRENCY}", f"-d{max(1, int(seconds))}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    database_before = server.database_cpu_seconds()
    cpu_before, started = server.workers_cpu_seconds(), time.monotonic()
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    elapsed = time.monotonic() - started
    busy = [(after - before) / elapsed for before, after in zip(cpu_before, server.workers_cpu_seconds())]
    database_after = server.database_cpu_seconds()
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": _ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),
        "p99_ms": _ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
        "workers_busy": busy,
        # A backend that started during the run counts from nothing; one that ended during it is missed.
        "database_cpu_seconds": None if database_after is None else sum(
            cpu - database_before.get(pid, 0.0) for pid, cpu in database_after.items()),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
    }


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def measure(backend: str, database_url: str, services: dict, seconds: float, repeats: int, long_posts: int, tmp: Path) -> list[tuple]:
    seeded = seed(database_url, long_posts)

    def load(target: Server, path: str, **options) -> dict:
        return wrk(target.url + path, seconds, repeats, target, **options)

    env = {"FORUM_ENV": "production", "FORUM_SECRET_KEY": "benchmark", "FORUM_BASE_URL": "http://127.0.0.1", "FORUM_DATABASE_URL": database_url,
           "FORUM_RATELIMIT_ENABLED": "false", **services}
    ceiling_server = Server("bench.ceiling:app", env)
    try:
        ceiling = load(ceiling_server, "/ping.json")
    finally:
        ceiling_server.stop()
    post_script = tmp / "post.lua"
    body = urllib.parse.urlencode({"topic_id": seeded["short_id"], "raw": REPLY})
    post_script.write_text(f'wrk.method = "POST"\nwrk.body = "{body}"\n'
                           'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n')
    api = {"Api-Key": seeded["key"], "Api-Username": "admin"}
    server = Server("wsgi:app", env)
    try:
        rows = [("bare Flask JSON (ceiling)", ceiling)]
        first_page = f"/t/{seeded['long_id']}.json"
        last_page = f"/t/{seeded['long_slug']}/{seeded['long_id']}/{seeded['long_last']}.json"
        short_topic = f"/t/{seeded['short_id']}.json"
        rows.append(("GET /t/{id}.json (27 posts)", load(server, short_topic)))
        # Signed in: never served from the anonymous cache, so these measure the topic view itself.
        rows.append(("  the same topic, signed in", load(server, short_topic, headers=api)))
        rows.append((f"GET /t/{{id}}.json ({long_posts} posts, first page)", load(server, first_page)))
        rows.append((f"GET last page of the {long_posts}-post topic", load(server, last_page)))
        rows.append(("  the same first page, signed in", load(server, first_page, headers=api)))
        rows.append(("  the same last page, signed in", load(server, last_page, headers=api)))
        rows.append(("GET /latest.json", load(server, "/latest.json")))
        rows.append(("POST /posts.json (reply)", load(server, "/posts.json", headers=api, script=str(post_script))))
    finally:
        server.stop()
    return [(backend, name, result, result["rps"] / ceiling["rps"]) for name, result in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5, help="per run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per row; the median is reported")
    parser.add_argument("--long-posts", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--smoke", action="store_true", help="one run of 1 s per endpoint and a 300-post long topic")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.repeats, args.long_posts = 1, 1, 300
    if shutil.which("wrk") is None:
        print("bench/api.py needs wrk: apt-get install wrk", file=sys.stderr)
        return 2
    os.environ.setdefault("FORUM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/forum_bench")
    os.environ.setdefault("FORUM_TEST_BROKER_URL", "redis://127.0.0.1:6379/13")
    results = []
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp)
            if backend == "sqlite":
                database_url = databases.new_sqlite_url(tmp_path)
                broker_url, transport_options = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}", {}
                services = {"FORUM_BROKER_URL": broker_url}
            else:
                database_url = databases.new_server_database(os.environ["FORUM_TEST_DATABASE_URL"])
                broker_url, transport_options = databases.new_broker(tmp_path)
                services = {"FORUM_BROKER_URL": broker_url, "FORUM_BROKER_TRANSPORT_OPTIONS": json.dumps(transport_options),
                            "FORUM_REDIS_URL": broker_url,
                            "FORUM_PAGE_CACHE_KEY_PREFIX": transport_options["global_keyprefix"] + "page-cache:"}
            try:
                results += measure(backend, database_url, services, args.seconds, args.repeats, args.long_posts, tmp_path)
            finally:
                databases.drop_database(database_url)
                databases.remove_broker_keys(broker_url, transport_options)
    print(f"\n{'backend':<11}{'endpoint':<46}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'of ceiling':>12}"
          f"{'web CPU':>9}{'db CPU':>8}  workers busy (% of a core)")
    for backend, name, result, ratio in results:
        busy = " / ".join(f"{share:.0%}" for share in result["workers_busy"])
        web_ms = 1000 * sum(result["workers_busy"]) / result["rps"]
        database = result["database_cpu_seconds"]
        database_ms = "-" if database is None else f"{1000 * database / result['requests']:.2f}"
        print(f"{backend:<11}{name:<46}{result['rps']:>9.0f}{result['p50_ms']:>9.1f}{result['p99_ms']:>9.1f}"
              f"{result['errors']:>8}{ratio:>11.0%}{web_ms:>9.2f}{database_ms:>8}  {busy}")
    return 1 if any(result["errors"] for _, _, result, _ in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
