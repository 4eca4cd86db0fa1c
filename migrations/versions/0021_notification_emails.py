"""notification emails: users.email_level (Discourse's), notifications.emailed_at

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 22:35:00

A member away from the forum is mailed the notifications they have not read (a mention, a reply to them, a post in a
topic they watch), as Discourse does by default; each is mailed once.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('email_level', sa.Integer(), server_default='1', nullable=False))
    op.add_column('notifications', sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('notifications', 'emailed_at')
    op.drop_column('users', 'email_level')
