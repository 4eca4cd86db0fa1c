"""Discourse's invite, as POST /invites.json answers it."""
from forum.api.serializers import iso
from forum.models.base import utcnow
from forum.services.invites import IssuedInvite


def invite(issued: IssuedInvite) -> dict:
    made = issued.invite
    return {
        "id": made.id,
        "invite_key": issued.key,
        "link": issued.link,
        "description": None,
        "email": made.email or "",  # the schema has no null: a link to share names no address
        "domain": None,
        "emailed": made.emailed,
        "can_delete_invite": True,  # its inviter's, as this answer is
        "custom_message": made.custom_message,
        "created_at": iso(made.created_at),
        "updated_at": iso(made.updated_at),
        "expires_at": iso(made.expires_at),
        "expired": made.expires_at <= utcnow(),
        "grants_admin": False,
        "grants_moderator": False,
        "topics": [{"id": made.topic.id, "title": made.topic.title, "slug": made.topic.slug}] if made.topic else [],
        "groups": [{"id": group.id, "name": group.name} for group in made.groups],
    }
