"""posts.locked_at: staff lock a post so that only staff may edit it

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 19:40:00

Discourse's PUT /posts/{id}/locked: a moderator who corrected a post (a name taken out, a link removed) keeps its
author from putting it back.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('posts', sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('posts', 'locked_at')
