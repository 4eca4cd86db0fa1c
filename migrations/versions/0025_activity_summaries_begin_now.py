"""activity summaries begin at this upgrade for the members stored before it

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08 01:00:00

Until the requests of a session counted as being there (the change that came with activity summaries), a member's
last_seen_at moved only when they signed in, so most members stored before look away for weeks: without this, the first
run after the upgrade would mail nearly all of them at once. Each is counted as summarised now: their first summary
comes a span later, and tells of that span.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

from forum.models.base import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    users = sa.table('users', sa.column('digest_attempted_at', UTCDateTime()))
    op.execute(users.update().where(users.c.digest_attempted_at.is_(None)).values(digest_attempted_at=datetime.now(timezone.utc)))


def downgrade():
    pass  # the times recorded are true ones: nothing to undo
