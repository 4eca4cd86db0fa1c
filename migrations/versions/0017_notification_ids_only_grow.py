"""notifications: ids only grow on SQLite too (AUTOINCREMENT)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 20:05:00

A member has seen "every notification up to this id" (users.seen_notification_id). SQLite, without AUTOINCREMENT, gives
the id of a deleted last row to the next row, so a like that renews its notification (deleted, then added anew) came
back with the id already seen, and did not count as unread. PostgreSQL's sequences never hand an id out twice: nothing
changes there.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('notifications', recreate='always', table_kwargs={'sqlite_autoincrement': True}):
            pass


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('notifications', recreate='always', table_kwargs={'sqlite_autoincrement': False}):
            pass
