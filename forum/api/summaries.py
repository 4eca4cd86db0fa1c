"""Topic summaries at Discourse AI's path and in its shape, plus (our extension) the key points with the
post numbers each came from."""
from flask import Blueprint, current_app

from forum.api.auth import current_actor
from forum.api.params import params
from forum.api.routing import json_route
from forum.api.serializers import iso
from forum.extensions import limiter
from forum.services import summaries
from forum.services.errors import NotFound

bp = Blueprint("summaries", __name__)


def _regenerating() -> bool:
    return bool(params().boolean("skip_age_check", False))


@json_route(bp, "/discourse-ai/summarization/t/<int:topic_id>", methods=["GET"])
# Beside the default per-caller limit, not instead of it (Flask-Limiter's default for a route's own limit).
@limiter.limit(lambda: current_app.config["SUMMARY_REGENERATE_RATE_LIMIT"], exempt_when=lambda: not _regenerating(), override_defaults=False)
def topic_summary(topic_id: int):
    actor = current_actor()
    view = summaries.summary_for(actor, topic_id, regenerate=_regenerating())
    if view is None:
        raise NotFound("This topic has nothing to summarise yet.")
    summary = view.summary
    return {
        "ai_topic_summary": {
            "summarized_text": view.summarized_text,
            "algorithm": summary.algorithm,
            "outdated": view.outdated,
            "can_regenerate": actor is not None and actor.is_active,
            "new_posts_since_summary": view.new_posts_since_summary,
            "updated_at": iso(summary.updated_at),
        },
        "key_points": view.key_points,
    }
