"""activation by email: email tokens for activating a new account, and users.deactivated_at

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 22:10:00

A member who signs up activates the account from a link mailed to its address (Discourse's default), unless the forum
has staff activate every account. An account staff deactivated is not activated by such a link: deactivated_at says so.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

BEFORE = "purpose IN ('password_reset', 'email_change')"
AFTER = "purpose IN ('password_reset', 'email_change', 'activation')"


def _email_tokens(purposes: str) -> sa.Table:
    """The table as SQLite's batch mode recreates it (it cannot alter a CHECK constraint in place)."""
    return sa.Table(
        'email_tokens', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=20), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(purposes, name='ck_email_tokens_purpose'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_email_tokens_user_id_users', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_email_tokens'),
        sa.UniqueConstraint('token_hash', name='uq_email_tokens_token_hash'),
        sa.Index('ix_email_tokens_user_id', 'user_id'),
    )


def _replace_purposes(old: str, new: str) -> None:
    with op.batch_alter_table('email_tokens', copy_from=_email_tokens(old)) as batch:
        batch.drop_constraint(op.f('ck_email_tokens_purpose'), type_='check')
        batch.create_check_constraint(op.f('ck_email_tokens_purpose'), new)


# An account staff deactivated before this revision: inactive, and its last activation or deactivation on record is a
# deactivation. It gets that time, so that no mailed link activates it (an account waiting for staff since it signed up
# has neither on record and may now be activated by mail, unless FORUM_SIGNUP_ACTIVATION=staff).
LAST_DEACTIVATION = """
UPDATE users SET deactivated_at = (
    SELECT max(created_at) FROM audit_log
    WHERE subject_type = 'user' AND subject_id = users.id AND action = 'user.deactivate')
WHERE active = false AND (
    SELECT action FROM audit_log
    WHERE subject_type = 'user' AND subject_id = users.id AND action IN ('user.activate', 'user.deactivate')
    ORDER BY id DESC LIMIT 1) = 'user.deactivate'
"""


def upgrade():
    op.add_column('users', sa.Column('deactivated_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(LAST_DEACTIVATION)
    _replace_purposes(BEFORE, AFTER)


def downgrade():
    op.execute("DELETE FROM email_tokens WHERE purpose = 'activation'")
    _replace_purposes(AFTER, BEFORE)
    op.drop_column('users', 'deactivated_at')
