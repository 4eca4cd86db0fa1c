"""Discourse-compatible JSON endpoints, one blueprint per area. Views are thin: parse, call a service, serialise."""
from flask import Flask

from forum.api import (
    activations,
    bookmarks,
    categories,
    digests,
    email_changes,
    groups,
    index,
    invites,
    lists,
    notifications,
    password_resets,
    posts,
    reading,
    review,
    search,
    session,
    site,
    summaries,
    tactics,
    tags,
    timers,
    topics,
    unsubscribes,
    users,
)
from forum.api.auth import check_csrf
from forum.api.params import refuse_oversized_unsized_bodies
from forum.api.errors import register_error_handlers
from forum.api.routing import BodyJSONProvider, IdConverter, TextConverter

BLUEPRINTS = (
    index.bp,
    session.bp,
    password_resets.bp,
    activations.bp,
    unsubscribes.bp,
    email_changes.bp,
    invites.bp,
    topics.bp,
    posts.bp,
    lists.bp,
    reading.bp,
    categories.bp,
    tags.bp,
    site.bp,
    users.bp,
    notifications.bp,
    bookmarks.bp,
    groups.bp,
    search.bp,
    timers.bp,
    review.bp,
    tactics.bp,
    summaries.bp,
    digests.bp,
)


def register_api(app: Flask) -> None:
    app.json = BodyJSONProvider(app)
    # Discourse's exact content type: some clients (pydiscourse) compare it literally.
    app.json.mimetype = "application/json; charset=utf-8"
    # Before any route is added:
    app.url_map.converters.update(int=IdConverter, default=TextConverter, string=TextConverter)
    # A doubled slash (``/tag/%2F.json`` decodes to one) answers 404 as JSON, not a redirect with an HTML body.
    app.url_map.merge_slashes = False
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.before_request(refuse_oversized_unsized_bodies)
    app.before_request(check_csrf)
    register_error_handlers(app)
