"""bookmark reminders: bookmarks.reminder_sent_at, and notifications of kind 24 (bookmark_reminder) beside a post's own

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 21:50:00

A member who sets a bookmark's reminder is told at that time (Discourse's bookmark_reminder notification). A post still
gives a member one notification of its own (mentioned, replied, liked, posted); a reminder about it comes besides.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

ONE_PER_POST = 'notification_type != 24'


def upgrade():
    op.add_column('bookmarks', sa.Column('reminder_sent_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('notifications', recreate='auto', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.drop_constraint('uq_notifications_user_id_topic_id_post_number', type_='unique')
    op.create_index('uq_notifications_one_per_post', 'notifications', ['user_id', 'topic_id', 'post_number'], unique=True,
                    sqlite_where=sa.text(ONE_PER_POST), postgresql_where=sa.text(ONE_PER_POST))


def downgrade():
    op.execute('DELETE FROM notifications WHERE notification_type = 24')
    op.drop_index('uq_notifications_one_per_post', table_name='notifications')
    with op.batch_alter_table('notifications', recreate='auto', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.create_unique_constraint('uq_notifications_user_id_topic_id_post_number', ['user_id', 'topic_id', 'post_number'])
    op.drop_column('bookmarks', 'reminder_sent_at')
