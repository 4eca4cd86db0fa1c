"""Writing the audit log. Every moderator and bot action calls ``record`` inside its own unit of work."""
from typing import Any

from forum.extensions import db
from forum.models import AuditLogEntry, User


def record(
    actor: User | None,
    action: str,
    subject: Any,
    *,
    before: dict | None = None,
    after: dict | None = None,
    context: dict | None = None,
) -> AuditLogEntry:
    entry = AuditLogEntry(
        actor_id=actor.id if actor else None,
        action=action,
        subject_type=type(subject).__name__.lower(),
        subject_id=subject.id,
        before=before,
        after=after,
        context=context,
    )
    db.session.add(entry)
    return entry
