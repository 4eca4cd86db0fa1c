"""Routes as Discourse serves them: every path answers with and without the ``.json`` suffix."""
from flask import Blueprint
from werkzeug.routing import IntegerConverter

from forum.api.params import MAX_INTEGER


class IdConverter(IntegerConverter):
    """``<int:...>`` for every route: ids beyond the 32-bit id columns name nothing, so they answer 404
    instead of reaching the database (where PostgreSQL would refuse them with an error)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_INTEGER)
        super().__init__(map, *args, **kwargs)


def json_route(bp: Blueprint, rule: str, **options):
    def decorator(view):
        bp.add_url_rule(f"{rule}.json", view_func=view, **options)
        bp.add_url_rule(rule, view_func=view, **options)
        return view

    return decorator
