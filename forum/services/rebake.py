"""Re-rendering stored posts with the current Markdown renderer and sanitiser."""
from sqlalchemy import select

from forum.content import cook
from forum.database import write_unit
from forum.extensions import db
from forum.models import Post, PostType
from forum.services import events


def rebake_post(post_id: int) -> bool:
    """Re-cook one post; True when its HTML changed. A post that no longer exists is skipped (soft-deleted
    ones are re-cooked too: staff still read them)."""
    with write_unit(db.session):
        post = db.session.get(Post, post_id)
        if post is None or post.post_type == PostType.SMALL_ACTION:
            return False
        cooked = cook(post.raw)
        if cooked == post.cooked:
            return False
        post.cooked = cooked
        events.publish_topic_changed(post.topic_id)
        return True


def post_ids_to_rebake() -> list[int]:
    return list(db.session.scalars(select(Post.id).where(Post.post_type != PostType.SMALL_ACTION).order_by(Post.id)))
