"""Request parameters from the query string, form or multipart body, or JSON body, as Discourse accepts them.

Every encoding reads the same way:
- lists: ``tags[]=a&tags[]=b``, ``tags=a`` and ``{"tags": ["a", "b"]}``;
- nested fields: ``post[raw]=...`` and ``{"post": {"raw": ...}}``;
- mappings: ``timings[1]=1000&timings[2]=800`` and ``{"timings": {"1": 1000, "2": 800}}``.
"""
import re

from flask import current_app, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from forum.services.errors import InvalidParameters

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}
# Ids and counts are 32-bit integers in the database; larger numbers are refused as input, not a 500.
MAX_INTEGER = 2**31 - 1


def _pairs(key: str, value) -> list[tuple[str, object]]:
    """A JSON member as the form fields that say the same thing (one level of nesting, as Discourse's)."""
    if isinstance(value, list):
        return [(key, item) for item in value] or [(f"{key}[]", "")]
    if isinstance(value, dict):
        return [(f"{key}[{name}]", item) for name, item in value.items()] or [(key, "")]
    return [(key, value)]


def refuse_oversized_unsized_bodies() -> None:
    """A body sent without a Content-Length (chunked) is refused when it reaches MAX_CONTENT_LENGTH, as one that
    declares its length is: Werkzeug only stops reading there, and the form or JSON cut short would be taken as
    the whole request. Read once, into the request's cache, which parsing reads from."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is None or request.content_length is not None or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if len(request.get_data(cache=True)) >= limit:
        raise RequestEntityTooLarge()


def _body() -> MultiDict:
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise InvalidParameters("The request body is not a JSON object.")
        return MultiDict([pair for key, value in data.items() for pair in _pairs(key, value)])
    return request.form


class Params:
    def __init__(self):
        self._values = MultiDict(request.args)
        self._values.update(_body())

    def has(self, name: str) -> bool:
        return name in self._values or f"{name}[]" in self._values or bool(self._mapping_keys(name))

    def string(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self._values.get(name)
        if value is None and self._mapping_keys(name):  # an object where a string belongs: not the same as no value
            raise InvalidParameters(f"{name} must be a string.")
        if value is None or value == "":
            if required:
                raise InvalidParameters(f"param is missing or the value is empty: {name}")
            return default
        if isinstance(value, (dict, list)):
            raise InvalidParameters(f"{name} must be a string.")
        return _text(name, value)

    def nested(self, wrapper: str, name: str, default: str | None = None) -> str | None:
        """A field sent plain (``title``) or inside its object (``topic[title]``, ``{"topic": {"title": ...}}``)."""
        return self.string(name) or self.string(f"{wrapper}[{name}]", default)

    def sent_nested(self, wrapper: str, name: str) -> str | None:
        """``sent_string`` of the field inside its object first (``group[name]``), then plain."""
        for key in (f"{wrapper}[{name}]", name):
            if self.has(key):
                return self.sent_string(key)
        return None

    def sent_string(self, name: str) -> str | None:
        """``string``, but "" when the field is sent empty or null (a value to clear), and None only when it is not
        sent."""
        return self.string(name, "") if self.has(name) else None

    def integer(
        self, name: str, default: int | None = None, *, required: bool = False, minimum: int | None = None
    ) -> int | None:
        return self._to_integer(name, self.string(name, required=required), default, minimum)

    def nested_integer(self, wrapper: str, name: str, default: int | None = None) -> int | None:
        key = name if self.string(name) is not None else f"{wrapper}[{name}]"
        return self._to_integer(key, self.string(key), default, None)

    @staticmethod
    def _to_integer(name: str, value: str | None, default: int | None, minimum: int | None) -> int | None:
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise InvalidParameters(f"{name} must be a whole number.") from None
        if abs(number) > MAX_INTEGER:
            raise InvalidParameters(f"{name} is too large.")
        if minimum is not None and number < minimum:
            raise InvalidParameters(f"{name} must be at least {minimum}.")
        return number

    def boolean(self, name: str, default: bool | None = None) -> bool | None:
        value = self._values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise InvalidParameters(f"{name} must be true or false.")

    def string_list(self, name: str) -> list[str]:
        values = [value for value in self._values.getlist(name) + self._values.getlist(f"{name}[]") if value not in (None, "")]
        if any(isinstance(value, (dict, list)) for value in values):
            raise InvalidParameters(f"{name} must be a list of strings.")
        return [_text(name, value) for value in values]

    def sent_string_list(self, name: str) -> list[str] | None:
        """``string_list`` when the request sends the field (an empty list included), else None; sent as an object
        (``name[0]=...``, ``{"name": {...}}``) it is refused, not read as an empty list."""
        if self._mapping_keys(name):
            raise InvalidParameters(f"{name} must be a list of strings.")
        return self.string_list(name) if self.has(name) else None

    def integer_list(self, name: str) -> list[int]:
        return [self._to_integer(name, value, None, None) for value in self.string_list(name)]

    def mapping(self, name: str) -> dict[str, str] | None:
        """``name[key]=value`` fields (or a JSON object) as {key: value}; None when the request has none."""
        keys = self._mapping_keys(name)
        if not keys and name not in self._values:
            return None
        if self._values.get(name) not in (None, ""):
            raise InvalidParameters(f"{name} must map names to values.")
        return {key: self.string(field, "") for key, field in keys.items()}

    def _mapping_keys(self, name: str) -> dict[str, str]:
        pattern = re.compile(rf"^{re.escape(name)}\[([^\]]+)\]$")
        return {match.group(1): field for field in self._values if (match := pattern.match(field))}


def _text(name: str, value) -> str:
    """A value as text that every database can store: no NUL, and no lone surrogate (JSON's "\\ud800" escapes one,
    which UTF-8 cannot encode)."""
    text = str(value)
    if "\x00" in text:
        raise InvalidParameters(f"{name} must not contain NUL characters.")
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            raise InvalidParameters(f"{name} must be valid Unicode text.") from None
    return text


def params() -> Params:
    return Params()
