"""Topic timers (Discourse's POST /t/{id}/timer.json) and dialogue schedules (our extension)."""
import math

from flask import Blueprint, request

from forum.api.auth import current_actor, require_actor
from forum.api.params import params
from forum.api.routing import json_route
from forum.api.serializers.timers import schedule_json, timer_set_json
from forum.models.base import utcnow
from forum.services import schedules, timers, topics
from forum.services.errors import InvalidParameters
from forum.services.timers import parse_time

bp = Blueprint("timers", __name__)


@json_route(bp, "/t/<int:topic_id>/timer", methods=["POST"])
def set_timer(topic_id: int):
    actor = require_actor()
    topic = topics.get_visible_topic(actor, topic_id)  # a topic the caller may not see is a 404, as one that does not exist
    values = params()
    timer = timers.set_topic_timer(
        actor,
        topic,
        status_type=values.string("status_type", "close"),
        time=values.string("time"),
        based_on_last_post=values.boolean("based_on_last_post", False),
        duration_minutes=values.integer("duration_minutes", minimum=1),
    )
    return timer_set_json(topic, timer)


@json_route(bp, "/t/<int:topic_id>/dialogue-schedule", methods=["GET"])
def get_schedule(topic_id: int):
    topic = topics.get_visible_topic(current_actor(), topic_id)  # everyone who reads the dialogue may know when it opens
    return schedule_json(topic, schedules.current_schedule(topic))


@json_route(bp, "/t/<int:topic_id>/dialogue-schedule", methods=["POST", "PUT"])
def set_schedule(topic_id: int):
    actor = require_actor()
    topic = topics.get_visible_topic(actor, topic_id)
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict) and "windows" in body:
        windows = schedules.parse_windows(body["windows"])
    else:
        values = params()
        first_open_at = parse_time(values.string("first_open_at", required=True), utcnow())
        if first_open_at is None:  # blank
            raise InvalidParameters("param is missing or the value is empty: first_open_at")
        windows = schedules.windows_from_recurrence(
            first_open_at,
            open_hours=_number(values.string("open_hours", required=True), "open_hours"),
            every_days=_number(values.string("every_days", "7"), "every_days"),
            count=values.integer("count", 1),
        )
    schedule = schedules.create_schedule(actor, topic, windows)
    return schedule_json(topic, schedule)


@json_route(bp, "/t/<int:topic_id>/dialogue-schedule", methods=["DELETE"])
def delete_schedule(topic_id: int):
    actor = require_actor()
    schedules.cancel_schedule(actor, topics.get_visible_topic(actor, topic_id))
    return {"success": "OK"}


def _number(value: str, name: str) -> float:
    # Ranges are the schedule service's rule (windows_from_recurrence); here only that it is a number.
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise InvalidParameters(f"{name} must be a number.")
    return number
