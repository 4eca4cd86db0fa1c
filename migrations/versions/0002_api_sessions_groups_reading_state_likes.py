"""api: sessions, groups, reading state, likes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 02:14:46.673305

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    # New NOT NULL columns on existing tables get a server default, so rows already there stay valid.
    op.create_table('groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('full_name', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groups')),
    sa.UniqueConstraint('name', name=op.f('uq_groups_name'))
    )
    op.create_table('category_groups',
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_category_groups_category_id_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_category_groups_group_id_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('category_id', 'group_id', name=op.f('pk_category_groups'))
    )
    op.create_table('group_users',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_group_users_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_group_users_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_group_users'))
    )
    with op.batch_alter_table('group_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_users_user_id'), ['user_id'], unique=False)

    op.create_table('user_auth_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('client_ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_auth_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_auth_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_auth_tokens_token_hash'))
    )
    with op.batch_alter_table('user_auth_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_auth_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('topic_users',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('last_read_post_number', sa.Integer(), nullable=False),
    sa.Column('total_msecs_viewed', sa.Integer(), nullable=False),
    sa.Column('first_visited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_visited_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_topic_users_topic_id_topics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_topic_users_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'topic_id', name=op.f('pk_topic_users'))
    )
    with op.batch_alter_table('topic_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_users_topic_id'), ['topic_id'], unique=False)

    op.create_table('post_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('post_action_type_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_actions_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_post_actions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_actions')),
    sa.UniqueConstraint('post_id', 'user_id', 'post_action_type_id', name=op.f('uq_post_actions_post_id_user_id_post_action_type_id'))
    )
    with op.batch_alter_table('post_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_post_actions_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('read_restricted', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('like_count', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('like_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('views', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_seen_at')

    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.drop_column('views')
        batch_op.drop_column('like_count')

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('like_count')

    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_column('read_restricted')

    with op.batch_alter_table('post_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_actions_user_id'))

    op.drop_table('post_actions')
    with op.batch_alter_table('topic_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_users_topic_id'))

    op.drop_table('topic_users')
    with op.batch_alter_table('user_auth_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_auth_tokens_user_id'))

    op.drop_table('user_auth_tokens')
    with op.batch_alter_table('group_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_users_user_id'))

    op.drop_table('group_users')
    op.drop_table('category_groups')
    op.drop_table('groups')
