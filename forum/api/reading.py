"""Discourse's read tracking: POST /topics/timings."""
import re
from collections.abc import Iterable

from flask import Blueprint, request

from forum.api.auth import current_actor
from forum.api.params import params
from forum.api.routing import json_route
from forum.services import reading
from forum.services.errors import InvalidParameters

bp = Blueprint("reading", __name__)

# The form encoding Discourse's client sends: timings[1]=1000&timings[2]=1500.
_FORM_TIMING = re.compile(r"^timings\[(.*)\]$")
_WHOLE_NUMBER = re.compile(r"^-?[0-9]+$")


@json_route(bp, "/topics/timings", methods=["POST"])
def timings():
    args = params()
    reading.record_timings(
        current_actor(),
        topic_id=args.integer("topic_id", required=True),
        topic_time=args.integer("topic_time", 0),
        timings=_timings(),
    )
    return "", 200  # Discourse answers an empty 200


def _timings() -> dict[int, int]:
    """``timings`` as post number -> msecs, from ``timings[n]=ms`` form fields or a JSON ``{"timings": {"n": ms}}``."""
    if request.is_json:
        body = request.get_json(silent=True)
        given = body.get("timings") if isinstance(body, dict) else None
        if given is None:
            return {}
        if not isinstance(given, dict):
            raise InvalidParameters("timings must map post numbers to milliseconds.")
        pairs: Iterable = given.items()
    else:
        pairs = [
            (match.group(1), value)
            for name, value in request.values.items(multi=True)
            if (match := _FORM_TIMING.match(name))
        ]
    return {_whole_number(post_number): _whole_number(msecs) for post_number, msecs in pairs}


def _whole_number(value) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _WHOLE_NUMBER.match(value.strip()):
        return int(value)
    raise InvalidParameters("timings must map post numbers to whole numbers of milliseconds.")
