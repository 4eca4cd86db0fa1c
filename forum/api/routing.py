"""Routes as Discourse serves them: every path answers with and without the ``.json`` suffix."""
from flask import Blueprint
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, UnicodeConverter, ValidationError

from forum.api.params import MAX_INTEGER


class IdConverter(IntegerConverter):
    """``<int:...>`` for every route: ids beyond the 32-bit id columns name nothing, so they answer 404
    instead of reaching the database (where PostgreSQL would refuse them with an error).

    Not found, rather than werkzeug's ValidationError ("no rule matches"): werkzeug converts only once it has chosen
    the rule, and a rule refused then answers 405 whenever another rule of the path takes other methods
    (``PUT /posts/{id}`` beside ``GET /posts/{id}``), as Discourse never would for a post that does not exist."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_INTEGER:
            raise NotFound()
        return number


class TextConverter(UnicodeConverter):
    """The default converter (``<name>``, ``<string:name>``): a segment with a NUL in it (``%00``) names nothing, so it
    answers 404 instead of reaching the database (PostgreSQL refuses NUL in text with an error)."""

    def to_python(self, value: str) -> str:
        if "\x00" in value:
            raise ValidationError()
        return value


class BodyJSONProvider(DefaultJSONProvider):
    """Flask's JSON, but a body nested too deeply to decode (``[[[[...]]]]``, 10 kB is enough) is invalid JSON like any
    other, answered 400, instead of a RecursionError that no ``get_json(silent=True)`` catches."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("The JSON body is nested too deeply.") from None


def json_route(bp: Blueprint, rule: str, **options):
    def decorator(view):
        bp.add_url_rule(f"{rule}.json", view_func=view, **options)
        bp.add_url_rule(rule, view_func=view, **options)
        return view

    return decorator
