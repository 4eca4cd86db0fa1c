"""topics.highest_assigned_post_number hands out post numbers; highest_post_number counts live posts only

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 13:10:00

Until this revision highest_post_number was both the counter and what lists and read tracking count to, so a deleted
or whispered last post stayed in members' unread counts, and the topic kept naming the deleted post's author as its
last poster. The counter moves to its own column (the highest number ever given); highest_post_number, last_posted_at
and last_post_user_id are recomputed from the live posts, as deletions and recoveries now keep them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

WHISPER = 4
REPLY_TYPES = "(1, 2)"  # regular posts and moderator actions: what moves a topic's last post


def upgrade():
    op.add_column('topics', sa.Column('highest_assigned_post_number', sa.Integer(), nullable=False, server_default='0'))
    op.execute(
        "UPDATE topics SET highest_assigned_post_number = COALESCE("
        "(SELECT max(post_number) FROM posts WHERE posts.topic_id = topics.id), 0)"
    )
    op.execute(
        "UPDATE topics SET "
        f"highest_post_number = COALESCE((SELECT max(post_number) FROM posts WHERE posts.topic_id = topics.id "
        f"AND posts.deleted_at IS NULL AND posts.post_type <> {WHISPER}), 0), "
        f"last_posted_at = COALESCE((SELECT created_at FROM posts WHERE posts.topic_id = topics.id AND posts.deleted_at IS NULL "
        f"AND posts.post_type IN {REPLY_TYPES} ORDER BY post_number DESC LIMIT 1), last_posted_at), "
        f"last_post_user_id = COALESCE((SELECT user_id FROM posts WHERE posts.topic_id = topics.id AND posts.deleted_at IS NULL "
        f"AND posts.post_type IN {REPLY_TYPES} ORDER BY post_number DESC LIMIT 1), last_post_user_id)"
    )


def downgrade():
    op.execute("UPDATE topics SET highest_post_number = highest_assigned_post_number")
    # Not in a batch: on SQLite that copies the table, which the search index's triggers on topics refuse.
    op.drop_column('topics', 'highest_assigned_post_number')
