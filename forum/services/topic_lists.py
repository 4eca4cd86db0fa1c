"""Discourse's topic lists: latest, top, new, unread, and the topics of one category or one tag.

A list is one query for a page of topics, with the caller's read state outer-joined as Discourse's
TopicQuery joins ``topic_users AS tu``, then one query each for the posters, the topics' tags, the
caller's likes, the top tags (and, for categories, the opening posts' excerpts): a fixed number of
queries whatever the page size. Every query is limited to ``guardian.listed_topics(caller)``, and
leaves deleted topics out.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, distinct, func, select, true
from sqlalchemy.orm import load_only

from forum.content import excerpt
from forum.extensions import db
from forum.models import Category, Post, PostAction, PostActionType, PostType, Tag, Topic, TopicUser, User, topic_tags
from forum.models.base import utcnow
from forum.services import guardian, reading, tags, users
from forum.services.errors import InvalidParameters, NotFound

DEFAULT_PER_PAGE = 30  # Discourse's TopicQuery::DEFAULT_PER_PAGE_COUNT
TOP_PER_PAGE = 50  # Discourse's topics_per_period_in_top_page
MAX_PER_PAGE = 100
MAX_PAGE = 2_147_483_647  # Discourse refuses pages beyond PostgreSQL's integer range
EXCERPT_LENGTH = 220  # Discourse's topic_excerpt_maxlength

# /top's periods: topics created within the period, ranked by their likes, posts and views.
TOP_PERIODS: dict[str, timedelta | None] = {
    "all": None,
    "yearly": timedelta(days=365),
    "quarterly": timedelta(days=91),
    "monthly": timedelta(days=30),
    "weekly": timedelta(days=7),
    "daily": timedelta(days=1),
}
DEFAULT_TOP_PERIOD = "yearly"  # Discourse's top_page_default_timeframe

# Discourse's ``order`` values; an unknown one means the default, as in Discourse.
_DEFAULT_ORDERS = (None, "default", "activity")


@dataclass(frozen=True)
class Paging:
    page: int = 0
    per_page: int = DEFAULT_PER_PAGE
    order: str | None = None
    ascending: bool = False


def paging(page: int = 0, per_page: int | None = None, order: str | None = None, ascending: bool = False, *,
           default_per_page: int = DEFAULT_PER_PAGE) -> Paging:
    """Checked paging options: a page from 0, at most MAX_PER_PAGE topics per page (larger asks are capped)."""
    if not 0 <= page <= MAX_PAGE:
        raise InvalidParameters("page must be a whole number from 0.")
    if per_page is not None and per_page < 1:
        raise InvalidParameters("per_page must be at least 1.")
    return Paging(page, min(per_page or default_per_page, MAX_PER_PAGE), order, ascending)


@dataclass
class TopicListItem:
    topic: Topic
    last_read_post_number: int | None  # None when the caller never opened the topic
    unread_posts: int | None
    notification_level: int | None  # None when the caller has no reading state for the topic
    unseen: bool
    pinned: bool  # pinned now: pinned, and not past pinned_until
    liked: bool
    tag_names: list[str]
    excerpt: str | None


@dataclass
class TopicList:
    items: list[TopicListItem]
    users: dict[int, User]  # the posters (author and last poster) of the listed topics
    top_tags: list[Tag]
    page: int
    per_page: int
    has_more: bool
    can_create_topic: bool


def latest(viewer: User | None, options: Paging) -> TopicList:
    return _list(viewer, true(), options, pinned=Topic.pinned_globally)


def new(viewer: User | None, options: Paging) -> TopicList:
    guardian.ensure_can_act(viewer)
    return _list(viewer, reading.new_topics(viewer), options)


def unread(viewer: User | None, options: Paging) -> TopicList:
    guardian.ensure_can_act(viewer)
    return _list(viewer, reading.unread_topics(), options)


def top(viewer: User | None, period: str, options: Paging) -> TopicList:
    if period not in TOP_PERIODS:
        raise InvalidParameters(f"period must be one of {', '.join(TOP_PERIODS)}.")
    span = TOP_PERIODS[period]
    within = true() if span is None else Topic.created_at >= utcnow() - span
    ranking = (Topic.like_count.desc(), Topic.posts_count.desc(), Topic.views.desc(), Topic.bumped_at.desc(), Topic.id.desc())
    return _list(viewer, within, options, ranking=ranking)


def category_topics(viewer: User | None, category_id: int, options: Paging) -> TopicList:
    """A category's topics and its subcategories', with the topics pinned in the category first."""
    category = db.session.get(Category, category_id)
    if category is None:
        raise NotFound("That category does not exist.")
    guardian.ensure_can_see_category(viewer, category)
    in_category = Topic.category_id.in_(
        select(Category.id).where((Category.id == category.id) | (Category.parent_category_id == category.id))
    )
    return _list(viewer, in_category, options, pinned=Topic.category_id == category.id, scope=in_category, excerpts=True)


def find_tag(viewer: User | None, name: str) -> Tag:
    """The tag named ``name``, if ``viewer`` may know of it (tags.known_tags): a tag used only in restricted categories
    is as unknown as one that does not exist."""
    tag = db.session.scalar(select(Tag).where(func.lower(Tag.name) == name.lower(), tags.known_tags(viewer)))
    if tag is None:
        raise NotFound("That tag does not exist.")
    return tag


def tag_topics(viewer: User | None, tag: Tag, options: Paging) -> TopicList:
    return _list(viewer, _tagged(tag), options, pinned=Topic.pinned_globally)


def tag_topic_count(viewer: User | None, tag: Tag) -> int:
    """How many topics carry ``tag``, counting only those ``viewer`` may see."""
    return db.session.scalar(select(func.count()).select_from(Topic).where(guardian.listed_topics(viewer), _tagged(tag)))


def private_messages(viewer: User | None, username: str, options: Paging, *, sent: bool = False) -> TopicList:
    """Discourse's /topics/private-messages/{username}: the messages the member is among; ``sent``: those they wrote
    in. A member's own, or anyone's for admins."""
    user = users.get_by_username(username)
    guardian.ensure_can_see_personal(viewer, user, "messages")
    wrote_in = Topic.id.in_(select(Post.topic_id).where(Post.user_id == user.id, Post.deleted_at.is_(None)))
    return _list(viewer, wrote_in if sent else true(), options, shown=guardian.messages_of(user))


def _tagged(tag: Tag) -> ColumnElement[bool]:
    return Topic.id.in_(select(topic_tags.c.topic_id).where(topic_tags.c.tag_id == tag.id))



def _list(
    viewer: User | None,
    condition: ColumnElement[bool],
    options: Paging,
    *,
    pinned: ColumnElement[bool] | None = None,
    ranking: tuple | None = None,
    scope: ColumnElement[bool] | None = None,
    excerpts: bool = False,
    shown: ColumnElement[bool] | None = None,
) -> TopicList:
    """One page of the topics matching ``condition``.

    ``pinned``: which currently pinned topics go first, as Discourse does in the default order.
    ``ranking``: a fixed order instead of the caller's ``order``. ``scope``: where the top tags come from.
    ``shown``: the topics the list may show at all, instead of guardian.listed_topics (a member's private messages).
    """
    now = utcnow()
    stmt = (
        select(Topic, TopicUser, _pinned_now(now))
        .outerjoin(TopicUser, reading.read_state_join(viewer))
        .where(guardian.listed_topics(viewer) if shown is None else shown, reading.not_muted(viewer), condition)
        .order_by(*(ranking or _ordering(options, pinned, now)))
        .offset(options.page * options.per_page)
        .limit(options.per_page + 1)  # one more than a page says whether there is a next page
    )
    rows = db.session.execute(stmt).all()
    has_more = len(rows) > options.per_page
    rows = rows[: options.per_page]
    topic_ids = [topic.id for topic, _, _ in rows]
    tag_names = _tag_names(topic_ids)
    liked = _liked_topic_ids(viewer, topic_ids)
    first_post_excerpts = opening_excerpts(viewer, topic_ids) if excerpts else {}
    new_since = reading.new_topic_start(viewer) if viewer is not None else None
    items = [
        TopicListItem(
            topic=topic,
            last_read_post_number=state.last_read_post_number if reading.has_opened(state) else None,
            unread_posts=reading.unread_posts(topic, state) if reading.has_opened(state) else None,
            notification_level=state.notification_level if state else None,
            unseen=reading.is_unseen(topic, state, new_since),
            pinned=bool(pinned_now),
            liked=topic.id in liked,
            tag_names=tag_names.get(topic.id, []),
            excerpt=first_post_excerpts.get(topic.id, "") if excerpts else None,
        )
        for topic, state, pinned_now in rows
    ]
    return TopicList(
        items=items,
        users=_posters([item.topic for item in items]),
        top_tags=tags.top_tags(viewer, scope),
        page=options.page,
        per_page=options.per_page,
        has_more=has_more,
        can_create_topic=guardian.allows(guardian.ensure_can_create_topic, viewer),
    )


def _pinned_now(now: datetime) -> ColumnElement[bool]:
    """Pinned, and not past the pin's end (``pinned_until``)."""
    return Topic.pinned_at.is_not(None) & (Topic.pinned_until.is_(None) | (Topic.pinned_until > now))


def _ordering(options: Paging, pinned: ColumnElement[bool] | None, now: datetime) -> list:
    direction = (lambda column: column.asc()) if options.ascending else (lambda column: column.desc())
    ordering = []
    if pinned is not None and options.order in _DEFAULT_ORDERS:
        pinned_now = pinned & _pinned_now(now)
        # Pinned topics first, the most recently pinned first; the rest follow in the asked order.
        ordering += [case((pinned_now, 0), else_=1), case((pinned_now, Topic.pinned_at)).desc()]
    return ordering + [direction(_sort_column(options.order)), direction(Topic.id)]


def _sort_column(order: str | None) -> ColumnElement:
    """The column Discourse's TopicQuery::SORTABLE_MAPPING sorts ``order`` by."""
    if order == "op_likes":
        return select(Post.like_count).where(Post.topic_id == Topic.id, Post.post_number == 1).scalar_subquery()
    if order == "posters":
        return (
            select(func.count(distinct(Post.user_id)))
            .where(Post.topic_id == Topic.id, Post.deleted_at.is_(None), Post.post_type != PostType.WHISPER)
            .scalar_subquery()
        )
    if order == "category":
        return func.coalesce(select(Category.name).where(Category.id == Topic.category_id).scalar_subquery(), "")
    columns = {
        "created": Topic.created_at,
        "views": Topic.views,
        "posts": Topic.posts_count,
        "likes": Topic.like_count,
    }
    return columns.get(order, Topic.bumped_at)


def _posters(topics: list[Topic]) -> dict[int, User]:
    ids = {topic.user_id for topic in topics} | {topic.last_post_user_id for topic in topics if topic.last_post_user_id}
    if not ids:
        return {}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _tag_names(topic_ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    if topic_ids:
        stmt = (
            select(topic_tags.c.topic_id, Tag.name)
            .join(Tag, Tag.id == topic_tags.c.tag_id)
            .where(topic_tags.c.topic_id.in_(topic_ids))
            .order_by(Tag.name)
        )
        for topic_id, name in db.session.execute(stmt):
            names.setdefault(topic_id, []).append(name)
    return names


def _liked_topic_ids(viewer: User | None, topic_ids: list[int]) -> set[int]:
    """The topics in which ``viewer`` liked a post (Discourse's topic_users.liked)."""
    if viewer is None or not topic_ids:
        return set()
    stmt = (
        select(Post.topic_id)
        .distinct()
        .join(PostAction, PostAction.post_id == Post.id)
        .where(
            PostAction.user_id == viewer.id,
            PostAction.post_action_type_id == PostActionType.LIKE,
            Post.topic_id.in_(topic_ids),
        )
    )
    return set(db.session.scalars(stmt))


def opening_excerpts(viewer: User | None, topic_ids: list[int]) -> dict[int, str]:
    """The opening posts' excerpts; none of an opening post flags hid, for those who may not read it."""
    if not topic_ids:
        return {}
    first_posts = db.session.scalars(
        select(Post)
        .options(load_only(Post.topic_id, Post.user_id, Post.cooked, Post.hidden_at))
        .where(Post.topic_id.in_(topic_ids), Post.post_number == 1)
    )
    return {
        post.topic_id: excerpt(post.cooked, EXCERPT_LENGTH)
        for post in first_posts
        if guardian.can_read_post_text(viewer, post)
    }


