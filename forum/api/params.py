"""Request parameters from the query string, form or multipart body, or JSON body, as Discourse accepts them.

``tags[]=a&tags[]=b``, ``tags=a`` and ``{"tags": ["a", "b"]}`` all read as the list ``["a", "b"]``.
"""
from flask import request
from werkzeug.datastructures import MultiDict

from forum.services.errors import InvalidParameters

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def _body() -> MultiDict:
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise InvalidParameters("The request body is not a JSON object.")
        pairs = []
        for key, value in data.items():
            for item in value if isinstance(value, list) else [value]:
                pairs.append((key, item))
        return MultiDict(pairs)
    return request.form


class Params:
    def __init__(self):
        self._values = MultiDict(request.args)
        self._values.update(_body())

    def has(self, name: str) -> bool:
        return name in self._values or f"{name}[]" in self._values

    def string(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self._values.get(name)
        if value is None or value == "":
            if required:
                raise InvalidParameters(f"param is missing or the value is empty: {name}")
            return default
        if isinstance(value, (dict, list)):
            raise InvalidParameters(f"{name} must be a string.")
        return str(value)

    def integer(self, name: str, default: int | None = None, *, required: bool = False, minimum: int | None = None) -> int | None:
        value = self.string(name, required=required)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise InvalidParameters(f"{name} must be a whole number.") from None
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
        values = self._values.getlist(name) + self._values.getlist(f"{name}[]")
        return [str(value) for value in values if value not in (None, "")]

    def integer_list(self, name: str) -> list[int]:
        try:
            return [int(value) for value in self.string_list(name)]
        except ValueError:
            raise InvalidParameters(f"{name} must be a list of whole numbers.") from None


def params() -> Params:
    return Params()
