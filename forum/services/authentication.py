"""Who a request acts as: Discourse's Api-Key + Api-Username headers, or a sign-in with a password."""
from forum.models import User
from forum.services import sessions, users
from forum.services.errors import NotAllowed

INVALID_KEY = "You are not permitted to view the requested resource. The API username or key is invalid."
INCORRECT_LOGIN = "Incorrect username, email or password"
NOT_ACTIVE = "Your account is suspended or not activated yet."


class NotActivated(NotAllowed):
    """The right password for an account that waits for its activation (not one staff deactivated)."""

    def __init__(self, user: User):
        super().__init__(NOT_ACTIVE)
        self.user_id, self.email = user.id, user.email


def user_for_api_key(key: str, username: str | None) -> User:
    """The user a key acts as: a user key only as its own user, an all-users key as anyone named."""
    api_key, user = users.find_api_key(key, username)
    if api_key is None:
        raise NotAllowed(INVALID_KEY)
    if not api_key.is_all_users and username and username.lower() != user.username_lower:
        user = None
    if user is None or not user.is_active:
        raise NotAllowed(INVALID_KEY)
    return user


def sign_in(login: str, password: str, *, client_ip: str | None, user_agent: str | None) -> tuple[User, str]:
    """Check the credentials (``login`` is a username or an email address, in any case) and open a
    session; returns the user and the session token."""
    user = users.authenticate(login, password)
    if user is None:
        raise NotAllowed(INCORRECT_LOGIN)
    if not user.active and user.deactivated_at is None:
        raise NotActivated(user)
    if not user.is_active:
        raise NotAllowed(NOT_ACTIVE)
    return user, sessions.open_session(user, client_ip=client_ip, user_agent=user_agent)
