"""Tactics: the tags of the "Tactics" tag group, with the description and example phrases the bot learns
from, and the fitted model it scores posts with.

The group is created from ``forum/seeds/tactics.toml`` the first time it is needed; from then on admins
add, rename and retire tactics through the tag-group API, and the bot picks them up at its next refit
without a code change.
"""
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from bots import tactics as tactics_model
from forum.content.text import plain_text
from forum.database import ROW_LOCK, upsert_insert, write_unit
from forum.extensions import db
from forum.models import (
    Archetype,
    Post,
    PostType,
    Reviewable,
    ReviewableStatus,
    ReviewableType,
    Tag,
    TacticModel,
    TacticProfile,
    TacticScoring,
    TagGroup,
    Topic,
    User,
)
from forum.models.base import utcnow
from forum.services import audit, events, guardian, review
from forum.services.errors import NotFound, ValidationFailed
from forum.services.tags import TACTICS_GROUP_NAME, find_or_create_tags, normalize_tag_name

SEED_FILE = Path(__file__).resolve().parent.parent / "seeds" / "tactics.toml"
MAX_EXAMPLES = 50
MAX_EXAMPLE_LENGTH = 500
MAX_DESCRIPTION_LENGTH = 2000
# The decisions a fit learns from, the most recent: enough for a new tactic's curve, and a fit in seconds.
MAX_DECISIONS = 400


def tactics_group() -> TagGroup:
    """The "Tactics" tag group, created with the seed tactics if it does not exist yet."""
    group = db.session.scalar(select(TagGroup).where(TagGroup.name == TACTICS_GROUP_NAME))
    if group is not None:
        return group
    seeds = tomllib.loads(SEED_FILE.read_text())["tactics"]
    with write_unit(db.session):
        group = db.session.scalar(select(TagGroup).where(TagGroup.name == TACTICS_GROUP_NAME).with_for_update())
        if group is not None:
            return group
        group = TagGroup(name=TACTICS_GROUP_NAME, tags=find_or_create_tags(seed["name"] for seed in seeds))
        db.session.add(group)
        by_name = {tag.name: tag for tag in group.tags}
        profiled = set(db.session.scalars(select(TacticProfile.tag_id).where(TacticProfile.tag_id.in_([t.id for t in group.tags if t.id]))))
        for seed in seeds:
            tag = by_name[normalize_tag_name(seed["name"])]
            # A tag that was a tactic before (a database from before the group's name was kept) keeps what admins wrote.
            tag.description = tag.description or seed["description"]
            if tag.id not in profiled:
                db.session.add(TacticProfile(tag=tag, examples=list(seed["examples"])))
        events.publish_site_changed()
    return group


def tactic_tags() -> list[Tag]:
    """The current tactics' tags, by name."""
    group = tactics_group()
    return list(
        db.session.scalars(
            select(Tag).where(Tag.groups.any(TagGroup.id == group.id)).order_by(Tag.name)
        )
    )


def current_tactics() -> list[tactics_model.Tactic]:
    """The tactics as the bot sees them: name, description, example phrases."""
    tags = tactic_tags()
    profiles = {
        profile.tag_id: profile
        for profile in db.session.scalars(select(TacticProfile).where(TacticProfile.tag_id.in_([tag.id for tag in tags])))
    }
    return [
        tactics_model.Tactic(
            name=tag.name,
            description=tag.description or "",
            examples=tuple(profiles[tag.id].examples) if tag.id in profiles else (),
        )
        for tag in tags
    ]


def get_tactic_tag(name: str) -> Tag:
    wanted = normalize_tag_name(name)
    for tag in tactic_tags():
        if tag.name == wanted:
            return tag
    raise NotFound(f"{name} is not a tactic.")


def update_tactic(actor: User | None, name: str, *, description: str | None, examples: list[str] | None) -> Tag:
    """Set a tactic's description and/or example phrases (what the bot knows of it before any decisions)."""
    guardian.ensure_admin(actor)
    tag = get_tactic_tag(name)
    errors = []
    if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
        errors.append(f"The description is too long (maximum is {MAX_DESCRIPTION_LENGTH} characters).")
    if examples is not None:
        examples = [example.strip() for example in examples if example.strip()]
        if len(examples) > MAX_EXAMPLES:
            errors.append(f"A tactic takes at most {MAX_EXAMPLES} examples.")
        if any(len(example) > MAX_EXAMPLE_LENGTH for example in examples):
            errors.append(f"An example is too long (maximum is {MAX_EXAMPLE_LENGTH} characters).")
    if errors:
        raise ValidationFailed(*errors)
    with write_unit(db.session):
        profile = db.session.get(TacticProfile, tag.id) or TacticProfile(tag_id=tag.id, examples=[])
        db.session.add(profile)
        before = {"description": tag.description, "examples": list(profile.examples)}
        if description is not None:
            tag.description = description.strip()
        if examples is not None:
            profile.examples = examples
        profile.updated_at = utcnow()
        audit.record(actor, "tactic.update", tag, before=before, after={"description": tag.description, "examples": profile.examples})
        events.publish_tag_group_changed(tactics_group().id)
    return tag


def tactic_examples(tags: list[Tag]) -> dict[int, list[str]]:
    rows = db.session.scalars(select(TacticProfile).where(TacticProfile.tag_id.in_([tag.id for tag in tags])))
    return {profile.tag_id: list(profile.examples) for profile in rows}


# What the bot reads of a post.


def post_text(post: Post, *, reply_to: Post | None, title: str) -> tactics_model.PostText:
    """A post as the model reads it; the post it replies to is context only if its author allows bots."""
    context = ""
    if reply_to is not None and not reply_to.user.bot_opt_out and not reply_to.is_deleted:
        context = plain_text(reply_to.cooked)
    return tactics_model.PostText(text=plain_text(post.cooked, without_quotes=True), reply_to_text=context, title=title)


def _may_score(post: Post) -> bool:
    return (
        not post.is_deleted
        and post.post_type == PostType.REGULAR
        and not (post.user.bot_opt_out or post.user.is_bot)
        and not post.topic.is_deleted
        and not post.topic.is_private_message  # its suggestions would show moderators what was written to a few
    )


def scorable_post(post_id: int) -> tuple[Post, tactics_model.PostText] | None:
    """The post and its text, or None when the bot must not score it (gone, not a regular post, author
    opted out of bots, a bot's own post, in a private message)."""
    post = db.session.get(Post, post_id, options=[selectinload(Post.user), selectinload(Post.topic)])
    if post is None or not _may_score(post):
        return None
    reply_to = None
    if post.reply_to_post_number is not None:
        reply_to = db.session.scalar(
            select(Post)
            .options(selectinload(Post.user))
            .where(Post.topic_id == post.topic_id, Post.post_number == post.reply_to_post_number)
        )
    return post, post_text(post, reply_to=reply_to, title=post.topic.title)


def _scorable_post_ids() -> Select:
    """``_may_score`` as a query of post ids (each post is checked again when it is scored)."""
    return (
        select(Post.id)
        .join(User, User.id == Post.user_id)
        .join(Topic, Topic.id == Post.topic_id)
        .where(
            Post.post_type == PostType.REGULAR,
            Post.deleted_at.is_(None),
            Topic.deleted_at.is_(None),
            Topic.archetype == Archetype.REGULAR,
            User.bot_opt_out.is_(False),
            User.is_bot.is_(False),
        )
    )


def scorable_post_ids(topic_id: int) -> list[int]:
    """The topic's posts the bot may read, in thread order."""
    return list(db.session.scalars(_scorable_post_ids().where(Post.topic_id == topic_id).order_by(Post.post_number)))


# The model: fitted from the tactics and the moderators' decisions, stored, and reused until refitted.


@dataclass(frozen=True)
class FittedModel:
    model: tactics_model.TacticModel
    decisions_count: int
    is_new: bool  # False when a model of these very inputs was stored already


_loaded: dict[str, tactics_model.TacticModel] = {}  # version -> model, per process: versions never change


def decisions() -> list[tactics_model.Decision]:
    """The latest MAX_DECISIONS approved or rejected tactic suggestions, as training data (posts since opted
    out are left out). Bounded, because a fit takes longer than in proportion to its decisions."""
    rows = db.session.execute(
        select(Reviewable, Tag.name)
        .join(Tag, Tag.id == Reviewable.tag_id)
        .options(selectinload(Reviewable.post).selectinload(Post.user), selectinload(Reviewable.post).selectinload(Post.topic))
        .where(
            Reviewable.type == ReviewableType.TACTIC_TAG,
            Reviewable.status.in_([ReviewableStatus.APPROVED, ReviewableStatus.REJECTED]),
        )
        .order_by(Reviewable.reviewed_at.desc(), Reviewable.id.desc())
        .limit(MAX_DECISIONS)
    ).all()[::-1]  # oldest first: the fit lets a post's last decision win
    replied_to = _replied_to_posts([reviewable.post for reviewable, _ in rows])
    result = []
    for reviewable, tactic in rows:
        post = reviewable.post
        if post.user.bot_opt_out or post.is_deleted:
            continue
        reply_to = replied_to.get((post.topic_id, post.reply_to_post_number))
        result.append(
            tactics_model.Decision(
                post=post_text(post, reply_to=reply_to, title=post.topic.title),
                tactic=tactic,
                approved=reviewable.status == ReviewableStatus.APPROVED,
            )
        )
    return result


def _replied_to_posts(posts: list[Post]) -> dict[tuple[int, int], Post]:
    wanted = {(post.topic_id, post.reply_to_post_number) for post in posts if post.reply_to_post_number is not None}
    if not wanted:
        return {}
    topic_ids = {topic_id for topic_id, _ in wanted}
    numbers = {number for _, number in wanted}
    found = db.session.scalars(
        select(Post)
        .options(selectinload(Post.user))
        .where(Post.topic_id.in_(topic_ids), Post.post_number.in_(numbers))
    )
    return {(post.topic_id, post.post_number): post for post in found if (post.topic_id, post.post_number) in wanted}


def refit_model() -> FittedModel:
    """Fit the model on the current tactics and decisions, and store it if it is new (the version is a
    fingerprint of its inputs, so refitting unchanged inputs stores nothing)."""
    learned_from = decisions()
    model = tactics_model.fit(current_tactics(), learned_from)
    with write_unit(db.session):
        # Another worker may be storing the same model at this moment (a scoring that found its model behind the
        # tactics, beside the refit task): the one that inserts first stores it, the other stores nothing.
        insert = upsert_insert(db.session.get_bind().dialect.name)
        table = TacticModel.__table__
        stored = db.session.execute(
            insert(table)
            .values(version=model.version, parameters=model.to_json(), decisions_count=len(learned_from), created_at=utcnow())
            .on_conflict_do_nothing(index_elements=[table.c.version])
            .returning(table.c.id)
        ).first()
    _loaded[model.version] = model
    return FittedModel(model, len(learned_from), is_new=stored is not None)


def current_model() -> tactics_model.TacticModel:
    """The newest stored model (fitted now if there is none yet)."""
    newest = db.session.execute(select(TacticModel.id, TacticModel.version).order_by(TacticModel.id.desc()).limit(1)).first()
    if newest is None:
        return refit_model().model
    if newest.version not in _loaded:
        parameters = db.session.scalar(select(TacticModel.parameters).where(TacticModel.id == newest.id))
        try:
            _loaded[newest.version] = tactics_model.TacticModel.from_json(parameters)
        except ValueError:  # stored by an earlier algorithm: after an upgrade the first scoring refits
            return refit_model().model
    return _loaded[newest.version]


def suggest_for_post(post_id: int) -> list[Reviewable]:
    """The tactics bot's work on one post: score it and file (or update, or withdraw) its suggestions.
    Running it again with the same model and text changes nothing."""
    scorable = scorable_post(post_id)
    if scorable is None:
        review.withdraw_tactic_suggestions(post_id, reason="The post can no longer be scored.")
        return []
    post, text = scorable
    read_version = post.version  # what was scored: the post may be edited before its lock is taken below
    tags = {tag.name: tag for tag in tactic_tags()}
    model = current_model()
    if set(model.tactics) != set(tags):
        # The tactics were added, renamed or retired since this model was fitted, and the refit that change queued
        # has not stored its model yet: scoring with this one would withdraw a renamed tactic's suggestions as no
        # longer supported (and the refit reads again only posts whose suggestions still wait).
        model = refit_model().model
    suggestions = [suggestion for suggestion in model.score(text) if suggestion.tactic in tags]
    with write_unit(db.session):
        # The post's row before its review items, as every path takes them. Under it the post is read again: one
        # deleted (or whose author opted out) while it was being scored gets its suggestions withdrawn, not filed.
        db.session.refresh(post, with_for_update=ROW_LOCK)
        db.session.refresh(post.user)
        db.session.refresh(post.topic)
        if not _may_score(post):
            review.withdraw_tactic_suggestions(post_id, reason="The post can no longer be scored.")
            return []
        if post.version != read_version:  # edited meanwhile: the edit's own task (or the backfill) reads the new text
            return []
        filed = review.file_tactic_suggestions(post, suggestions, tags)
        _record_scoring(post.id, read_version, model.version)
        return filed


def _record_scoring(post_id: int, post_version: int, model_version: str) -> None:
    """Call under the post's row lock: two scorings of one post then never both insert."""
    scoring = db.session.get(TacticScoring, post_id)
    if scoring is None:
        db.session.add(TacticScoring(post_id=post_id, post_version=post_version, model_version=model_version))
    else:
        scoring.post_version, scoring.model_version, scoring.scored_at = post_version, model_version, utcnow()


def unscored_post_ids(limit: int, written_before: datetime) -> list[int]:
    """Posts the bot may read whose current version it never read, newest first. Only those written or edited
    before ``written_before``: a later one is left to the task its own write queued."""
    return list(
        db.session.scalars(
            _scorable_post_ids()
            .outerjoin(TacticScoring, TacticScoring.post_id == Post.id)
            .where(Post.updated_at < written_before, or_(TacticScoring.post_id.is_(None), TacticScoring.post_version < Post.version))
            .order_by(Post.id.desc())
            .limit(limit)
        )
    )
