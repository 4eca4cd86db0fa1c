"""timers and the system user

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 02:31:01.802647

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


SYSTEM_USERNAME = "system"


def upgrade():
    op.create_table('dialogue_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('windows', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_dialogue_schedules_topic_id_topics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_dialogue_schedules_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dialogue_schedules'))
    )
    with op.batch_alter_table('dialogue_schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dialogue_schedules_topic_id'), ['topic_id'], unique=False)

    op.create_table('topic_timers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status_type', sa.String(length=20), nullable=False),
    sa.Column('execute_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('based_on_last_post', sa.Boolean(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=True),
    sa.Column('schedule_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'claimed', 'fired', 'skipped', 'cancelled')", name=op.f('ck_topic_timers_state')),
    sa.CheckConstraint("status_type IN ('close', 'open', 'silent_close', 'delete')", name=op.f('ck_topic_timers_status_type')),
    sa.ForeignKeyConstraint(['schedule_id'], ['dialogue_schedules.id'], name=op.f('fk_topic_timers_schedule_id_dialogue_schedules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_topic_timers_topic_id_topics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_topic_timers_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_topic_timers'))
    )
    with op.batch_alter_table('topic_timers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_timers_schedule_id'), ['schedule_id'], unique=False)
        batch_op.create_index('ix_topic_timers_state_execute_at', ['state', 'execute_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_topic_timers_topic_id'), ['topic_id'], unique=False)


    # The system user: timers and other automatic actions are attributed to it, as in Discourse.
    # Kept on downgrade (posts may be attributed to it), so added only where it is missing.
    op.execute(sa.text(
        "INSERT INTO users (username, username_lower, name, role, active, is_bot, created_at) "
        "SELECT :name, :name, 'System', 'admin', true, true, CURRENT_TIMESTAMP "
        "WHERE NOT EXISTS (SELECT 1 FROM users WHERE username_lower = :name)"
    ).bindparams(name=SYSTEM_USERNAME))

def downgrade():
    with op.batch_alter_table('topic_timers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_timers_topic_id'))
        batch_op.drop_index('ix_topic_timers_state_execute_at')
        batch_op.drop_index(batch_op.f('ix_topic_timers_schedule_id'))

    op.drop_table('topic_timers')
    with op.batch_alter_table('dialogue_schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dialogue_schedules_topic_id'))

    op.drop_table('dialogue_schedules')
