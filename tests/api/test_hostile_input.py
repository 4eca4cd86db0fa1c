"""Hostile values in otherwise well-formed requests: never a 500, and every refusal in Discourse's error shape.

Each request is a well-formed one to an endpoint that reads input (the conformance cases, plus the endpoints
Discourse's file leaves out) with one field replaced or added: every field of its own with every hostile value
(NUL, a lone surrogate, numbers beyond any column, NaN, nested lists and objects, a 100,000-character string,
impossible dates, ...), and every field any endpoint reads added with one of them. The encoding (JSON, form, query
string) and the caller (an admin, a member, anonymous) take turns; a value only JSON can carry goes as JSON. Deleting
requests are left out: one deleted topic would turn every later request into a plain 404.
"""
import io
import json
import math
from itertools import cycle
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.routing import AnyConverter

from forum.api.routing import IdConverter
from tests.api.test_openapi_conformance import CASES

HOSTILE_VALUES = [
    "\x00", "raw text with a NUL \x00 inside it", "\ud800 a lone surrogate", "x" * 100_000, "", " ", "null", "[]",
    "-1", "0", "2147483648", "9223372036854775808", "1e309", "NaN", "2024-02-30", "9999-12-31T23:59:59Z", "0001-01-01",
    "<script>alert(1)</script>", "../../etc/passwd", "%00", "é👍\u202e",
    -1, 0, 2**31, 2**63, 10**30, -(10**30), 1.5, math.nan, math.inf, True, False, None,
    [], ["a", ["b"]], [1, None], {}, {"a": {"b": 1}}, {"1": "x"},
]  # fmt: skip
# Fields the endpoints read, beyond those of the cases' own bodies (any of them may be added to any request).
FIELD_NAMES = [
    "topic_id", "raw", "title", "category", "category_id", "tags", "reply_to_post_number", "edit_reason", "post_ids",
    "page", "order", "ascending", "period", "per_page", "before", "status", "enabled", "until", "time", "status_type",
    "based_on_last_post", "duration_minutes", "name", "color", "text_color", "parent_category_id", "tag_names",
    "username", "email", "password", "suspend_until", "reason", "q", "version", "type", "tactic", "min_score",
    "sort_order", "offset", "items", "timings", "topic_time", "login", "bot_opt_out", "description", "examples",
    "windows", "first_open_at", "open_hours", "every_days", "count", "redact", "skip_age_check", "id",
    "post_action_type_id", "post", "topic",
]  # fmt: skip
# Endpoints that read input and that Discourse's file leaves out: (method, url of the world, body of the world).
EXTRA_CASES = [
    ("get", lambda w: "/new.json", None),
    ("get", lambda w: "/unread.json", None),
    ("get", lambda w: f"/t/{w.topic.slug}/{w.topic.id}/2.json", None),
    ("get", lambda w: f"/posts/by_number/{w.topic.id}/2.json", None),
    ("get", lambda w: f"/posts/{w.reply.id}/revisions/latest.json", None),
    ("get", lambda w: f"/raw/{w.topic.id}", None),
    ("put", lambda w: f"/posts/{w.reply.id}/recover.json", None),
    ("put", lambda w: f"/t/{w.topic.id}/recover.json", None),
    ("post", lambda w: "/topics/timings.json", lambda w: {"topic_id": w.topic.id, "topic_time": 1000, "timings": {"1": 1000, "2": 800}}),
    ("get", lambda w: "/review.json", None),
    ("put", lambda w: "/review/1/perform/approve_tag.json", lambda w: {"version": 0}),
    ("put", lambda w: "/review/bulk/perform/reject_tag.json", lambda w: {"items": [{"id": 1, "version": 0}], "reason": "no"}),
    ("post", lambda w: f"/t/{w.topic.id}/dialogue-schedule.json",
     lambda w: {"first_open_at": "2099-01-06T18:00:00Z", "open_hours": 48, "every_days": 7, "count": 4}),
    ("get", lambda w: f"/t/{w.topic.id}/dialogue-schedule.json", None),
    ("get", lambda w: f"/discourse-ai/summarization/t/{w.topic.id}.json", None),
    ("get", lambda w: "/tactics.json", None),
    ("put", lambda w: "/tactics/training.json", lambda w: {"description": "Trainings for a company's people.", "examples": ["We trained managers."]}),
    ("get", lambda w: f"/u/{w.member.username}/bot-preferences.json", None),
    ("put", lambda w: f"/u/{w.member.username}/bot-preferences.json", lambda w: {"bot_opt_out": True}),
    ("put", lambda w: "/tag/training.json", lambda w: {"tag": {"id": "trainings"}}),
    ("put", lambda w: f"/admin/users/{w.member.id}/unsuspend.json", None),
    ("post", lambda w: "/session.json", lambda w: {"login": "member", "password": "correct horse battery"}),
    ("get", lambda w: f"/t/{w.topic.id}/digest.json", None),
    ("get", lambda w: "/tag/training/digest.md", None),
]  # fmt: skip
TEMPLATES = [(method, url, body) for method, _, url, body in CASES if method != "delete"] + EXTRA_CASES


def _form_fields(body: dict) -> dict:
    """The body as Discourse's form encoding says it: lists as ``name[]``, objects as ``name[key]``."""
    fields: dict[str, object] = {}
    for name, value in body.items():
        if isinstance(value, dict):
            fields.update({f"{name}[{key}]": _form_value(item) for key, item in value.items()})
        elif isinstance(value, list):
            fields[f"{name}[]"] = [_form_value(item) for item in value]
        else:
            fields[name] = _form_value(value)
    return fields


def _form_value(value) -> str:
    return "" if value is None else json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def _encodable(fields: dict) -> bool:
    """Whether a form or a query string can carry the fields: not a lone surrogate, which UTF-8 has no bytes for (JSON
    escapes it)."""
    try:
        json.dumps(fields, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


def _mutations(world):
    """(template, field, value, encoding, caller) for every request this test sends, in a fixed order."""
    encodings, callers, values = cycle(["json", "form", "query"]), cycle(["admin", "admin", "member", "anonymous"]), cycle(HOSTILE_VALUES)
    for method, url, body in TEMPLATES:
        own = sorted(body(world) if body else {}) + [name for name, _ in parse_qsl(urlsplit(url(world)).query)]
        for field in own:
            for value in HOSTILE_VALUES:
                yield (method, url, body), field, value, next(encodings), next(callers)
        for field in FIELD_NAMES:
            yield (method, url, body), field, next(values), next(encodings), next(callers)


def test_hostile_values_get_clear_errors_never_a_500(client, auth_headers, world):
    callers = {"admin": auth_headers(world.admin), "member": auth_headers(world.member), "anonymous": {}}
    failures, sent = [], 0
    for (method, url, body), field, value, encoding, caller in _mutations(world):
        address = urlsplit(url(world))
        query = MultiDict(parse_qsl(address.query))
        fields = dict(body(world)) if body else {}
        if field in query:
            del query[field]
        fields[field] = value
        headers = callers[caller]
        if not _encodable(fields):  # only JSON carries it
            if method == "get":
                continue
            encoding = "json"
        if method == "get" or encoding == "query":
            for key, item in _form_fields(fields).items():
                query.setlist(key, item if isinstance(item, list) else [item])
            response = client.open(address.path, method=method.upper(), headers=headers, query_string=query)
        elif encoding == "form":
            response = client.open(address.path, method=method.upper(), headers=headers, query_string=query, data=_form_fields(fields))
        else:
            response = client.open(address.path, method=method.upper(), headers={**headers, "Content-Type": "application/json"},
                                   query_string=query, data=json.dumps(fields))
        sent += 1
        request = f"{method.upper()} {address.path} {encoding} as {caller}: {field}={str(value)[:40]!r}"
        if response.status_code >= 500:
            failures.append(f"{request} -> {response.status_code}")
        elif response.status_code >= 400 and response.is_json:
            answer = response.get_json()
            if not (isinstance(answer, dict) and isinstance(answer.get("errors"), list) and answer["errors"] and "error_type" in answer):
                failures.append(f"{request} -> {response.status_code} not in Discourse's error shape: {answer!r:.200}")
    assert not failures, f"{len(failures)} of {sent} requests:\n" + "\n".join(failures[:30])
    assert sent > 4000  # (a GET is skipped when its query string cannot carry the value)


@pytest.mark.parametrize("value", ["\x00", "\ud800"], ids=["NUL", "lone surrogate"])
def test_text_no_database_can_store_is_refused_before_it_reaches_one(client, auth_headers, world, value):
    """A reply with such text is a 400, and nothing is stored (the topic keeps its posts)."""
    before = world.topic.posts_count
    response = client.post("/posts.json", json={"topic_id": world.topic.id, "raw": f"A reply with {value} in its text."},
                           headers=auth_headers(world.member))
    assert response.status_code == 400 and response.json["error_type"] == "invalid_parameters", response.get_data(as_text=True)
    assert client.get(f"/t/{world.topic.id}.json").json["posts_count"] == before


# Whole bodies that are not a JSON object: nested past what Python's decoder can recurse into, or another JSON value.
HOSTILE_BODIES = ["[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000, '["windows"]', '"windows"', "1", "true", "null", "{"]


def test_bodies_that_are_not_json_objects_get_clear_errors_never_a_500(client, auth_headers, world):
    failures = []
    for (method, url, _), caller in zip(TEMPLATES, cycle(["admin", "member"])):
        for body in HOSTILE_BODIES:
            response = client.open(urlsplit(url(world)).path, method=method.upper(), data=body,
                                   headers={**auth_headers(getattr(world, caller)), "Content-Type": "application/json"})
            answer = response.get_json(silent=True) if response.status_code >= 400 else {"errors": ["-"], "error_type": "-"}
            if response.status_code >= 500 or not (isinstance(answer, dict) and answer.get("errors") and "error_type" in answer):
                failures.append(f"{method.upper()} {url(world)} as {caller} with {body[:20]!r}: {response.status_code} {response.get_data(as_text=True)[:100]}")
    assert not failures, "\n".join(failures[:30])


@pytest.mark.parametrize("path", ["/tag/%00.json", "/tag/%2F.json", "/u/%00.json", "/u/%2F/emails.json", "/t/x/%00/1.json"])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_path_segments_that_name_nothing_are_a_json_404(client, auth_headers, world, path, method):
    """A NUL (PostgreSQL refuses it in text) or a slash (``%2F`` makes the path's slashes double) in a segment."""
    response = client.open(path, method=method, headers=auth_headers(world.admin))
    assert response.status_code in (404, 405) and response.is_json, response.get_data(as_text=True)[:200]
    assert response.json["errors"] and response.json["error_type"]


def test_a_timing_with_more_digits_than_python_converts_is_a_400(client, auth_headers, world):
    for timings in ({"9" * 5000: 1000}, {"1": "9" * 5000}):
        response = client.post("/topics/timings.json", json={"topic_id": world.topic.id, "topic_time": 10, "timings": timings},
                               headers=auth_headers(world.member))
        assert response.status_code == 400 and response.json["error_type"] == "invalid_parameters"


def _routes_with_ids(app):
    for rule in app.url_map.iter_rules():
        if any(isinstance(converter, IdConverter) for converter in rule._converters.values()):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, rule


def _value_beyond_the_id_columns(converter):
    """2**31 for an id, and a value each other converter of the rule accepts."""
    if isinstance(converter, IdConverter):
        return 2**31
    return min(converter.items) if isinstance(converter, AnyConverter) else "x"


def test_ids_beyond_the_id_columns_are_a_json_404_on_every_route_and_method(app, client, auth_headers, world):
    """Every method of every route with an id: 2**31 names nothing. (werkzeug refused such a rule only after choosing
    it, and answered 405 wherever another rule of the path took other methods: ``PUT /posts/{id}``.)"""
    failures = []
    for method, rule in _routes_with_ids(app):
        path = rule.build({name: _value_beyond_the_id_columns(converter) for name, converter in rule._converters.items()},
                          append_unknown=False)[1]
        response = client.open(path, method=method, headers=auth_headers(world.admin))
        if response.status_code != 404 or not (response.is_json and response.json["errors"] and response.json["error_type"]):
            failures.append(f"{method} {path}: {response.status_code} {response.get_data(as_text=True)[:80]}")
    assert len(list(_routes_with_ids(app))) > 40
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("sized", [True, False], ids=["content-length", "chunked"])
def test_a_body_beyond_the_limit_is_a_413_and_stores_nothing_whether_or_not_it_says_its_length(app, client, auth_headers, world, sized):
    """A chunked body (no Content-Length) was cut at the limit and the rest taken as the whole request: here a reply
    whose padding ran past the limit was stored."""
    body = urlencode({"topic_id": world.topic.id, "raw": "A reply that arrives before its padding does."}).encode()
    body += b"".join(b"&padding=" + b"x" * 100_000 for _ in range(app.config["MAX_CONTENT_LENGTH"] // 100_000 + 1))  # fields of a size forms take
    before = client.get(f"/t/{world.topic.id}.json").json["posts_count"]
    options = {"data": body} if sized else {"input_stream": io.BytesIO(body), "environ_overrides": {"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"}}
    response = client.post("/posts.json", content_type="application/x-www-form-urlencoded", headers=auth_headers(world.member), **options)
    assert response.status_code == 413 and response.json["errors"] and response.json["error_type"]
    assert client.get(f"/t/{world.topic.id}.json").json["posts_count"] == before
