"""topics.like_count counts the likes of live posts that are not whispers

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 16:30:00

Until this revision a deleted post's likes stayed in its topic's count, and a whisper's likes (staff only) showed in
the count everyone sees. Deletion and recovery now move a post's likes out of and back into the topic, as Discourse's
Topic#update_action_counts counts them; this recounts the topics stored before.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

WHISPER = 4


def upgrade():
    op.execute(
        "UPDATE topics SET like_count = COALESCE((SELECT sum(like_count) FROM posts WHERE posts.topic_id = topics.id "
        f"AND posts.deleted_at IS NULL AND posts.post_type <> {WHISPER}), 0)"
    )


def downgrade():
    # The counts before were wrong; what they were is not needed to go back.
    pass
