"""Discourse's response shapes, one module per shape family; each field is defined in one place."""
import html
from datetime import datetime

from forum.models import User


def fancy_title(title: str) -> str:
    """Discourse's fancy_title: the title, HTML-escaped."""
    return html.escape(title)


def iso(value: datetime | None) -> str | None:
    """Discourse's timestamp format: UTC, milliseconds, 'Z'."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def avatar_template(user: User) -> str:
    # The forum serves no avatars; Discourse's letter-avatar path gives clients a well-formed template.
    return f"/letter_avatar_proxy/v4/letter/{user.username[0].lower()}/8c91f0/{{size}}.png"
