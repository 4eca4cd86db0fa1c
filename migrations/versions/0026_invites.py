"""invites: invitations to join the forum (Discourse's), the groups they put new members in, and who joined by each

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-08 01:20:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'invites',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('email_token_hash', sa.String(length=64), nullable=True),
        sa.Column('custom_message', sa.String(length=1000), nullable=True),
        sa.Column('max_redemptions_allowed', sa.Integer(), nullable=False),
        sa.Column('invited_by_id', sa.Integer(), nullable=False),
        sa.Column('topic_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_invites_invited_by_id_users'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_invites_topic_id_topics'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invites')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_invites_key_hash')),
    )
    op.create_index(op.f('ix_invites_email'), 'invites', ['email'], unique=False)
    op.create_index(op.f('ix_invites_invited_by_id'), 'invites', ['invited_by_id'], unique=False)
    op.create_table(
        'invite_groups',
        sa.Column('invite_id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_invite_groups_group_id_groups'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['invite_id'], ['invites.id'], name=op.f('fk_invite_groups_invite_id_invites'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('invite_id', 'group_id', name=op.f('pk_invite_groups')),
    )
    op.create_table(
        'invited_users',
        sa.Column('invite_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['invite_id'], ['invites.id'], name=op.f('fk_invited_users_invite_id_invites'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_invited_users_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('invite_id', 'user_id', name=op.f('pk_invited_users')),
        sa.UniqueConstraint('user_id', name=op.f('uq_invited_users_user_id')),
    )


def downgrade():
    op.drop_table('invited_users')
    op.drop_table('invite_groups')
    op.drop_index(op.f('ix_invites_invited_by_id'), table_name='invites')
    op.drop_index(op.f('ix_invites_email'), table_name='invites')
    op.drop_table('invites')
