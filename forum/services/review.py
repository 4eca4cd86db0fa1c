"""The review queue (Discourse's Reviewable): the tactics bot's suggestions and members' flags, each an item
a moderator approves, rejects or ignores, one at a time or in bulk, and can reopen to undo.

Rules kept here and nowhere else:
- an item's ``version`` grows with every change; acting on an older version is refused (409) and changes
  nothing, so two moderators (or a moderator and the bot) never overwrite each other unseen;
- every change of an item is a history row (who, when, what, from which status to which, why) and
  every moderator decision an audit record;
- approving a tactic tags the post and its topic; reopening the item takes back exactly what approving did;
- enough flags hide a post until a moderator decides.
"""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from bots.tactics import Suggestion
from forum.database import ROW_LOCK, write_unit
from forum.extensions import db
from forum.models import (
    Post,
    PostAction,
    Reviewable,
    ReviewableHistory,
    ReviewableScore,
    ReviewableStatus,
    ReviewableType,
    Tag,
    Topic,
    User,
)
from forum.models.base import utcnow
from forum.models.post_actions import FLAG_TYPES
from forum.services import audit, bots, events, guardian
from forum.services.errors import Conflict, InvalidParameters, NotAllowed, NotFound, ServiceError

REOPEN = "reopen"
# What each action does to a pending item, by type.
TRANSITIONS: dict[str, dict[str, ReviewableStatus]] = {
    ReviewableType.TACTIC_TAG: {
        "approve_tag": ReviewableStatus.APPROVED,
        "reject_tag": ReviewableStatus.REJECTED,
        "ignore": ReviewableStatus.IGNORED,
    },
    ReviewableType.FLAGGED_POST: {
        "agree_and_hide": ReviewableStatus.APPROVED,
        "disagree": ReviewableStatus.REJECTED,
        "ignore": ReviewableStatus.IGNORED,
    },
}
DECIDED = (ReviewableStatus.APPROVED, ReviewableStatus.REJECTED, ReviewableStatus.IGNORED)
STATUS_NAMES = {status.name.lower(): status for status in ReviewableStatus}
MAX_BULK_ITEMS = 100
MAX_REASON_LENGTH = 500
PAGE_SIZE = 50
SORT_ORDERS = ("score", "score_asc", "created_at", "created_at_asc")


def available_actions(actor: User | None, item: Reviewable) -> list[str]:
    """What ``actor`` may do with ``item`` now: clients show these and need no rules of their own."""
    if not guardian.allows(guardian.ensure_can_review, actor):
        return []
    if item.post.is_deleted or item.post.topic.is_deleted:
        # A deleted post is nobody's example and needs no verdict: its suggestions are withdrawn, its flags settled by
        # the deletion (settle_items_of_deleted), and decisions are kept as they are.
        return []
    if item.type == ReviewableType.TACTIC_TAG and item.post.user.bot_opt_out:
        # The author opted out of bots: decisions stay as moderators left them, but none is reopened into a pending
        # suggestion about their post (the opt-out withdrew those).
        return []
    if item.status == ReviewableStatus.PENDING:
        return list(TRANSITIONS[item.type])
    if item.status in DECIDED:
        return [REOPEN]
    return []


# Filing: the bot's suggestions.


def file_tactic_suggestions(post: Post, suggestions: Iterable[Suggestion], tags: Mapping[str, Tag]) -> list[Reviewable]:
    """Make the post's tactic items say what the bot suggests now: new suggestions become pending items,
    pending items follow the new score and evidence, and pending items the bot no longer supports are
    withdrawn. Decided items stay as the moderator left them. The caller has locked the post and found it may
    still be scored (``tactics.suggest_for_post``), so that a post deleted meanwhile gets nothing filed."""
    bot = bots.bot_user(bots.TACTICS_BOT_USERNAME)
    with write_unit(db.session):
        existing = _tactic_items(post.id)
        filed = []
        for suggestion in suggestions:
            tag = tags[suggestion.tactic]
            payload = {
                "tactic": tag.name,
                "score": round(suggestion.score, 4),
                "evidence": list(suggestion.evidence),
                "model_version": suggestion.model_version,
            }
            item = existing.pop(tag.id, None)
            if item is None:
                item = _new_item(ReviewableType.TACTIC_TAG, f"tactic:{post.id}:{tag.id}", post, bot, tag_id=tag.id, score=payload["score"], payload=payload)
            elif item.status == ReviewableStatus.PENDING and item.payload != payload:
                item.payload, item.score = payload, payload["score"]
                _record(item, bot, "updated", item.status)
            elif item.status == ReviewableStatus.DELETED:
                item.payload, item.score = payload, payload["score"]
                _transition(item, bot, "suggested_again", ReviewableStatus.PENDING)
            filed.append(item)
        withdraw_pending_items(list(existing.values()), bot, reason="The bot no longer suggests this tactic for the post as it reads now.")
    return filed


def withdraw_tactic_suggestions(post_id: int, *, reason: str) -> None:
    """Withdraw the post's pending tactic items (the post is gone, or its author opted out of bots)."""
    with write_unit(db.session):
        withdraw_pending_items(list(_tactic_items(post_id).values()), bots.bot_user(bots.TACTICS_BOT_USERNAME), reason=reason)


def settle_items_of_deleted(deleted_by_id: int, *, reason: str, post_id: int | None = None, topic_id: int | None = None) -> None:
    """The pending items of a deleted post (or of every post of a deleted topic): tactic suggestions are withdrawn, and
    flags are settled by the deletion as Discourse settles them: agreed with when staff deleted it, deferred (ignored)
    when its author did."""
    with write_unit(db.session):
        items = db.session.scalars(
            select(Reviewable)
            .where(Reviewable.status == ReviewableStatus.PENDING, Reviewable.post_id == post_id if topic_id is None else Reviewable.topic_id == topic_id)
            .order_by(Reviewable.id)
            .with_for_update()
        ).all()
        withdraw_pending_items([item for item in items if item.type == ReviewableType.TACTIC_TAG], bots.bot_user(bots.TACTICS_BOT_USERNAME), reason=reason)
        deleted_by = db.session.get(User, deleted_by_id)
        for item in items:
            if item.type == ReviewableType.FLAGGED_POST:
                agreed = deleted_by.is_staff
                _transition(item, deleted_by, "agreed_by_deletion" if agreed else "deferred_by_deletion",
                            ReviewableStatus.APPROVED if agreed else ReviewableStatus.IGNORED, reason=reason)
                item.reviewed_by_id, item.reviewed_at = deleted_by.id, utcnow()


def withdraw_pending_items(items: list[Reviewable], bot: User, *, reason: str) -> None:
    """Withdraw those of ``items`` still pending (call inside a write unit, with the items locked)."""
    for item in items:
        if item.status == ReviewableStatus.PENDING:
            _transition(item, bot, "withdrawn", ReviewableStatus.DELETED, reason=reason)


def _tactic_items(post_id: int) -> dict[int, Reviewable]:
    items = db.session.scalars(
        select(Reviewable)
        .where(Reviewable.type == ReviewableType.TACTIC_TAG, Reviewable.post_id == post_id)
        .order_by(Reviewable.id)  # many rows locked: always in the same order
        .with_for_update()
    )
    return {item.tag_id: item for item in items}


# Filing: flags.

FLAG_NAMES = {flag: flag.name.lower() for flag in FLAG_TYPES}
STAFF_FLAG_SCORE = 2.0  # Discourse weighs flags by the flagger's standing; here staff count double
MEMBER_FLAG_SCORE = 1.0


def flag_post(actor: User | None, post: Post, post_action_type_id: int, *, message: str | None = None) -> Reviewable:
    """A member flags a post: the flag joins the post's flagged-post item (opened again if it was decided),
    and the post is hidden once the pending flags weigh enough."""
    guardian.ensure_can_flag(actor, post)
    if post_action_type_id not in FLAG_NAMES:
        raise InvalidParameters("That is not a flag type.")
    if message is not None and len(message) > MAX_REASON_LENGTH:
        raise InvalidParameters(f"The message is too long (maximum is {MAX_REASON_LENGTH} characters).")
    with write_unit(db.session):
        db.session.refresh(post, with_for_update=ROW_LOCK)  # the post's row before its review item, as every path
        guardian.ensure_can_flag(actor, post)  # again on the locked row: flags may have hidden it, or it was deleted
        # One flag per member and post, whatever its type, as Discourse: a member's flags of several types would
        # weigh as several members' and let one member hide a post.
        already = db.session.scalar(
            select(PostAction.id).where(
                PostAction.post_id == post.id, PostAction.user_id == actor.id, PostAction.post_action_type_id.in_(FLAG_TYPES)
            )
        )
        if already is not None:
            raise NotAllowed("You have already flagged this post.")
        db.session.add(PostAction(post_id=post.id, user_id=actor.id, post_action_type_id=post_action_type_id))
        item = db.session.scalar(select(Reviewable).where(Reviewable.dedupe_key == f"flag:{post.id}").with_for_update())
        if item is not None and item.status == ReviewableStatus.PENDING:
            _record(item, actor, "flagged", item.status, reason=message)  # one more flag: a change, in the history
        elif item is None:
            item = _new_item(ReviewableType.FLAGGED_POST, f"flag:{post.id}", post, actor, score=0.0, payload={})
        else:
            item.score = 0.0  # a decided item's old flags were weighed already
            _transition(item, actor, "flagged_again", ReviewableStatus.PENDING)
        weight = STAFF_FLAG_SCORE if actor.is_staff else MEMBER_FLAG_SCORE
        item.scores.append(ReviewableScore(user_id=actor.id, post_action_type_id=post_action_type_id, score=weight, reason=message))
        item.score += weight
        if post.hidden_at is None and item.score >= current_app.config["HIDE_POST_FLAG_SCORE"]:
            post.hidden_at = utcnow()
            audit.record(bots.system_user(), "post.hide", post, context={"reviewable_id": item.id, "flag_score": item.score})
            events.publish_topic_changed(post.topic_id)
    return item


# Reading the queue.


@dataclass(frozen=True)
class ReviewFilters:
    status: str = "pending"
    type: str | None = None
    topic_id: int | None = None
    category_id: int | None = None
    tactic: str | None = None
    min_score: float | None = None
    sort_order: str = "score"
    offset: int = 0


@dataclass(frozen=True)
class ReviewPage:
    items: list[Reviewable]
    total: int
    filters: ReviewFilters


def list_reviewables(actor: User | None, filters: ReviewFilters) -> ReviewPage:
    guardian.ensure_can_review(actor)
    query = _filtered(filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    order = {
        "score": (Reviewable.score.desc(), Reviewable.id.desc()),
        "score_asc": (Reviewable.score.asc(), Reviewable.id.asc()),
        "created_at": (Reviewable.created_at.desc(), Reviewable.id.desc()),
        "created_at_asc": (Reviewable.created_at.asc(), Reviewable.id.asc()),
    }[filters.sort_order]
    items = list(
        db.session.scalars(
            query.options(*_item_loading()).order_by(*order).offset(filters.offset).limit(PAGE_SIZE)
        )
    )
    return ReviewPage(items, total, filters)


def _filtered(filters: ReviewFilters) -> Select:
    if filters.status != "all" and filters.status not in STATUS_NAMES:
        raise InvalidParameters(f"status must be all or one of {', '.join(STATUS_NAMES)}.")
    if filters.type is not None and filters.type not in TRANSITIONS:
        raise InvalidParameters(f"type must be one of {', '.join(TRANSITIONS)}.")
    if filters.sort_order not in SORT_ORDERS:
        raise InvalidParameters(f"sort_order must be one of {', '.join(SORT_ORDERS)}.")
    query = select(Reviewable)
    if filters.status != "all":
        query = query.where(Reviewable.status == STATUS_NAMES[filters.status])
    if filters.type is not None:
        query = query.where(Reviewable.type == filters.type)
    if filters.topic_id is not None:
        query = query.where(Reviewable.topic_id == filters.topic_id)
    if filters.category_id is not None:
        query = query.where(Reviewable.topic_id.in_(select(Topic.id).where(Topic.category_id == filters.category_id)))
    if filters.tactic is not None:
        query = query.where(Reviewable.tag_id.in_(select(Tag.id).where(Tag.name == filters.tactic.strip().lower())))
    if filters.min_score is not None:
        query = query.where(Reviewable.score >= filters.min_score)
    return query


def _item_loading():
    """What serialising an item reads, loaded in batches: a page costs the same queries whatever its size."""
    return (
        selectinload(Reviewable.post).selectinload(Post.user),
        selectinload(Reviewable.post).selectinload(Post.topic),
        selectinload(Reviewable.tag),
        selectinload(Reviewable.created_by),
        selectinload(Reviewable.scores).selectinload(ReviewableScore.user),
        selectinload(Reviewable.history).selectinload(ReviewableHistory.user),
    )


def get_reviewable(actor: User | None, reviewable_id: int) -> Reviewable:
    guardian.ensure_can_review(actor)
    item = db.session.scalar(select(Reviewable).options(*_item_loading()).where(Reviewable.id == reviewable_id))
    if item is None:
        raise NotFound("That review item does not exist.")
    return item


# Deciding.


def perform(actor: User | None, reviewable_id: int, action: str, *, version: int | None, reason: str | None = None) -> Reviewable:
    """Take ``action`` on the item as it was at ``version``: all of it happens, or (with a clear error) none."""
    guardian.ensure_can_review(actor)
    if version is None:
        raise InvalidParameters("version is required: send the version of the item you decided on.")
    if reason is not None and len(reason) > MAX_REASON_LENGTH:
        raise InvalidParameters(f"The reason is too long (maximum is {MAX_REASON_LENGTH} characters).")
    with write_unit(db.session):
        # The post's row before the item's: the order in which flags and the bot take them.
        found = db.session.execute(select(Reviewable.post_id, Reviewable.type).where(Reviewable.id == reviewable_id)).first()
        if found is None:
            raise NotFound("That review item does not exist.")
        post = db.session.get(Post, found.post_id, with_for_update=ROW_LOCK, populate_existing=True)
        if found.type == ReviewableType.TACTIC_TAG:
            # A tactic's decisions change the topic's tags, which its other posts' decisions change too: the topic's
            # row serialises them (after the post's, as a deletion takes them; before the item's, as a timer does).
            topic = db.session.get(Topic, post.topic_id, with_for_update=ROW_LOCK, populate_existing=True)
            db.session.expire(topic, ["tags"])
            db.session.expire(post, ["tags"])
        item = db.session.get(Reviewable, reviewable_id, with_for_update=True, populate_existing=True)
        if item is None:
            raise NotFound("That review item does not exist.")
        if item.version != version:
            raise Conflict(f"This item has changed since you loaded it (version {version}, now {item.version}); reload it and decide again.")
        if action not in available_actions(actor, item):
            raise NotAllowed(f"{action} is not possible on this item now.")
        if action == REOPEN:
            details = _undo(item)
            _transition(item, actor, REOPEN, ReviewableStatus.PENDING, reason=reason, details=details)
            item.reviewed_by_id, item.reviewed_at = None, None
        else:
            details = _apply(item, action)
            _transition(item, actor, action, TRANSITIONS[item.type][action], reason=reason, details=details)
            item.reviewed_by_id, item.reviewed_at = actor.id, utcnow()
        changed_post = bool(details)
        audit.record(actor, f"reviewable.{action}", item, after={"status": item.status, "version": item.version}, context={"reason": reason} if reason else None)
        if changed_post:  # tags or visibility readers see; a rejection or an ignore changes nothing they see
            events.publish_topic_changed(item.topic_id)
    return item


@dataclass(frozen=True)
class BulkResult:
    id: int
    item: Reviewable | None
    error: ServiceError | None


def perform_bulk(actor: User | None, action: str, versions: Mapping[int, int], *, reason: str | None = None) -> list[BulkResult]:
    """The same action on many items, each on its own: one item's refusal leaves the others done."""
    guardian.ensure_can_review(actor)
    if not versions:
        raise InvalidParameters("Name at least one item (ids with their versions).")
    if len(versions) > MAX_BULK_ITEMS:
        raise InvalidParameters(f"At most {MAX_BULK_ITEMS} items per request.")
    results = []
    for reviewable_id, version in versions.items():
        try:
            results.append(BulkResult(reviewable_id, perform(actor, reviewable_id, action, version=version, reason=reason), None))
        except ServiceError as error:
            results.append(BulkResult(reviewable_id, None, error))
    return results


def _apply(item: Reviewable, action: str) -> dict:
    """The decision's effect on the post (locked by ``perform``); returns what undoing it needs to know (empty: no effect)."""
    post = db.session.get(Post, item.post_id)
    if action == "approve_tag":
        tag = item.tag
        if tag not in post.tags:
            post.tags.append(tag)
        topic = post.topic
        topic_tag_added = tag not in topic.tags
        if topic_tag_added:
            topic.tags.append(tag)
        return {"topic_tag_added": topic_tag_added}
    if action == "agree_and_hide" and post.hidden_at is None:
        post.hidden_at = utcnow()
        return {"hid_post": True}
    if action == "disagree" and post.hidden_at is not None:
        post.hidden_at = None
        return {"unhid_post": True}
    return {}


def _undo(item: Reviewable) -> dict:
    """Take back what the item's last decision did to the post and topic; returns what it took back (empty: nothing)."""
    decision = next((entry for entry in reversed(item.history) if entry.action in TRANSITIONS[item.type]), None)
    if decision is None or not decision.details:
        return {}
    post = db.session.get(Post, item.post_id)
    if decision.action == "approve_tag":
        tag = item.tag
        if tag in post.tags:
            post.tags.remove(tag)
        if tag in post.topic.tags and _topic_tag_is_the_approvals_own(item):
            post.topic.tags.remove(tag)
            return {"post_tag_removed": True, "topic_tag_removed": True}
        return {"post_tag_removed": True}
    if decision.details.get("hid_post"):
        post.hidden_at = None
        return {"unhid_post": True}
    if decision.details.get("unhid_post"):
        post.hidden_at = utcnow()
        return {"hid_post": True}
    return {}


def approved_tag_names(topic_id: int) -> set[str]:
    """The tactics a standing approval on one of the topic's posts supports, whoever first put them on the topic: they
    come off by reopening the approvals."""
    return set(db.session.scalars(
        select(Tag.name)
        .join(Reviewable, Reviewable.tag_id == Tag.id)
        .where(Reviewable.topic_id == topic_id, Reviewable.type == ReviewableType.TACTIC_TAG,
               Reviewable.status == ReviewableStatus.APPROVED)
    ))


def _topic_tag_is_the_approvals_own(item: Reviewable) -> bool:
    """Whether reopening ``item`` leaves its tactic on the topic with nothing to stand on: no other approval of it in
    the topic stands, and the last decision that changed the topic's tag added it (it was not the author's). The
    decision that added it may be another item's, reopened while this one stood. The topic's row is locked
    (``perform``), so no other decision on its tags runs meanwhile."""
    items = db.session.scalars(
        select(Reviewable)
        .options(selectinload(Reviewable.history))
        .where(Reviewable.topic_id == item.topic_id, Reviewable.tag_id == item.tag_id, Reviewable.type == ReviewableType.TACTIC_TAG)
    ).all()
    if any(other.id != item.id and other.status == ReviewableStatus.APPROVED for other in items):
        return False
    changes = [
        entry
        for other in items
        for entry in other.history
        if (entry.action == "approve_tag" and entry.details.get("topic_tag_added")) or (entry.action == REOPEN and entry.details.get("topic_tag_removed"))
    ]
    last = max(changes, key=lambda entry: (entry.created_at, entry.id), default=None)
    return last is not None and last.action == "approve_tag"


def _new_item(kind: ReviewableType, dedupe_key: str, post: Post, creator: User, *, score: float, payload: dict, tag_id: int | None = None) -> Reviewable:
    item = Reviewable(
        type=kind,
        status=ReviewableStatus.PENDING,
        dedupe_key=dedupe_key,
        post_id=post.id,
        topic_id=post.topic_id,
        tag_id=tag_id,
        created_by_id=creator.id,
        score=score,
        payload=payload,
    )
    db.session.add(item)
    _record(item, creator, "created", None)
    return item


def _transition(
    item: Reviewable, user: User, action: str, status: ReviewableStatus, *, reason: str | None = None, details: dict | None = None
) -> None:
    before = item.status
    item.status = status
    _record(item, user, action, before, reason=reason, details=details)


def _record(item: Reviewable, user: User, action: str, status_before: int | None, *, reason: str | None = None, details: dict | None = None) -> None:
    if item.id is not None:
        _bump(item)
    item.history.append(
        ReviewableHistory(
            action=action,
            status_before=status_before,
            status_after=item.status,
            user_id=user.id,
            reason=reason,
            details=details or {},
            created_at=utcnow(),
        )
    )


def _bump(item: Reviewable) -> None:
    item.version = (item.version or 1) + 1
    item.updated_at = utcnow()


def posts_with_pending_suggestions(limit: int) -> list[int]:
    """Posts whose tactic suggestions wait for a moderator, most recent first: a new model reads them again."""
    return list(
        db.session.scalars(
            select(Reviewable.post_id)
            .where(Reviewable.type == ReviewableType.TACTIC_TAG, Reviewable.status == ReviewableStatus.PENDING)
            .group_by(Reviewable.post_id)
            .order_by(func.max(Reviewable.id).desc())
            .limit(limit)
        )
    )


def pending_count() -> int:
    return db.session.scalar(select(func.count()).where(Reviewable.status == ReviewableStatus.PENDING))
