"""A member's choice that no bot reads their posts.

Opting out takes effect at once for what bots already made of them: their pending tactic suggestions are
withdrawn and the summaries of topics they posted in are dropped (made again later without their posts).
Decided suggestions stay: a moderator's decision is the forum's record, not the bot's reading.
"""
from sqlalchemy import delete, select

from forum.database import ROW_LOCK, write_unit
from forum.extensions import db
from forum.models import Post, Reviewable, ReviewableStatus, ReviewableType, TopicSummary, User
from forum.services import audit, bots, events, guardian, users
from forum.services.errors import NotFound
from forum.services.review import withdraw_pending_items


def get_preference(actor: User | None, username: str) -> User:
    user = _user(username)
    guardian.ensure_can_change_preferences(actor, user)
    return user


def set_bot_opt_out(actor: User | None, username: str, opt_out: bool) -> User:
    user = _user(username)
    guardian.ensure_can_change_preferences(actor, user)
    with write_unit(db.session):
        db.session.refresh(user, with_for_update=ROW_LOCK)
        if user.bot_opt_out == opt_out:
            return user
        user.bot_opt_out = opt_out
        audit.record(actor, "user.bot_opt_out", user, before={"bot_opt_out": not opt_out}, after={"bot_opt_out": opt_out})
        if opt_out:
            their_posts = select(Post.id).where(Post.user_id == user.id)
            pending = db.session.scalars(
                select(Reviewable)
                .where(
                    Reviewable.type == ReviewableType.TACTIC_TAG,
                    Reviewable.status == ReviewableStatus.PENDING,
                    Reviewable.post_id.in_(their_posts),
                )
                .order_by(Reviewable.id)
                .with_for_update()
            )
            withdraw_pending_items(list(pending), bots.bot_user(bots.TACTICS_BOT_USERNAME), reason="The author opted out of bots.")
            topic_ids = list(db.session.scalars(select(Post.topic_id).where(Post.user_id == user.id).distinct()))
            db.session.execute(delete(TopicSummary).where(TopicSummary.topic_id.in_(topic_ids)))
            for topic_id in topic_ids:
                events.publish_topic_changed(topic_id)
    return user


def _user(username: str) -> User:
    user = users.find_by_username(username)
    if user is None:
        raise NotFound("That user does not exist.")
    return user
