"""The forum's own users: automatic actions are attributed to them (the migrations create them)."""
from forum.models import User
from forum.services import users

SYSTEM_USERNAME = "system"
TACTICS_BOT_USERNAME = "tactics-bot"


def bot_user(username: str) -> User:
    user = users.find_by_username(username)
    if user is None or not user.is_bot:
        raise RuntimeError(f"the {username} user is missing: run `flask db upgrade`")
    return user


def system_user() -> User:
    return bot_user(SYSTEM_USERNAME)
