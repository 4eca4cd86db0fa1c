"""Authentication for API requests: API key headers, or the session cookie with a CSRF token on writes."""
import hmac
import secrets

from flask import current_app, request, session
from flask_login import current_user

from forum.extensions import login_manager
from forum.models import User
from forum.services import authentication, sessions
from forum.services.errors import NotAllowed, NotLoggedIn

SESSION_TOKEN = "auth_token"
CSRF_TOKEN = "csrf_token"
# The account this browser signed up, or tried to sign in to before its activation: the one it may ask to be mailed
# its activation link again (Discourse's SessionController::ACTIVATE_USER_KEY).
ACTIVATING_USER = "activating_user_id"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@login_manager.request_loader
def _load_user(req) -> User | None:
    key = req.headers.get("Api-Key")
    if key:
        return authentication.user_for_api_key(key, req.headers.get("Api-Username"))
    token = session.get(SESSION_TOKEN)
    return sessions.user_for_token(token) if token else None


def current_actor() -> User | None:
    """The signed-in user, or None for an anonymous visitor. The user itself, not Flask-Login's proxy: services and
    serialisers read the viewer's attributes many times a request (a 20-post topic view about 300), and each read
    through the proxy looks the user up in the request context again."""
    return current_user._get_current_object() if current_user.is_authenticated else None


def require_actor() -> User:
    actor = current_actor()
    if actor is None:
        raise NotLoggedIn()
    return actor


def csrf_token() -> str:
    if CSRF_TOKEN not in session:
        session[CSRF_TOKEN] = secrets.token_urlsafe(32)
    return session[CSRF_TOKEN]


_CSRF_EXEMPT: set = set()


def csrf_exempt(view):
    """A view whose writes act on no session's behalf: a key in the request, which the view checks, names what they
    change (a mail's one-click unsubscribe comes from the mail provider, with no session and no token)."""
    _CSRF_EXEMPT.add(view)
    return view


def check_csrf() -> None:
    """Writes not made with an API key must send back the session's CSRF token, as Discourse requires. A write that
    sends the header is an API request only if the key is good: checked here, not left to the view, which may never
    ask who the caller is (a sign-in, a sign-up) and so would run without either check."""
    if request.method in SAFE_METHODS or request.routing_exception:
        return  # (an unknown path or method is reported as such, not as a CSRF failure)
    if current_app.view_functions.get(request.endpoint) in _CSRF_EXEMPT:
        return
    if request.headers.get("Api-Key"):
        if current_actor() is None:  # a bad key raises in the loader; None: Flask-Login answered from a cookie
            raise NotAllowed(authentication.INVALID_KEY)
        return
    # A browser's form cannot send headers: it sends the token as Rails' authenticity_token field.
    sent = request.headers.get("X-CSRF-Token") or request.form.get("authenticity_token", "")
    expected = session.get(CSRF_TOKEN)
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise NotAllowed("BAD CSRF")


def sign_in_from_link(user: User) -> None:
    """A mailed link (a reset, an activation) proved the account is this browser's: sign it in, if it may sign in."""
    if user.is_active:
        start_session(sessions.open_session(user, client_ip=request.remote_addr, user_agent=request.user_agent.string))


def start_session(token: str) -> None:
    session.clear()  # a fresh session at sign-in: nothing from before carries over
    session[SESSION_TOKEN] = token
    csrf_token()


def end_session() -> None:
    token = session.get(SESSION_TOKEN)
    if token:
        sessions.sign_out(token)
    session.clear()
