"""Flask extensions: created here, bound to an app in ``create_app`` with ``init_app``."""
import logging
import sqlite3
import time
from pathlib import Path

from celery import Celery, Task
from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.exc import IntegrityError, OperationalError

from forum.models.base import Base

logger = logging.getLogger(__name__)
db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
mail = Mail()


def rate_limit_key() -> str:
    """Signed-in callers are limited per user, anonymous ones per IP address, and so are callers whose API key names
    nobody (the key is refused after it is counted: guessing keys costs requests like any other)."""
    from forum.services.errors import NotAllowed  # the services import this module

    try:
        if current_user.is_authenticated:
            return f"user:{current_user.id}"
    except NotAllowed:
        pass
    return f"ip:{get_remote_address()}"


limiter = Limiter(key_func=rate_limit_key)


def _transport_options(app: Flask) -> dict:
    options = dict(app.config["BROKER_TRANSPORT_OPTIONS"])
    if app.config["BROKER_URL"].startswith(("redis://", "rediss://")):
        # Redis hands an unacknowledged task to another worker after this long: keep it far above
        # the task time limit. (Kombu's SQLAlchemy transport passes its options to create_engine.)
        options.setdefault("visibility_timeout", app.config["BROKER_VISIBILITY_TIMEOUT"])
        # Without these a send waits on a silent broker forever, holding the request (or worker) thread.
        options.setdefault("socket_connect_timeout", app.config["BROKER_SOCKET_TIMEOUT"])
        options.setdefault("socket_timeout", app.config["BROKER_SOCKET_TIMEOUT"])
    return options


SQLITE_BROKER_PREFIX = "sqla+sqlite:///"


def _use_wal_for_sqlite_broker(broker_url: str) -> None:
    """The embedded broker's file in WAL mode (kept by the file once set): a task is sent with one write to the
    log, not a rollback journal's several synced writes, which halves what every post's bot task costs to send."""
    if not broker_url.startswith(SQLITE_BROKER_PREFIX):
        return
    path = Path(broker_url.removeprefix(SQLITE_BROKER_PREFIX).partition("?")[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=5)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError as error:  # the first switch needs the file idle; it works without, only slower
        logger.warning("the broker file %s stays out of WAL mode for now: %s", path, error)
    finally:
        connection.close()


# Attempts at the embedded broker's tables and queue row, and the pause between two.
EMBEDDED_BROKER_ATTEMPTS = 5
EMBEDDED_BROKER_RETRY_SECONDS = 0.2


def _declare_embedded_queue(celery_app: Celery) -> None:
    """Create the embedded broker's tables and its queue's row now, as the process starts, instead of at its first
    send. Kombu's SQLAlchemy transport creates both on first use and guards that only against other threads of the
    same process: web, worker and beat starting together on a new broker file raced there, and each loser's send
    failed ("table kombu_queue already exists"; 4 processes sending at once lost 3 of their 4 tasks in 2 of 5 trials).
    A process that loses the race here tries again, and finds what the winner made."""
    for attempt in range(1, EMBEDDED_BROKER_ATTEMPTS + 1):
        try:
            with celery_app.connection_for_write() as connection:
                connection.default_channel.queue_declare(celery_app.conf.task_default_queue)
            return
        except (OperationalError, IntegrityError) as error:
            if attempt == EMBEDDED_BROKER_ATTEMPTS:
                logger.warning("the embedded broker's queue is not declared yet (its first send will): %s", error)
                return
            time.sleep(EMBEDDED_BROKER_RETRY_SECONDS)


def _beat_schedule(config) -> dict:
    """Beat only nudges: the database holds the schedules, so one lost tick costs nothing."""
    schedule = {
        "scan-due-timers": {"task": "forum.scan_due_timers", "schedule": float(config["TIMER_SCAN_INTERVAL"])},
        "send-bookmark-reminders": {"task": "forum.send_bookmark_reminders", "schedule": float(config["BOOKMARK_REMINDER_INTERVAL"])},
        "send-activity-summaries": {"task": "forum.send_activity_summaries", "schedule": float(config["ACTIVITY_SUMMARY_INTERVAL"])},
        "refit-tactics-model": {"task": "forum.refit_tactics_model", "schedule": float(config["TACTICS_REFIT_INTERVAL"])},
        "refresh-summaries": {"task": "forum.refresh_summaries", "schedule": float(config["SUMMARY_SCAN_INTERVAL"])},
    }
    if config["BOTS_ENABLED"]:  # with the bots off, posts are not handed to them, by their writes or by the backfill
        schedule["backfill-tactics"] = {"task": "forum.backfill_tactics", "schedule": float(config["TACTICS_BACKFILL_INTERVAL"])}
    return schedule


def celery_init_app(app: Flask) -> Celery:
    """One Celery app per Flask app, as Flask's documentation does it.

    Tasks are declared with ``shared_task`` so they bind to whichever app is current; each task
    runs inside the Flask app context, so services and models work unchanged in a worker.
    """

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    _use_wal_for_sqlite_broker(app.config["BROKER_URL"])
    celery_app = Celery(app.import_name, task_cls=FlaskTask)
    celery_app.config_from_object(
        {
            "broker_url": app.config["BROKER_URL"],
            "broker_transport_options": _transport_options(app),
            "broker_connection_retry_on_startup": True,
            "task_serializer": "json",
            "accept_content": ["json"],
            "task_ignore_result": True,
            "task_time_limit": app.config["TASK_TIME_LIMIT"],
            "task_soft_time_limit": app.config["TASK_TIME_LIMIT"] - 30,
            "timezone": "UTC",
            "worker_hijack_root_logger": False,
            "include": ["bots.tasks"],
            "beat_schedule": _beat_schedule(app.config),
        }
    )
    celery_app.set_default()
    if app.config["BROKER_URL"].startswith("sqla+"):
        _declare_embedded_queue(celery_app)
    app.extensions["celery"] = celery_app
    return celery_app
