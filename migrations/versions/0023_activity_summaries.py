"""activity summaries: Discourse's digest options on users (email_digests, digest_after_minutes) and
users.digest_attempted_at

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 00:45:00

A member away from the forum is mailed a summary of what they missed, weekly by default, as Discourse's digest is.
Members stored before are opted in, as new ones are: Discourse's default.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('email_digests', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('users', sa.Column('digest_after_minutes', sa.Integer(), server_default='10080', nullable=False))
    op.add_column('users', sa.Column('digest_attempted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # Not in a batch: on SQLite that copies the table, and nothing here needs it.
    op.drop_column('users', 'digest_attempted_at')
    op.drop_column('users', 'digest_after_minutes')
    op.drop_column('users', 'email_digests')
