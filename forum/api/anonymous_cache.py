"""Discourse's anonymous cache: whole JSON answers kept for visitors who are not signed in.

A page is kept per process, with the versions of what it shows (the site, one topic, the topic lists) as
they were read before it was rendered. The domain events replace a version with a new random value once a
change has committed (a reply, an edit, a like, a status change, a move, a deletion, a user or category
change), so the next anonymous request renders afresh. The versions are shared by every process: in Redis
when ``REDIS_URL`` is set, else in a memory-mapped file in the instance folder, which every process of this
machine maps (the embedded default runs on one machine; a deployment over several machines sets
``REDIS_URL``). Random values, never counters, so a version that was lost (a Redis restart, an expired key)
can never come back equal to one a stale page was stored with.

What changes without an event shows at most ``PAGE_CACHE_SECONDS`` late: view counts (written in batches
by the worker) and what time alone changes ("days ago", a pin's end). Answers that depend on the viewer
never come from here: a request with an API key or a signed-in session is always rendered.
A page is kept per view, per value of the view's arguments and per value of the parameters it reads, whatever
else the path or the query string holds (a slug, a ``.json`` suffix, made-up parameters), so junk neither fills
the cache nor pushes useful pages out of it.
Responses say ``X-Discourse-Cached: true`` (served from the cache), ``store`` (rendered and kept) or
``skip`` (not cacheable), as Discourse's do.
"""
import functools
import mmap
import os
import secrets
import struct
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode

from flask import Flask, Response, current_app, request

from forum.api.auth import current_actor
from forum.api.params import params
from forum.services import events

CACHED_HEADER = "X-Discourse-Cached"
SITE = "site"
TOPIC_LISTS = "lists"
# What every topic list shows: any topic may enter or leave one, so any topic change stales them all.
LIST_DEPENDENCIES = (SITE, TOPIC_LISTS)


def _topic(topic_id: int) -> str:
    return f"topic:{topic_id}"


def topic_dependencies(topic_id: int, **_view_args) -> tuple[str, ...]:
    """What a topic's page shows, whichever post it opens at."""
    return SITE, _topic(topic_id)


class VersionsUnavailable(Exception):
    """The shared versions cannot be read now: the page is rendered, not served from or kept in the cache."""


class Versions(Protocol):
    def read(self, names: tuple[str, ...]) -> tuple: ...

    def replace(self, names: tuple[str, ...]) -> None: ...


class SharedMemoryVersions:
    """Versions in a file every process of this machine maps: a read is a memory access, no system call.

    Names share SLOTS slots by a stable hash (crc32, the same in every process); two names in one slot only
    make each other's pages render again sooner. An aligned 8-byte store is one machine write, and a value
    read half-written would differ from every stored one, so neither side needs a lock.
    """

    SLOTS = 1 << 16
    _SLOT = struct.Struct("<Q")

    def __init__(self, path: Path):
        size = self.SLOTS * self._SLOT.size
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(descriptor).st_size < size:
                os.ftruncate(descriptor, size)  # the first process to open it; the same size if two race
            self._map = mmap.mmap(descriptor, size)
        finally:
            os.close(descriptor)

    def _offset(self, name: str) -> int:
        return zlib.crc32(name.encode()) % self.SLOTS * self._SLOT.size

    def read(self, names: tuple[str, ...]) -> tuple[int, ...]:
        return tuple(self._SLOT.unpack_from(self._map, self._offset(name))[0] for name in names)

    def replace(self, names: tuple[str, ...]) -> None:
        for name in names:
            self._SLOT.pack_into(self._map, self._offset(name), secrets.randbits(64))


class RedisVersions:
    """Versions as Redis keys under ``prefix``: one MGET per request. A key that expired (or was lost) gets a
    new random value, which stales the pages stored with the old one, so expiry only costs a render."""

    KEY_SECONDS = 3600
    # A Redis that is slow or gone costs one page this long at most; then reads leave it alone for RETRY_SECONDS,
    # pages being rendered meanwhile, so an outage does not add the timeout to every page.
    TIMEOUT_SECONDS = 0.5
    RETRY_SECONDS = 5.0

    def __init__(self, url: str, prefix: str):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=self.TIMEOUT_SECONDS, socket_connect_timeout=self.TIMEOUT_SECONDS)
        self._errors = redis.RedisError
        self._prefix = prefix
        self._unavailable_until = 0.0  # time.monotonic(); a plain float, so threads need no lock

    def read(self, names: tuple[str, ...]) -> tuple[bytes, ...]:
        if time.monotonic() < self._unavailable_until:
            raise VersionsUnavailable("Redis failed moments ago; not asked again yet")
        keys = [self._prefix + name for name in names]
        try:
            values = self._redis.mget(keys)
            if None in values:
                with self._redis.pipeline(transaction=False) as pipe:
                    for key, value in zip(keys, values):
                        if value is None:
                            pipe.set(key, secrets.token_hex(8), nx=True, ex=self.KEY_SECONDS)
                    pipe.mget(keys)
                    values = pipe.execute()[-1]
        except self._errors as error:
            self._unavailable_until = time.monotonic() + self.RETRY_SECONDS
            raise VersionsUnavailable from error
        return tuple(values)

    def replace(self, names: tuple[str, ...]) -> None:
        # Always tried, even while reads leave Redis alone: a change it missed would leave stale pages served.
        with self._redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.set(self._prefix + name, secrets.token_hex(8), ex=self.KEY_SECONDS)
            pipe.execute()


@dataclass(frozen=True)
class Page:
    body: bytes
    versions: tuple
    expires_at: float  # time.monotonic()


class Pages:
    """This process's pages, the least recently used dropped first once they weigh more than ``max_bytes``."""

    def __init__(self, max_bytes: int):
        self._max_bytes = max_bytes
        self._bytes = 0
        self._pages: OrderedDict[str, Page] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: str, page: Page) -> None:
        with self._lock:
            previous = self._pages.pop(key, None)
            if previous is not None:
                self._bytes -= len(previous.body)
            self._pages[key] = page
            self._bytes += len(page.body)
            while self._bytes > self._max_bytes:
                _, dropped = self._pages.popitem(last=False)
                self._bytes -= len(dropped.body)


class AnonymousCache:
    def __init__(self, versions: Versions, pages: Pages, seconds: float):
        self.versions = versions
        self._pages = pages
        self._seconds = seconds

    def serve(self, view_key: str, depends_on: tuple[str, ...], reads: tuple[str, ...], render: Callable[[], dict]) -> Response | dict:
        """The answer to this request: kept, or ``render()``ed (and kept when the visitor is anonymous). Pages are
        kept by ``view_key`` (the view and its arguments) and the parameters it reads."""
        if current_actor() is not None:
            return _marked(current_app.json.response(render()), "skip")
        key = f"{view_key}?{urlencode(read_params(reads))}"
        # Read before rendering: a change that commits meanwhile replaces these, so what it staled is not served.
        try:
            versions = self.versions.read(depends_on)
        except VersionsUnavailable:
            current_app.logger.warning("page cache versions unavailable; rendering", exc_info=True)
            return _marked(current_app.json.response(render()), "skip")
        page = self._pages.get(key)
        if page is not None and page.versions == versions and page.expires_at > time.monotonic():
            return _marked(Response(page.body, mimetype=current_app.json.mimetype), "true")
        response = current_app.json.response(render())
        self._pages.put(key, Page(response.get_data(), versions, time.monotonic() + self._seconds))
        return _marked(response, "store")


def _marked(response: Response, state: str) -> Response:
    response.headers[CACHED_HEADER] = state
    return response


def read_params(names: tuple[str, ...]) -> list[tuple[str, str]]:
    """The values a view reads for ``names`` (the first of each, from the query string or the body, as
    ``params()`` gives them), in the order of ``names``: what its page is kept by."""
    if not names:
        return []  # nothing to read, so a body the view ignores (JSON that is no object, say) is no error
    values = params()
    return [(name, value) for name in names if (value := values.string(name)) is not None]


def cached(depends_on: tuple[str, ...] | Callable[..., tuple[str, ...]], reads: tuple[str, ...] = ()):
    """A view whose anonymous answers are kept: ``depends_on`` names what its page shows (or gives the names
    from the view's arguments), ``reads`` the request parameters it reads. Without a cache (PAGE_CACHE_ENABLED
    off) the view just runs."""

    def decorator(view: Callable[..., dict]) -> Callable[..., Response | dict]:
        @functools.wraps(view)
        def cached_view(*args, **kwargs) -> Response | dict:
            cache: AnonymousCache | None = current_app.extensions.get("anonymous_cache")
            if cache is None:
                return view(*args, **kwargs)
            names = depends_on(*args, **kwargs) if callable(depends_on) else depends_on
            # By the view's arguments, not the path: /t/{id}.json, /t/{id} and /t/{any-slug}/{id} are one page.
            view_key = f"{view.__module__}.{view.__qualname__}{args!r}{sorted(kwargs.items())!r}"
            return cache.serve(view_key, names, reads, lambda: view(*args, **kwargs))

        return cached_view

    return decorator


def init_app(app: Flask) -> None:
    if not app.config["PAGE_CACHE_ENABLED"]:
        return
    if app.config["REDIS_URL"]:
        versions: Versions = RedisVersions(app.config["REDIS_URL"], app.config["PAGE_CACHE_KEY_PREFIX"])
    else:
        versions = SharedMemoryVersions(Path(app.instance_path) / "anonymous-cache-versions")
    pages = Pages(app.config["PAGE_CACHE_MAX_BYTES"])
    app.extensions["anonymous_cache"] = AnonymousCache(versions, pages, app.config["PAGE_CACHE_SECONDS"])


def _replace(names: tuple[str, ...]) -> None:
    cache: AnonymousCache | None = current_app.extensions.get("anonymous_cache")
    if cache is not None:
        cache.versions.replace(names)


# The events are sent after commit, in whichever process made the change (a web worker, a Celery worker).
@events.topic_changed.connect
def _on_topic_changed(topic_id: int, **_) -> None:
    _replace((_topic(topic_id), TOPIC_LISTS))


@events.site_changed.connect
def _on_site_changed(_sender, **__) -> None:
    _replace((SITE,))
