"""The review queue (Discourse's /review endpoints), staff only: list, show, perform, bulk perform, reopen."""
from urllib.parse import urlencode

from flask import Blueprint, request

from forum.api.auth import current_actor, require_actor
from forum.api.params import params
from forum.api.routing import json_route
from forum.api.serializers.review import perform_result, review_item, review_list
from forum.services import review
from forum.services.errors import InvalidParameters

bp = Blueprint("review", __name__)

FILTERS = ("status", "type", "topic_id", "category_id", "tactic", "min_score", "sort_order")


@json_route(bp, "/review", methods=["GET"])
def queue():
    actor = current_actor()
    values = params()
    filters = review.ReviewFilters(
        status=values.string("status", "pending"),
        type=values.string("type"),
        topic_id=values.integer("topic_id"),
        category_id=values.integer("category_id"),
        tactic=values.string("tactic"),
        min_score=_score(values.string("min_score")),
        sort_order=values.string("sort_order", "score"),
        offset=values.integer("offset", 0, minimum=0),
    )
    page = review.list_reviewables(actor, filters)
    next_offset = filters.offset + len(page.items)
    next_url = None
    if next_offset < page.total:
        kept = {name: request.args[name] for name in FILTERS if name in request.args}
        next_url = f"/review.json?{urlencode({**kept, 'offset': next_offset})}"
    return review_list(actor, page, next_url)


def _score(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        score = float(value)
    except ValueError:
        raise InvalidParameters("min_score must be a number.") from None
    if not 0 <= score <= 1_000_000:
        raise InvalidParameters("min_score must be between 0 and 1000000.")
    return score


@json_route(bp, "/review/<int:reviewable_id>", methods=["GET"])
def show(reviewable_id: int):
    actor = current_actor()
    return review_item(actor, review.get_reviewable(actor, reviewable_id))


@json_route(bp, "/review/<int:reviewable_id>/perform/<action>", methods=["PUT"])
def perform(reviewable_id: int, action: str):
    actor = require_actor()
    values = params()
    item = review.perform(actor, reviewable_id, action, version=values.integer("version"), reason=values.string("reason"))
    return {"reviewable_perform_result": perform_result(item, review.pending_count())}


@json_route(bp, "/review/bulk/perform/<action>", methods=["PUT"])
def perform_bulk(action: str):
    """Our extension: ``items[][id]``/``items[][version]`` or JSON ``{"items": [{"id", "version"}, ...]}``.
    Each item is done or refused on its own; the answer says which."""
    actor = require_actor()
    values = params()  # the reason is read as text from either encoding: no NUL, no lone surrogate
    body = request.get_json(silent=True) if request.is_json else None
    items = body.get("items") if isinstance(body, dict) else None
    if items is None:
        ids, versions = values.integer_list("ids"), values.integer_list("versions")
        if len(ids) != len(versions):
            raise InvalidParameters("Send one version for each id (ids[] and versions[] in the same order).")
        items = [{"id": item_id, "version": version} for item_id, version in zip(ids, versions)]
    results = review.perform_bulk(actor, action, _versions(items), reason=values.string("reason"))
    pending = review.pending_count()  # once for the whole answer, not once per item
    return {
        "results": [
            {"id": result.id, **perform_result(result.item, pending)}
            if result.error is None
            else {"id": result.id, "success": False, "errors": result.error.messages, "error_type": result.error.error_type, "status": result.error.status_code}
            for result in results
        ]
    }


def _versions(items) -> dict[int, int]:
    if not isinstance(items, list):
        raise InvalidParameters("items must be a list of {id, version}.")
    versions = {}
    for item in items:
        if not isinstance(item, dict):
            raise InvalidParameters("items must be a list of {id, version}.")
        item_id, version = item.get("id"), item.get("version")
        if not all(isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31 for value in (item_id, version)):
            raise InvalidParameters("Each item needs a whole-number id and version.")
        if item_id in versions:
            raise InvalidParameters(f"Item {item_id} is named twice.")
        versions[item_id] = version
    return versions
