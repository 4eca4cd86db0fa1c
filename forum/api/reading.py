"""Discourse's read tracking and topic notification levels: POST /topics/timings, POST /t/{id}/notifications."""
import re

from flask import Blueprint

from forum.api.auth import current_actor
from forum.api.params import params
from forum.api.routing import json_route
from forum.services import reading
from forum.services.errors import InvalidParameters

bp = Blueprint("reading", __name__)

_WHOLE_NUMBER = re.compile(r"^-?[0-9]+$")


@json_route(bp, "/topics/timings", methods=["POST"])
def timings():
    args = params()
    reading.record_timings(
        current_actor(),
        topic_id=args.integer("topic_id", required=True),
        topic_time=args.integer("topic_time", 0),
        timings={_whole_number(number): _whole_number(msecs) for number, msecs in (args.mapping("timings") or {}).items()},
    )
    return "", 200  # Discourse answers an empty 200


@json_route(bp, "/t/<int:topic_id>/notifications", methods=["POST"])
def set_notification_level(topic_id: int):
    level = params().integer("notification_level", required=True)
    reading.set_notification_level(current_actor(), topic_id, level)
    return {"success": "OK"}


def _whole_number(value: str) -> int:
    if _WHOLE_NUMBER.match(value.strip()):
        try:
            return int(value)
        except ValueError:  # more digits than Python converts (4,300)
            pass
    raise InvalidParameters("timings must map post numbers to whole numbers of milliseconds.")
