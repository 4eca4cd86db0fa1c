"""Fixtures for API tests: users with API keys, and request headers that act as them."""
import pytest

from forum.models import Role
from forum.services import users


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, "admin")


@pytest.fixture
def auth_headers(app):
    """Headers for a request made as ``user`` with a user API key (None: anonymous)."""
    keys = {}

    def headers(user) -> dict:
        if user is None:
            return {}
        if user.id not in keys:
            keys[user.id] = users.create_api_key(user, created_by=user)[1]
        return {"Api-Key": keys[user.id], "Api-Username": user.username}

    return headers


@pytest.fixture
def live_server(app):
    """The app behind a real HTTP server on a free loopback port, for real clients."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
