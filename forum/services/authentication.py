"""Who a request acts as, from Discourse's Api-Key + Api-Username headers."""
from forum.models import User
from forum.services import users
from forum.services.errors import NotAllowed

INVALID_KEY = "You are not permitted to view the requested resource. The API username or key is invalid."


def user_for_api_key(key: str, username: str | None) -> User:
    """The user a key acts as: a user key only as its own user, an all-users key as anyone named."""
    api_key = users.find_api_key(key)
    if api_key is None:
        raise NotAllowed(INVALID_KEY)
    if api_key.is_all_users:
        user = users.find_by_username(username) if username else None
    else:
        user = api_key.user
        if username and username.lower() != user.username_lower:
            user = None
    if user is None or not user.is_active:
        raise NotAllowed(INVALID_KEY)
    return user
