"""Validating responses against Discourse's official OpenAPI file (path from FORUM_DISCOURSE_SPEC)."""
import json
import os
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.databases import unavailable

SPEC_URI = "urn:discourse-openapi"


@cache
def _spec() -> dict | None:
    path = os.environ.get("FORUM_DISCOURSE_SPEC")
    if not path or not Path(path).is_file():
        return None
    return json.loads(Path(path).read_text())


def spec() -> dict:
    loaded = _spec()
    if loaded is None:
        unavailable(f"Discourse OpenAPI spec not found (FORUM_DISCOURSE_SPEC={os.environ.get('FORUM_DISCOURSE_SPEC')!r})")
    return loaded


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def schema_errors(method: str, spec_path: str, status: int, body) -> list[str]:
    """Every way ``body`` breaks the spec's schema for that operation's response (empty when it conforms)."""
    document = spec()
    operation = document["paths"][spec_path][method.lower()]
    response = operation["responses"][str(status)]
    if "content" not in response:
        return []
    pointer = _pointer("paths", spec_path, method.lower(), "responses", str(status), "content", "application/json", "schema")
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(document, default_specification=DRAFT202012))
    validator = Draft202012Validator({"$ref": f"{SPEC_URI}#/{pointer}"}, registry=registry)
    return [f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}" for error in validator.iter_errors(body)]


def assert_matches_spec(response, method: str, spec_path: str) -> None:
    """Assert a Flask or requests response conforms to the spec for ``method spec_path`` at its status."""
    body = response.json() if callable(getattr(response, "json", None)) else response.json
    status = getattr(response, "status_code", None)
    errors = schema_errors(method, spec_path, status, body)
    assert not errors, f"{method} {spec_path} -> {status} breaks the spec:\n" + "\n".join(errors[:30])
