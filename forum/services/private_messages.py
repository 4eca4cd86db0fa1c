"""Private messages (Discourse's archetype private_message): a topic among its author and the members it is sent to,
which only they (and admins, as in Discourse) may open. It has no category and no tags; no public list, count or search
shows it (guardian.listed_topics), and no bot reads it (tactic suggestions, summaries). A post in it flagged by one of
its people goes before moderators in the review queue, as in Discourse: flagging is asking them to look. Each post in it
tells the others (a private_message notification), and they find it in their own list (topic_lists.private_messages).
"""
from sqlalchemy import delete, select

from forum.database import write_unit
from forum.extensions import db
from forum.models import Archetype, Category, Topic, User, topic_allowed_users
from forum.services import audit, groups, guardian, topics, users
from forum.services.errors import InvalidParameters, ValidationFailed

MAX_RECIPIENTS = 30  # Discourse's max_allowed_message_recipients


def is_message(archetype: str | None, recipients: list[str] | None) -> bool:
    """Whether a new post starts a private message: its archetype says so, or it names recipients (then never a public
    topic: an archetype regular beside them is refused, as is any other archetype)."""
    if archetype not in (None, *Archetype):
        raise InvalidParameters(f"archetype must be {Archetype.REGULAR} or {Archetype.PRIVATE_MESSAGE}.")
    if recipients is not None and archetype == Archetype.REGULAR:
        raise InvalidParameters("target_recipients are for private messages, not regular topics.")
    return archetype == Archetype.PRIVATE_MESSAGE or recipients is not None


def ensure_reply_keeps_audience(topic: Topic, archetype: str | None, recipients: list[str] | None) -> None:
    """A reply goes to its topic's readers: one sent as private (an archetype private_message, or recipients) to a
    regular topic is refused, not published."""
    if not topic.is_private_message and is_message(archetype, recipients):
        raise InvalidParameters("This topic is not a private message: a private reply to it would be public.")


def send_message(author: User | None, *, title: str | None, raw: str | None, recipients: list[str],
                 category: Category | None = None, tag_names: tuple[str, ...] = ()) -> Topic:
    """A new private message from ``author`` to ``recipients`` (usernames, whatever their case). A category or tags
    sent with it are refused, not dropped."""
    guardian.ensure_can_create_topic(author)
    return topics.create_topic(author, title=title, raw=raw, category=category, tag_names=tag_names,
                               private_to=_recipients(author, recipients))


def _recipients(author: User, names: list[str]) -> list[User]:
    """The members ``names`` name, as the author may look them up (an account waiting for activation is unknown to a
    member, as on profiles)."""
    wanted = {name.strip().lower() for name in names if name.strip()} - {author.username_lower}
    if not wanted:
        raise ValidationFailed("A private message needs at least one recipient other than you.")
    if len(wanted) > MAX_RECIPIENTS:
        raise ValidationFailed(f"A private message may have at most {MAX_RECIPIENTS} recipients.")
    found = [user for user in db.session.scalars(select(User).where(User.username_lower.in_(wanted)))
             if users.may_look_up(author, user)]
    if unknown := sorted(wanted - {user.username_lower for user in found}):
        if named_groups := sorted(set(groups.find_by_names(unknown)) | (set(unknown) & groups.RESERVED_NAMES)):
            # Discourse sends a message to a group too; here a group inbox is not built (its members are private).
            raise ValidationFailed(f"{', '.join(named_groups)}: messages go to members by their usernames, not to groups.")
        raise ValidationFailed(f"There is no user named {', '.join(unknown)}.")
    for user in found:
        guardian.ensure_can_be_written_to(author, user)
    return found


def remove_person(actor: User | None, topic_id: int, username: str) -> None:
    """Take ``username`` out of a private message (Discourse's remove-allowed-user): they may no longer open it, and
    are told nothing more of it. What they wrote in it stays."""
    topic = topics.get_visible_topic(actor, topic_id)
    if not topic.is_private_message:
        raise ValidationFailed("Only a private message has people to take out of it.")
    person = users.get_listed_user(actor, username)
    guardian.ensure_can_remove_from_message(actor, topic, person)
    with write_unit(db.session):
        removed = db.session.execute(delete(topic_allowed_users).where(
            topic_allowed_users.c.topic_id == topic.id, topic_allowed_users.c.user_id == person.id)).rowcount
        if not removed:
            raise ValidationFailed(f"{person.username} is not among the people of this message.")
        audit.record(actor, "topic.remove_allowed_user", topic, after={"user_id": person.id})
