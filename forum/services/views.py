"""Topic view counts without a database write per view.

Each process adds views up in memory and hands the totals to a Celery task at most every
VIEW_FLUSH_SECONDS (config), which applies them in one UPDATE per topic, and once more when a gunicorn
worker exits (``gunicorn.conf.py``). A crash loses the views of those last seconds:
acceptable for a popularity figure, and it keeps the topic view free of database writes (a flush sends one
broker message, at most that often).
"""
import logging
import threading
import time
from collections import Counter

from flask import current_app
from sqlalchemy import update

from forum.database import write_unit
from forum.extensions import db
from forum.models import Topic

logger = logging.getLogger(__name__)


class ViewBuffer:
    def __init__(self):
        self._lock = threading.Lock()
        self._counts: Counter[int] = Counter()
        self._last_flush = time.monotonic()

    def record(self, topic_id: int) -> None:
        with self._lock:
            self._counts[topic_id] += 1
            if time.monotonic() - self._last_flush < current_app.config["VIEW_FLUSH_SECONDS"]:
                return
            counts, self._counts, self._last_flush = self._counts, Counter(), time.monotonic()
        self._send(counts)

    def flush(self) -> None:
        with self._lock:
            counts, self._counts, self._last_flush = self._counts, Counter(), time.monotonic()
        if counts:
            self._send(counts)

    def _send(self, counts: Counter) -> None:
        """Hand the totals to the worker. A broker that cannot take them now must not fail the page that was
        being shown: they are logged and kept for the next flush."""
        from bots.tasks import add_topic_views

        try:
            add_topic_views.delay({str(topic_id): n for topic_id, n in counts.items()})
        except Exception:
            logger.exception("topic views could not be sent to the worker; kept for the next flush")
            with self._lock:
                self._counts.update(counts)


def add_views(counts: dict[str, int]) -> None:
    with write_unit(db.session):
        for topic_id, n in sorted(counts.items()):
            db.session.execute(
                update(Topic).where(Topic.id == int(topic_id)).values(views=Topic.views + int(n)),
                execution_options={"synchronize_session": False},
            )


topic_views = ViewBuffer()
