"""private messages: topics.archetype (Discourse's) and topic_allowed_users, the people a message is among

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08 00:30:00

Every topic stored before is a regular one. The column is added without a table copy: on SQLite a copy of topics
would need the search index's triggers dropped and made again (migration 0003), and the service checks the values.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('topics', sa.Column('archetype', sa.String(length=20), server_default='regular', nullable=False))
    op.create_table(
        'topic_allowed_users',
        sa.Column('topic_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_topic_allowed_users_topic_id_topics'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_topic_allowed_users_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('topic_id', 'user_id', name=op.f('pk_topic_allowed_users')),
    )
    op.create_index(op.f('ix_topic_allowed_users_user_id'), 'topic_allowed_users', ['user_id'], unique=False)


def downgrade():
    # Without the column a message would be a topic anyone may read, and dropping it would lose what people wrote.
    messages = op.get_bind().execute(sa.text("SELECT count(*) FROM topics WHERE archetype = 'private_message'")).scalar()
    if messages:
        raise RuntimeError(f"{messages} private messages are stored: this revision cannot be undone without exposing or "
                           "losing them")
    op.drop_index(op.f('ix_topic_allowed_users_user_id'), table_name='topic_allowed_users')
    op.drop_table('topic_allowed_users')
    op.drop_column('topics', 'archetype')
