"""The forum's own users: automatic actions are attributed to them (the migrations create them)."""
from forum.models import User
from forum.services import users

SYSTEM_USERNAME = "system"


def system_user() -> User:
    user = users.find_by_username(SYSTEM_USERNAME)
    if user is None or not user.is_bot:
        raise RuntimeError("the system user is missing: run `flask db upgrade`")
    return user
