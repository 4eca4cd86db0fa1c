"""topic_users: how closely each user follows a topic (Discourse's notification levels)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 15:10:00

Until this revision every topic a member had opened counted in their /unread, as if they tracked them all. Discourse
counts only the topics a member tracks or watches: the ones they started (watching), replied to (tracking), read for
long enough (tracking) or chose to follow. This adds the level and why it was set, and gives the rows already stored
the levels those rules would have given them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

REGULAR, TRACKING, WATCHING = 1, 2, 3
CREATED_TOPIC, CREATED_POST = 1, 4
REGULAR_POST = 1
# forum.services.reading.AUTO_TRACK_AFTER_MSECS when this revision was written.
AUTO_TRACK_AFTER_MSECS = 240_000


def upgrade():
    op.add_column('topic_users', sa.Column('notification_level', sa.Integer(), nullable=False, server_default=str(REGULAR)))
    op.add_column('topic_users', sa.Column('notifications_reason_id', sa.Integer(), nullable=True))
    op.execute(
        f"UPDATE topic_users SET notification_level = {TRACKING} WHERE total_msecs_viewed >= {AUTO_TRACK_AFTER_MSECS}"
    )
    op.execute(
        f"UPDATE topic_users SET notification_level = {TRACKING}, notifications_reason_id = {CREATED_POST} WHERE EXISTS "
        f"(SELECT 1 FROM posts WHERE posts.topic_id = topic_users.topic_id AND posts.user_id = topic_users.user_id "
        f"AND posts.post_type = {REGULAR_POST} AND posts.post_number > 1)"
    )
    op.execute(
        f"UPDATE topic_users SET notification_level = {WATCHING}, notifications_reason_id = {CREATED_TOPIC} WHERE EXISTS "
        "(SELECT 1 FROM topics WHERE topics.id = topic_users.topic_id AND topics.user_id = topic_users.user_id)"
    )


def downgrade():
    with op.batch_alter_table('topic_users') as batch:
        batch.drop_column('notifications_reason_id')
        batch.drop_column('notification_level')
