"""Thread digests (our extension) and Discourse's print view.

- ``GET /t/{id}/digest.md|html|json``: one topic's digest.
- ``GET /tag/{tactic}/digest.md|html|json``: a tactic notebook, every approved example of one tactic in the
  topics the caller can see, grouped by topic.
- ``?redact=1``: pseudonymous participants, masked e-mail addresses and phone numbers.
- ``GET /t/{slug}/{id}/print`` (and ``/t/{id}/print``): the topic's posts on one printable page.

The JSON document's schema is ``docs/digest-schema.json``.
"""
from flask import Blueprint, Response, jsonify

from forum.api.auth import current_actor
from forum.api.params import params
from forum.content import digests as rendering
from forum.services import digests

bp = Blueprint("digests", __name__)

FORMAT = f"<any({', '.join(rendering.FORMATS)}):format>"
# The pages load nothing: the inline stylesheet is all there is (the print view shows the posts' images).
DIGEST_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
PRINT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src http: https:; base-uri 'none'; form-action 'none'"


def _respond(document, format: str) -> Response:
    rendered = rendering.render(document, format)
    if format == "json":
        return jsonify(rendered)
    response = Response(rendered, content_type=rendering.MEDIA_TYPES[format])
    if format == "html":
        response.headers["Content-Security-Policy"] = DIGEST_CSP
    return response


def _redact() -> bool:
    return bool(params().boolean("redact", False))


@bp.get(f"/t/<int:topic_id>/digest.{FORMAT}")
def topic_digest(topic_id: int, format: str):
    return _respond(digests.topic_digest(current_actor(), topic_id, redact=_redact()), format)


@bp.get(f"/tag/<tactic>/digest.{FORMAT}")
def tactic_notebook(tactic: str, format: str):
    return _respond(digests.tactic_notebook(current_actor(), tactic, redact=_redact()), format)


@bp.get("/t/<slug>/<int:topic_id>/print")
@bp.get("/t/<int:topic_id>/print")
def print_view(topic_id: int, slug: str | None = None):
    page = rendering.print_html(digests.printable_topic(current_actor(), topic_id))
    return Response(page, content_type=rendering.MEDIA_TYPES["html"], headers={"Content-Security-Policy": PRINT_CSP})
