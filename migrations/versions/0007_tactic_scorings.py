"""tactic scorings: which version of each post the tactics bot last read

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 21:50:00

Posts written before this revision have no row: the backfill reads them, newest first.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tactic_scorings',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('post_version', sa.Integer(), nullable=False),
    sa.Column('model_version', sa.String(length=80), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_tactic_scorings_post_id_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', name=op.f('pk_tactic_scorings'))
    )


def downgrade():
    op.drop_table('tactic_scorings')
