"""Discourse's search endpoints."""
from flask import Blueprint

from forum.api.auth import current_actor
from forum.api.params import params
from forum.api.routing import json_route
from forum.api.serializers.search import grouped_search_result
from forum.services import search

bp = Blueprint("search", __name__)


@json_route(bp, "/search", methods=["GET"])
def search_posts():
    args = params()
    viewer = current_actor()
    results = search.search(viewer, args.string("q"), page=args.integer("page", 1, minimum=1))
    return grouped_search_result(results, viewer)
