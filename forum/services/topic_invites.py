"""Inviting someone to a topic (Discourse's POST /t/{id}/invite): a member to a private message, which makes them one of
its people; a member to a regular topic, a notification naming it, if they may read it; someone without an account, by
their address, an invitation to join the forum that points to the topic (invites)."""
from sqlalchemy import insert

from forum.database import ROW_LOCK, write_unit
from forum.extensions import db
from forum.models import Topic, User, topic_allowed_users
from forum.services import guardian, invites, notifications, private_messages, topics, users
from forum.services.errors import InvalidParameters, NotFound, ValidationFailed


def invite_to_join(actor: User | None, topic_id: int, email: str) -> invites.IssuedInvite:
    """Someone without an account, by their address: an invitation to join, mailed, pointed to the topic."""
    request = invites.check_request(actor, custom_message=None, max_redemptions_allowed=None, topic_id=topic_id,
                                    group_ids=[], group_names=[], expires_at=None)
    return invites.invite_by_email(actor, request, email)


def invite(actor: User | None, topic_id: int, username: str | None) -> User:
    """Invite the member ``username`` to the topic; the member invited. Inviting someone a message is already among
    changes nothing."""
    if not username:
        raise InvalidParameters("param is missing or the value is empty: user")
    guardian.ensure_can_create_topic(actor)  # signed in, and not silenced: an invitation is a message of sorts
    topic = topics.get_visible_topic(actor, topic_id)
    try:
        invitee = users.get_listed_user(actor, username)
    except NotFound:
        raise ValidationFailed(f"There is no user named {username}.") from None
    guardian.ensure_can_be_written_to(actor, invitee)
    if topic.is_private_message:  # one who may open it (one of its people, or an admin) may invite others to it
        _add_to_message(actor, topic, invitee)
    else:
        if not guardian.topic_readers(topic, [invitee.id]):
            raise ValidationFailed(f"{invitee.username} may not read this topic.")
        with write_unit(db.session):
            notifications.notify_invited(topic, invitee, actor)
    return invitee


def _add_to_message(actor: User, topic: Topic, invitee: User) -> None:
    with write_unit(db.session):
        db.session.refresh(topic, with_for_update=ROW_LOCK)  # one invitation at a time counts the people
        among = set(db.session.scalars(guardian.people_of(topic)))
        if invitee.id in among:
            return
        if len(among) > private_messages.MAX_RECIPIENTS:  # its author besides
            raise ValidationFailed(f"A private message may have at most {private_messages.MAX_RECIPIENTS} recipients.")
        db.session.execute(insert(topic_allowed_users).values(topic_id=topic.id, user_id=invitee.id))
        notifications.notify_invited(topic, invitee, actor)
