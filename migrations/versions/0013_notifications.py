"""notifications: mentions of a member, replies to their posts, new posts in topics they watch

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 20:00:00

Discourse tells members about the posts that concern them; until this revision nothing did. Posts stored before it
send none: a member is told of what is written from now on.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('notification_type', sa.Integer(), nullable=False),
        sa.Column('topic_id', sa.Integer(), nullable=False),
        sa.Column('post_number', sa.Integer(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('read', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_notifications_topic_id_topics'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
        sa.UniqueConstraint('user_id', 'topic_id', 'post_number', name=op.f('uq_notifications_user_id_topic_id_post_number')),
    )
    op.create_index('ix_notifications_user_id_read', 'notifications', ['user_id', 'read'])
    op.create_index(op.f('ix_notifications_topic_id'), 'notifications', ['topic_id'])
    op.add_column('users', sa.Column('seen_notification_id', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    op.drop_index(op.f('ix_notifications_topic_id'), table_name='notifications')
    op.drop_index('ix_notifications_user_id_read', table_name='notifications')
    op.drop_table('notifications')
    op.drop_column('users', 'seen_notification_id')
