"""A renamed account's @mentions and quotes in what others wrote (Discourse's UsernameChanger does the same): rewritten
to the new name, so that they keep naming that member, and so that whoever takes the old name later is not named by
them."""
from sqlalchemy import Text, cast, func, or_, select

from forum.content import cook
from forum.content.text import with_username_renamed
from forum.extensions import db
from forum.models import Post, PostRevision, PostType, Reviewable
from forum.models.base import utcnow
from forum.services import events


def rename(old: str, new: str) -> int:
    """Rewrite the @mentions of ``old``, and the quotes naming it, in posts (their Markdown and HTML, deleted ones too),
    in their revisions and in the evidence tactic suggestions quote; returns how many posts changed. Call inside the
    rename's write unit. No revision is made and no one is notified: the posts still say what their authors wrote, of
    the same member. ``updated_at`` moves, so summaries that quoted the old name are made again."""
    def names_old(column):
        lowered = func.lower(column)
        return lowered.contains("@" + old.lower(), autoescape=True) | lowered.contains('[quote="' + old.lower(), autoescape=True)

    changed = 0
    for post in db.session.scalars(select(Post).where(names_old(Post.raw), Post.post_type != PostType.SMALL_ACTION)):
        raw = with_username_renamed(post.raw, old, new)
        if raw != post.raw:
            post.raw, post.cooked, post.updated_at = raw, cook(raw), utcnow()
            events.publish_topic_changed(post.topic_id)
            changed += 1
    for revision in db.session.scalars(select(PostRevision).where(or_(names_old(PostRevision.raw_before), names_old(PostRevision.raw_after)))):
        revision.raw_before = with_username_renamed(revision.raw_before, old, new)
        revision.raw_after = with_username_renamed(revision.raw_after, old, new)
    # The sentences a tactic suggestion quotes as its evidence, copied from the post when it was scored.
    for item in db.session.scalars(select(Reviewable).where(names_old(cast(Reviewable.payload, Text)))):
        if evidence := item.payload.get("evidence"):
            item.payload = {**item.payload, "evidence": [with_username_renamed(sentence, old, new) for sentence in evidence]}
    return changed

