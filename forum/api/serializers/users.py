"""Users as Discourse shows them."""
from forum.models import User

# Discourse's trust levels drive many of its features; this forum has roles instead, so staff show
# as level 4 (leader) and members as level 1 (basic), which is what Discourse clients expect of them.
STAFF_TRUST_LEVEL = 4
MEMBER_TRUST_LEVEL = 1


def avatar_template(user: User) -> str:
    # The forum serves no avatars; Discourse's letter-avatar path gives clients a well-formed template.
    return f"/letter_avatar_proxy/v4/letter/{user.username[0].lower()}/8c91f0/{{size}}.png"


def trust_level(user: User) -> int:
    return STAFF_TRUST_LEVEL if user.is_staff else MEMBER_TRUST_LEVEL


def basic_user(user: User) -> dict:
    return {"id": user.id, "username": user.username, "name": user.name, "avatar_template": avatar_template(user)}


def current_user(user: User) -> dict:
    """The signed-in user, as GET /session/current.json and the login answer show it."""
    return {
        **basic_user(user),
        "admin": user.is_admin,
        "moderator": user.role == "moderator",
        "staff": user.is_staff,
        "trust_level": trust_level(user),
    }
