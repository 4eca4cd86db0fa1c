"""Private messages (Discourse's archetype private_message): a topic among its author and the members it is sent to,
which only they (and admins, as in Discourse) may open. It has no category and no tags; no public list, count or search
shows it (guardian.listed_topics), and no bot reads it (tactic suggestions, summaries). A post in it flagged by one of
its people goes before moderators in the review queue, as in Discourse: flagging is asking them to look. Each post in it
tells the others (a private_message notification), and they find it in their own list (topic_lists.private_messages).
"""
from sqlalchemy import select

from forum.extensions import db
from forum.models import Category, Topic, User
from forum.services import guardian, topics
from forum.services.errors import ValidationFailed

MAX_RECIPIENTS = 30  # Discourse's max_allowed_message_recipients


def send_message(author: User | None, *, title: str | None, raw: str | None, recipients: str | None,
                 category: Category | None = None, tag_names: tuple[str, ...] = ()) -> Topic:
    """A new private message from ``author`` to ``recipients`` (Discourse's target_recipients: usernames, comma
    separated, whatever their case). A category or tags sent with it are refused, not dropped."""
    guardian.ensure_can_create_topic(author)
    return topics.create_topic(author, title=title, raw=raw, category=category, tag_names=tag_names,
                               private_to=_recipients(author, recipients))


def _recipients(author: User, names: str | None) -> list[User]:
    wanted = {name.strip().lower() for name in (names or "").split(",") if name.strip()} - {author.username_lower}
    if not wanted:
        raise ValidationFailed("A private message needs at least one recipient other than you.")
    if len(wanted) > MAX_RECIPIENTS:
        raise ValidationFailed(f"A private message may have at most {MAX_RECIPIENTS} recipients.")
    found = list(db.session.scalars(select(User).where(User.username_lower.in_(wanted))))
    if unknown := sorted(wanted - {user.username_lower for user in found}):
        raise ValidationFailed(f"There is no user named {', '.join(unknown)}.")
    for user in found:
        guardian.ensure_can_send_message_to(author, user)
    return found
