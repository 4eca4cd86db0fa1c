"""review queue, tactics, summaries, bot opt-out

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-22 04:44:50.724906

The two new columns of posts and users are added and dropped in place (SQLite 3.35+ has DROP COLUMN),
never by a batch table copy, which would lose the search triggers on posts (see 0003).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


# The bots' own users: what they do is attributed to them (kept on downgrade, like "system" in 0004).
BOT_USERS = (("tactics-bot", "Tactics bot"), ("summary-bot", "Summary bot"))


def upgrade():
    op.create_table('tactic_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=80), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('decisions_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tactic_models')),
    sa.UniqueConstraint('version', name=op.f('uq_tactic_models_version'))
    )
    op.create_table('tactic_profiles',
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('examples', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_tactic_profiles_tag_id_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tag_id', name=op.f('pk_tactic_profiles'))
    )
    op.create_table('topic_summaries',
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('algorithm', sa.String(length=80), nullable=False),
    sa.Column('key_points', sa.JSON(), nullable=False),
    sa.Column('summarized_text', sa.Text(), nullable=False),
    sa.Column('highest_post_number', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_topic_summaries_topic_id_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('topic_id', name=op.f('pk_topic_summaries'))
    )
    with op.batch_alter_table('topic_summaries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_summaries_updated_at'), ['updated_at'], unique=False)

    op.create_table('reviewables',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=80), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('status BETWEEN 0 AND 4', name=op.f('ck_reviewables_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_reviewables_created_by_id_users')),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_reviewables_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_reviewables_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_reviewables_tag_id_tags'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_reviewables_topic_id_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviewables')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_reviewables_dedupe_key'))
    )
    with op.batch_alter_table('reviewables', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviewables_post_id'), ['post_id'], unique=False)
        batch_op.create_index('ix_reviewables_status_created_at', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_reviewables_status_score', ['status', 'score'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviewables_tag_id'), ['tag_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviewables_topic_id'), ['topic_id'], unique=False)

    op.create_table('reviewable_histories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reviewable_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('status_before', sa.Integer(), nullable=True),
    sa.Column('status_after', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reviewable_id'], ['reviewables.id'], name=op.f('fk_reviewable_histories_reviewable_id_reviewables'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reviewable_histories_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviewable_histories'))
    )
    with op.batch_alter_table('reviewable_histories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviewable_histories_reviewable_id'), ['reviewable_id'], unique=False)

    op.create_table('reviewable_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reviewable_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('post_action_type_id', sa.Integer(), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reviewable_id'], ['reviewables.id'], name=op.f('fk_reviewable_scores_reviewable_id_reviewables'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reviewable_scores_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviewable_scores'))
    )
    with op.batch_alter_table('reviewable_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviewable_scores_reviewable_id'), ['reviewable_id'], unique=False)

    op.add_column('posts', sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True))

    op.add_column('users', sa.Column('bot_opt_out', sa.Boolean(), server_default=sa.false(), nullable=False))
    for username, name in BOT_USERS:
        op.execute(sa.text(
            "INSERT INTO users (username, username_lower, name, role, active, is_bot, created_at) "
            "SELECT :username, :username, :name, 'member', true, true, CURRENT_TIMESTAMP "
            "WHERE NOT EXISTS (SELECT 1 FROM users WHERE username_lower = :username)"
        ).bindparams(username=username, name=name))


def downgrade():
    op.drop_column('users', 'bot_opt_out')

    op.drop_column('posts', 'hidden_at')

    with op.batch_alter_table('reviewable_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviewable_scores_reviewable_id'))

    op.drop_table('reviewable_scores')
    with op.batch_alter_table('reviewable_histories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviewable_histories_reviewable_id'))

    op.drop_table('reviewable_histories')
    with op.batch_alter_table('reviewables', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviewables_topic_id'))
        batch_op.drop_index(batch_op.f('ix_reviewables_tag_id'))
        batch_op.drop_index('ix_reviewables_status_score')
        batch_op.drop_index('ix_reviewables_status_created_at')
        batch_op.drop_index(batch_op.f('ix_reviewables_post_id'))

    op.drop_table('reviewables')
    with op.batch_alter_table('topic_summaries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_summaries_updated_at'))

    op.drop_table('topic_summaries')
    op.drop_table('tactic_profiles')
    op.drop_table('tactic_models')
