"""posts.reply_count counts live replies only

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 07:15:00

Until this revision a deleted reply still counted on the post it answers; deletion and recovery now move the
count, and this recounts what is stored.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "UPDATE posts SET reply_count = (SELECT count(*) FROM posts AS replies WHERE replies.topic_id = posts.topic_id "
        "AND replies.reply_to_post_number = posts.post_number AND replies.deleted_at IS NULL)"
    )


def downgrade():
    op.execute(
        "UPDATE posts SET reply_count = (SELECT count(*) FROM posts AS replies WHERE replies.topic_id = posts.topic_id "
        "AND replies.reply_to_post_number = posts.post_number)"
    )
