"""Discourse's user actions (GET /user_actions.json): what a member wrote and liked, newest first.

Derived from the posts and likes themselves rather than kept in a table of their own, so they can never disagree:
a new topic (4) is a member's first post of a topic, a reply (5) a regular post after it, a like (1) one they gave,
and "was liked" (2) one a post of theirs received. Only live posts the viewer sees (whispers for staff; a hidden post
for staff and its author), in topics the viewer may list, are shown. A page costs the same few queries however many
actions it holds: the page, its posts with their topics, and the people named.
"""
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from sqlalchemy import Select, literal, select, union_all
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import Post, PostAction, PostActionType, PostType, Topic, User
from forum.services import guardian, posts, users
from forum.services.errors import InvalidParameters

# Discourse's UserActionsController's page.
PAGE_SIZE = 30


class ActionType(IntEnum):
    LIKE = 1
    WAS_LIKED = 2
    NEW_TOPIC = 4
    REPLY = 5


@dataclass(frozen=True)
class UserAction:
    action_type: ActionType
    created_at: datetime
    post: Post
    author: User  # the post's
    owner: User  # whose actions these are (Discourse's target user)
    acting: User  # who did it: the owner, or for "was liked" the member who liked


def parse_filter(text: str | None) -> set[int]:
    """Discourse's ``filter``: action types separated by commas; none means all. Types this forum does not keep
    (bookmarks, mentions, ...) are valid and find nothing."""
    if not text:
        return set(ActionType)
    try:
        return {int(part) for part in text.split(",") if part.strip()}
    except ValueError:
        raise InvalidParameters("filter must be action types (numbers) separated by commas.") from None


def _rows(kind: ActionType, created_at, acting_user_id) -> Select:
    """One action type's rows, named alike so that the types' queries make one union."""
    return select(literal(int(kind)).label("action_type"), created_at.label("created_at"), Post.id.label("post_id"),
                  acting_user_id.label("acting_user_id"))


def user_actions(viewer: User | None, username: str, action_types: set[int], offset: int = 0) -> list[UserAction]:
    owner = users.get_listed_user(viewer, username)
    # Live posts the viewer sees in topics they may list (whispers for staff), and a hidden post only where its text
    # is theirs to read (staff, its author), as Discourse's stream.
    shown = Post.deleted_at.is_(None) & guardian.visible_posts(viewer) & guardian.readable_post_texts(viewer) & guardian.listed_topics(viewer)
    liked = (PostAction.post_id == Post.id) & (PostAction.post_action_type_id == PostActionType.LIKE)
    queries = {
        ActionType.NEW_TOPIC: _rows(ActionType.NEW_TOPIC, Post.created_at, Post.user_id).where(Post.user_id == owner.id, Post.post_number == 1),
        ActionType.REPLY: _rows(ActionType.REPLY, Post.created_at, Post.user_id).where(
            Post.user_id == owner.id, Post.post_number > 1, Post.post_type.in_((PostType.REGULAR, PostType.WHISPER))),
        ActionType.LIKE: _rows(ActionType.LIKE, PostAction.created_at, PostAction.user_id).join(PostAction, liked).where(PostAction.user_id == owner.id),
        ActionType.WAS_LIKED: _rows(ActionType.WAS_LIKED, PostAction.created_at, PostAction.user_id).join(PostAction, liked).where(Post.user_id == owner.id),
    }
    chosen = [query.join(Topic, Topic.id == Post.topic_id).where(shown) for kind, query in queries.items() if kind in action_types]
    if not chosen:
        return []
    page = union_all(*chosen).subquery()
    rows = db.session.execute(
        select(page)
        .order_by(page.c.created_at.desc(), page.c.post_id.desc(), page.c.action_type, page.c.acting_user_id)
        .limit(PAGE_SIZE)
        .offset(offset)
    ).all()
    found = {post.id: post for post in db.session.scalars(
        select(Post).options(joinedload(Post.topic)).where(Post.id.in_({row.post_id for row in rows})))}
    people = posts.users_by_id({row.acting_user_id for row in rows} | {post.user_id for post in found.values()} | {owner.id})
    return [
        UserAction(ActionType(row.action_type), row.created_at, found[row.post_id], people[found[row.post_id].user_id], owner, people[row.acting_user_id])
        for row in rows
    ]
