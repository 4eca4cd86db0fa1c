"""users.silenced_at, silenced_till, silence_reason: staff silence a member for a while

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 20:00:00

Discourse's PUT /admin/users/{id}/silence: a member who keeps posting what breaks the forum's rules still reads and
signs in, but posts and edits nothing until the date staff set.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('silenced_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('silenced_till', sa.DateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('silence_reason', sa.String(length=300), nullable=True))


def downgrade():
    op.drop_column('users', 'silence_reason')
    op.drop_column('users', 'silenced_till')
    op.drop_column('users', 'silenced_at')
