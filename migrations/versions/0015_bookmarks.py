"""bookmarks: members bookmark posts and topics (Discourse's polymorphic bookmarks)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 19:45:00

Practitioners collect the posts they will cite in a tactical notebook; Discourse's clients do it with bookmarks.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'bookmarks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('bookmarkable_type', sa.String(length=10), nullable=False),
        sa.Column('bookmarkable_id', sa.Integer(), nullable=False),
        sa.Column('topic_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=True),
        sa.Column('reminder_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("bookmarkable_type IN ('Post', 'Topic')", name=op.f('ck_bookmarks_bookmarkable_type')),
        sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_bookmarks_topic_id_topics'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_bookmarks_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bookmarks')),
        sa.UniqueConstraint('user_id', 'bookmarkable_type', 'bookmarkable_id',
                            name=op.f('uq_bookmarks_user_id_bookmarkable_type_bookmarkable_id')),
    )
    op.create_index(op.f('ix_bookmarks_topic_id'), 'bookmarks', ['topic_id'])


def downgrade():
    op.drop_index(op.f('ix_bookmarks_topic_id'), table_name='bookmarks')
    op.drop_table('bookmarks')
