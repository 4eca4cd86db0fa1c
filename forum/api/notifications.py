"""A member's notifications: GET /notifications.json and PUT /notifications/mark-read.json."""
from flask import Blueprint

from forum.api.auth import current_actor
from forum.api.params import params
from forum.api.routing import json_route
from forum.api.serializers.notifications import notification_page
from forum.services import notifications

bp = Blueprint("notifications", __name__)


@json_route(bp, "/notifications", methods=["GET"])
def index():
    actor, values = current_actor(), params()
    if values.boolean("recent", False):
        page = notifications.recent_notifications(
            actor, limit=values.integer("limit", notifications.DEFAULT_RECENT, minimum=1),
            mark_seen=not values.boolean("silent", False))
    else:
        page = notifications.list_notifications(actor, values.string("username"), offset=values.integer("offset", 0, minimum=0))
    return notification_page(page)


@json_route(bp, "/notifications/mark-read", methods=["PUT"])
def mark_read():
    actor, values = current_actor(), params()
    notifications.mark_read(actor, values.integer("id"))
    return {"success": "OK"}
