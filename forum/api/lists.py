"""Discourse's topic lists: /latest, /top, /new, /unread, /c/{slug}/{id}, /tag/{name} and a member's private messages."""
from urllib.parse import urlencode

from flask import Blueprint, request

from forum.api import anonymous_cache
from forum.api.auth import current_actor
from forum.api.params import params
from forum.api.routing import json_route
from forum.api.serializers import topic_lists as serializers
from forum.services import topic_lists
from forum.services.topic_lists import Paging, TopicList

bp = Blueprint("lists", __name__)


# The parameters a list reads: its page is kept per their values, and its next page's link keeps them.
LIST_PARAMS = ("page", "per_page", "order", "ascending")
TOP_PARAMS = ("period", *LIST_PARAMS)


def _paging(default_per_page: int = topic_lists.DEFAULT_PER_PAGE) -> Paging:
    args = params()
    return topic_lists.paging(
        page=args.integer("page", 0),
        per_page=args.integer("per_page"),
        order=args.string("order"),
        ascending=args.boolean("ascending", False),
        default_per_page=default_per_page,
    )


def _more_topics_url(result: TopicList, reads: tuple[str, ...]) -> str | None:
    """This list's next page, as Discourse links it: the path without .json, the parameters the list read, the
    next page (other parameters are dropped, as Discourse drops them, so a kept page never shows a visitor's)."""
    if not result.has_more:
        return None
    query = [(name, value) for name, value in anonymous_cache.read_params(reads) if name != "page"]
    return f"{request.path.removesuffix('.json')}?{urlencode(query + [('page', result.page + 1)])}"


def _respond(result: TopicList, shape: serializers.ListShape, reads: tuple[str, ...] = LIST_PARAMS, **extra) -> dict:
    return serializers.topic_list(result, shape, more_topics_url=_more_topics_url(result, reads), **extra)


@json_route(bp, "/latest", methods=["GET"])
@anonymous_cache.cached(anonymous_cache.LIST_DEPENDENCIES, reads=LIST_PARAMS)
def latest():
    return _respond(topic_lists.latest(current_actor(), _paging()), serializers.LATEST)


@json_route(bp, "/new", methods=["GET"])
def new():
    return _respond(topic_lists.new(current_actor(), _paging()), serializers.LATEST)


@json_route(bp, "/unread", methods=["GET"])
def unread():
    return _respond(topic_lists.unread(current_actor(), _paging()), serializers.LATEST)


@json_route(bp, "/top", methods=["GET"])
@anonymous_cache.cached(anonymous_cache.LIST_DEPENDENCIES, reads=TOP_PARAMS)
def top():
    period = params().string("period", topic_lists.DEFAULT_TOP_PERIOD)
    result = topic_lists.top(current_actor(), period, _paging(topic_lists.TOP_PER_PAGE))
    return _respond(result, serializers.TOP, TOP_PARAMS, for_period=period)


@json_route(bp, "/c/<int:category_id>", methods=["GET"])
@json_route(bp, "/c/<slug>/<int:category_id>", methods=["GET"])
@anonymous_cache.cached(anonymous_cache.LIST_DEPENDENCIES, reads=LIST_PARAMS)
def category(category_id: int, slug: str | None = None):
    # The slug is decoration, as in Discourse's /c/{slug}/{id}: the id names the category.
    return _respond(topic_lists.category_topics(current_actor(), category_id, _paging()), serializers.CATEGORY)


@json_route(bp, "/tag/<name>", methods=["GET"])
@anonymous_cache.cached(anonymous_cache.LIST_DEPENDENCIES, reads=LIST_PARAMS)
def tag(name: str):
    viewer = current_actor()
    found = topic_lists.find_tag(viewer, name)
    result = topic_lists.tag_topics(viewer, found, _paging())
    summary = serializers.tag_summary(found, topic_lists.tag_topic_count(viewer, found))
    return _respond(result, serializers.TAG, tags=[summary])


@json_route(bp, "/topics/private-messages/<username>", methods=["GET"])
def private_messages(username: str):
    return _respond(topic_lists.private_messages(current_actor(), username, _paging()), serializers.MESSAGES)


@json_route(bp, "/topics/private-messages-sent/<username>", methods=["GET"])
def private_messages_sent(username: str):
    return _respond(topic_lists.private_messages(current_actor(), username, _paging(), sent=True), serializers.MESSAGES)
