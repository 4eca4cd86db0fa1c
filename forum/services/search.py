"""Full-text search, as Discourse's GET /search.json answers it: posts (the best one per topic), and the
users, categories and tags whose names match.

The index comes from migration 0003 and database triggers keep it in step (its docstring says how):
one entry per post holding its topic's title, weighted above the body, and the post's rendered text
(``posts.search_text``, migration 0010: words, not Markdown, and a link's text, not its address). SQLite
ranks with FTS5's bm25() and cuts blurbs with snippet(); PostgreSQL ranks with ts_rank_cd() and cuts
blurbs with ts_headline(). On both, every word or quoted phrase of the query reaches the index as a
quoted phrase that nothing in it can break out of, so no query is a syntax error, and all of them
must match.

Discourse's operators in the query narrow it: ``in:title``, ``in:first``, ``category:slug`` (or id;
subcategories included), ``#slug`` (a category, else a tag), ``tags:a,b`` (any of them) or ``tags:a+b``
(all), ``status:open|closed|archived|noreplies``, ``@username`` or ``user:username``,
``before:``/``after:`` (yyyy-mm-dd), ``order:latest|latest_topic``. Anything else is a search word.
"""
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    column,
    false,
    func,
    literal,
    literal_column,
    select,
    table,
    true,
)
from sqlalchemy.orm import joinedload

from forum.content import excerpt
from forum.extensions import db
from forum.models import Category, Post, PostType, Tag, Topic, User, topic_tags
from forum.services import categories as category_service
from forum.services import guardian
from forum.services import tags as tag_service
from forum.services.categories import CategoryCounts
from forum.services.errors import InvalidParameters

PER_PAGE = 50  # Discourse's per_filter: posts on a page of full-page results
PER_FACET = 5  # Discourse's per_facet: users, categories and tags shown beside the posts
MIN_TERM_LENGTH = 3  # Discourse's min_search_term_length
MAX_TERM_LENGTH = 500
MAX_PAGE = 100
BLURB_LENGTH = 300  # characters, for blurbs without highlights (filter-only searches)

# Private-use characters that mark highlights in what the database returns; migration 0003 keeps them
# out of the SQLite index and ts_headline's input has them removed, so every marker is the database's.
HIGHLIGHT_START, HIGHLIGHT_END = "\ue000", "\ue001"
HIGHLIGHT_OPEN, HIGHLIGHT_CLOSE = '<span class="search-highlight">', "</span>"

ORDERS = ("relevance", "latest", "latest_topic")
STATUSES = ("open", "closed", "archived", "noreplies")

# The index's own tables; they are not ORM models, so Alembic's autogenerate must leave them alone.
INDEX_TABLE = "post_search"
_FTS5_SHADOW_TABLES = {f"{INDEX_TABLE}_{suffix}" for suffix in ("data", "idx", "content", "docsize", "config")}


def include_in_schema_comparison(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's include_name hook: everything except the search index, which migration 0003 owns."""
    return not (type_ == "table" and (name == INDEX_TABLE or name in _FTS5_SHADOW_TABLES))


# The query language.


@dataclass
class SearchQuery:
    terms: list[str] = field(default_factory=list)  # words and quoted phrases; all must match
    in_title: bool = False
    first_post_only: bool = False
    in_messages: bool = False  # the caller's private messages instead of the forum's topics
    category: str | None = None  # slug or id
    hashtag: str | None = None  # a category slug, else a tag name
    tag_names: list[str] = field(default_factory=list)
    all_tags: bool = False
    status: str | None = None
    username: str | None = None
    before: date | None = None
    after: date | None = None
    order: str = "relevance"


_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_DATE_OPERATOR = re.compile(r"(before|after):(\d{4}-\d{2}-\d{2})", re.IGNORECASE)
_VALUED_OPERATOR = re.compile(r"(category|categories|tags?|status|user|order):(.+)", re.IGNORECASE)


def parse_query(text: str) -> SearchQuery:
    query = SearchQuery()
    for match in _TOKEN.finditer(text):
        phrase, word = match.groups()
        if phrase is not None or not _apply_operator(query, word):
            _add_term(query, phrase if phrase is not None else word)
    return query


def _add_term(query: SearchQuery, term: str) -> None:
    # Punctuation alone ("***", "-") holds no word the index could match; as a term it would match nothing.
    if any(character.isalnum() for character in term) and term not in query.terms:
        query.terms.append(term)


def _apply_operator(query: SearchQuery, word: str) -> bool:
    """Apply ``word`` to ``query`` if it is an operator this search knows; False if it is a search word."""
    lowered = word.lower()
    if lowered == "in:title":
        query.in_title = True
    elif lowered == "in:first":
        query.first_post_only = True
    elif lowered in ("in:messages", "in:personal"):  # Discourse's two names for it
        query.in_messages = True
    elif word.startswith("@") and len(word) > 1:
        query.username = word[1:]
    elif word.startswith("#") and len(word) > 1:
        query.hashtag = word[1:]
    elif match := _DATE_OPERATOR.fullmatch(word):
        try:
            setattr(query, match[1].lower(), date.fromisoformat(match[2]))
        except ValueError:  # a date such as 2024-13-45
            return False
    elif match := _VALUED_OPERATOR.fullmatch(word):
        return _apply_valued_operator(query, match[1].lower(), match[2])
    else:
        return False
    return True


def _apply_valued_operator(query: SearchQuery, name: str, value: str) -> bool:
    if name in ("category", "categories"):
        query.category = value
    elif name in ("tag", "tags"):
        query.all_tags = "+" in value
        query.tag_names = re.split(r"[,+]", value)  # as written: normalised where they are looked up
    elif name == "user":
        query.username = value
    elif name == "status" and value.lower() in STATUSES:
        query.status = value.lower()
    elif name == "order" and value.lower() in ORDERS[1:]:
        query.order = value.lower()
    else:
        return False
    return True


# Results.


@dataclass
class PostHit:
    post: Post
    blurb: str  # HTML: escaped text whose only markup is the highlight spans
    topic_title_headline: str  # HTML, the same way


@dataclass
class SearchResults:
    term: str
    can_create_topic: bool
    posts: list[PostHit] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    # What showing the categories needs: counts of what the caller may see, and their visible children.
    category_counts: dict[int, CategoryCounts] = field(default_factory=dict)
    category_child_ids: dict[int, list[int]] = field(default_factory=dict)
    tags: list[Tag] = field(default_factory=list)
    more_posts: bool = False
    more_users: bool = False
    more_categories: bool = False


def search(caller: User | None, q: str | None, page: int = 1) -> SearchResults:
    """Page ``page`` of what ``caller`` may see that matches ``q``; a blank ``q`` finds nothing."""
    term = _validated_term(q)
    if page < 1 or page > MAX_PAGE:
        raise InvalidParameters(f"page must be between 1 and {MAX_PAGE}.")
    results = SearchResults(term=term, can_create_topic=guardian.allows(guardian.ensure_can_create_topic, caller))
    if not term:
        return results
    query = parse_query(term)
    conditions = _conditions(caller, query)
    if query.terms or conditions or query.in_messages:
        post_ids, results.more_posts = _page_of_post_ids(caller, query, conditions, page)
        results.posts = _hits(query, post_ids)
    if query.terms and page == 1:
        words = " ".join(query.terms)
        results.users, results.more_users = _facet(_matching_users(words))
        results.categories, results.more_categories = _facet(_matching_categories(caller, words))
        _load_category_details(caller, results)
        results.tags, _ = _facet(_matching_tags(caller, words))
    return results


def _load_category_details(caller: User | None, results: SearchResults) -> None:
    if not results.categories:
        return
    ids = [category.id for category in results.categories]
    results.category_counts = category_service.category_counts(caller, ids)
    children = category_service.children_by_parent(category_service.visible_categories(caller))
    results.category_child_ids = {
        category_id: [child.id for child in children.get(category_id, [])] for category_id in ids
    }


def _validated_term(q: str | None) -> str:
    term = (q or "").strip()
    if "\x00" in term:
        raise InvalidParameters("q must not contain a null byte.")
    try:
        term.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidParameters("q must be valid text.") from None
    if term and len(term) < MIN_TERM_LENGTH:
        raise InvalidParameters(f"The search term must be at least {MIN_TERM_LENGTH} characters long.")
    if len(term) > MAX_TERM_LENGTH:
        raise InvalidParameters(f"The search term must be at most {MAX_TERM_LENGTH} characters long.")
    return term



# Which posts.


def _searchable(caller: User | None, query: SearchQuery) -> ColumnElement[bool]:
    """Posts that search may show ``caller``: live posts of live listed topics (of the caller's own private messages
    instead, with in:messages), no small actions, whispers for staff."""
    post_types = [PostType.REGULAR, PostType.MODERATOR_ACTION]
    if caller is not None and caller.is_staff:
        post_types.append(PostType.WHISPER)
    if query.in_messages:
        topics = guardian.messages_of(caller) if caller is not None else false()
    else:
        topics = guardian.listed_topics(caller)
    return Post.deleted_at.is_(None) & Post.post_type.in_(post_types) & topics


def _conditions(caller: User | None, query: SearchQuery) -> list[ColumnElement[bool]]:
    """The operators of ``query`` as conditions on Post and Topic."""
    conditions = []
    if query.in_title or query.first_post_only:
        conditions.append(Post.post_number == 1)
    if query.category is not None:
        category = _visible_category(caller, query.category)
        conditions.append(_in_category(category) if category else false())
    if query.hashtag is not None:
        category = _visible_category(caller, query.hashtag, by_id=False)
        conditions.append(_in_category(category) if category else _tagged([tag_service.normalize_tag_name(query.hashtag)]))
    if query.tag_names:
        conditions.append(_tagged([tag_service.normalize_tag_name(name) for name in query.tag_names], all_of=query.all_tags))
    if query.status is not None:
        conditions.append(_STATUS_CONDITIONS[query.status])
    if query.username is not None:
        author = select(User.id).where(User.username_lower == query.username.lower()).scalar_subquery()
        conditions.append(Post.user_id == author)
    if query.before is not None:
        conditions.append(Post.created_at < _start_of(query.before))
    if query.after is not None:
        conditions.append(Post.created_at >= _start_of(query.after))
    return conditions


_STATUS_CONDITIONS = {
    "open": (Topic.closed == false()) & (Topic.archived == false()),
    "closed": Topic.closed == true(),
    "archived": Topic.archived == true(),
    "noreplies": Topic.posts_count == 1,
}


def _visible_category(caller: User | None, reference: str, *, by_id: bool = True) -> Category | None:
    """The category ``caller`` may read with this slug (or id); one they may not read is as unknown."""
    if by_id and re.fullmatch(r"[0-9]{1,9}", reference):
        named = Category.id == int(reference)
    else:
        named = Category.slug == reference.lower()
    return db.session.scalar(select(Category).where(named, guardian.readable_categories(caller)))


def _in_category(category: Category) -> ColumnElement[bool]:
    subcategories = select(Category.id).where(Category.parent_category_id == category.id)
    return (Topic.category_id == category.id) | Topic.category_id.in_(subcategories)


def _tagged(tag_names: list[str], *, all_of: bool = False) -> ColumnElement[bool]:
    wanted = set(tag_names) - {""}
    tagged_topics = (
        select(topic_tags.c.topic_id).join(Tag, Tag.id == topic_tags.c.tag_id).where(Tag.name.in_(wanted))
    )
    if all_of:
        tagged_topics = tagged_topics.group_by(topic_tags.c.topic_id).having(func.count() == len(wanted))
    return Topic.id.in_(tagged_topics)


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def _page_of_post_ids(
    caller: User | None, query: SearchQuery, conditions: list[ColumnElement[bool]], page: int
) -> tuple[list[int], bool]:
    """The ids of one page of results, one post per topic as Discourse shows them, and whether more follow."""
    # Hidden posts the caller may not read are left out before ranking, so that a topic whose best match is hidden
    # shows its next best post instead, and no blurb shows a hidden post's words.
    candidates: Select = (
        select(Post.id)
        .join(Topic, Topic.id == Post.topic_id)
        .where(_searchable(caller, query), guardian.readable_post_texts(caller), *conditions)
    )
    order = query.order
    if query.terms:
        matches = _index().matches(query)
        candidates = candidates.join(matches, matches.c.post_id == Post.id)
        score = matches.c.score
    else:
        score = literal(0.0)
        order = "latest" if order == "relevance" else order  # nothing to rank by
    # Within a topic the best match is shown (the newest for order:latest); topics are ranked by it.
    if order == "latest":
        best_first = [Post.created_at.desc(), Post.id.desc()]
    else:
        best_first = [score.desc(), Post.post_number]
    ranked = candidates.add_columns(
        Post.created_at.label("posted_at"),
        Topic.id.label("topic_id"),
        Topic.created_at.label("topic_created_at"),
        Topic.bumped_at,
        func.max(score).over(partition_by=Post.topic_id).label("topic_score"),
        func.row_number().over(partition_by=Post.topic_id, order_by=best_first).label("place_in_topic"),
    ).subquery()
    topic_order = {
        "relevance": [ranked.c.topic_score.desc(), ranked.c.bumped_at.desc(), ranked.c.topic_id.desc()],
        "latest": [ranked.c.posted_at.desc(), ranked.c.id.desc()],
        "latest_topic": [ranked.c.topic_created_at.desc(), ranked.c.topic_id.desc()],
    }[order]
    post_ids = list(
        db.session.scalars(
            select(ranked.c.id)
            .where(ranked.c.place_in_topic == 1)
            .order_by(*topic_order)
            .limit(PER_PAGE + 1)
            .offset((page - 1) * PER_PAGE)
        )
    )
    return post_ids[:PER_PAGE], len(post_ids) > PER_PAGE


def _hits(query: SearchQuery, post_ids: list[int]) -> list[PostHit]:
    if not post_ids:
        return []
    posts = db.session.scalars(
        select(Post).options(joinedload(Post.user), joinedload(Post.topic)).where(Post.id.in_(post_ids))
    ).all()
    by_id = {post.id: post for post in posts}
    if query.terms:
        headlines = {
            post_id: (_highlighted(blurb), _highlighted(title))
            for post_id, (blurb, title) in _index().headlines(query, post_ids).items()
        }
    else:
        headlines = {post.id: (_escaped(excerpt(post.cooked, BLURB_LENGTH)), _escaped(post.topic.title)) for post in posts}
    return [PostHit(by_id[post_id], *headlines[post_id]) for post_id in post_ids]


def _escaped(text: str) -> str:
    return html.escape(" ".join(text.split()))


def _highlighted(marked: str) -> str:
    """Text with the database's highlight markers -> HTML whose only markup is the highlight spans."""
    return _escaped(marked).replace(HIGHLIGHT_START, HIGHLIGHT_OPEN).replace(HIGHLIGHT_END, HIGHLIGHT_CLOSE)


# The index, one class per backend.


class _SqliteIndex:
    TITLE_WEIGHT = 10.0  # bm25() column weights: a title match counts ten body matches
    SNIPPET_TOKENS = 40
    _rows = table(INDEX_TABLE, column("rowid"))
    _table = literal_column(INDEX_TABLE)  # FTS5's MATCH and auxiliary functions name the table itself

    @staticmethod
    def fts5_query(query: SearchQuery) -> str:
        """Every term as an FTS5 string (a phrase): its own double quotes doubled, nothing else special."""
        phrases = " AND ".join('"' + term.replace('"', '""') + '"' for term in query.terms)
        return f"{{title}} : ({phrases})" if query.in_title else phrases

    def _matching(self, query: SearchQuery) -> ColumnElement[bool]:
        return self._table.op("MATCH")(self.fts5_query(query))

    def matches(self, query: SearchQuery) -> Subquery:
        # bm25() is lower for better matches.
        score = -func.bm25(self._table, self.TITLE_WEIGHT, 1.0)
        return select(self._rows.c.rowid.label("post_id"), score.label("score")).where(self._matching(query)).subquery()

    def headlines(self, query: SearchQuery, post_ids: list[int]) -> dict[int, tuple[str, str]]:
        blurb = func.snippet(self._table, 1, HIGHLIGHT_START, HIGHLIGHT_END, "…", self.SNIPPET_TOKENS)
        title = func.highlight(self._table, 0, HIGHLIGHT_START, HIGHLIGHT_END)
        rows = db.session.execute(
            select(self._rows.c.rowid, blurb, title).where(self._matching(query), self._rows.c.rowid.in_(post_ids))
        )
        return {post_id: (blurb_text, title_text) for post_id, blurb_text, title_text in rows}


class _PostgresIndex:
    CONFIG = "forum_search"  # english, accents folded: migration 0022
    _rows = table(INDEX_TABLE, column("post_id"), column("search_data"))
    BLURB_OPTIONS = f"StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_END}, MaxWords=40, MinWords=20, MaxFragments=1"
    TITLE_OPTIONS = f"StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_END}, HighlightAll=true"

    def tsquery(self, query: SearchQuery) -> ColumnElement:
        """Every term through phraseto_tsquery(), which takes any text; all of them must match.

        Joined as a balanced tree of ``&&``: a chain as long as the query may be would nest deeper than
        the SQL compiler's recursion allows.
        """
        phrases = [func.phraseto_tsquery(self.CONFIG, term) for term in query.terms]
        while len(phrases) > 1:
            pairs = [phrases[index : index + 2] for index in range(0, len(phrases), 2)]
            phrases = [pair[0].op("&&")(pair[1]) if len(pair) == 2 else pair[0] for pair in pairs]
        return phrases[0]

    def matches(self, query: SearchQuery) -> Subquery:
        tsquery = self.tsquery(query)
        search_data = self._rows.c.search_data
        matching = search_data.op("@@")(tsquery)
        if query.in_title:  # the title is the part weighted A
            matching &= func.ts_filter(search_data, literal_column("'{a}'")).op("@@")(tsquery)
        score = func.ts_rank_cd(search_data, tsquery)
        return select(self._rows.c.post_id, score.label("score")).where(matching).subquery()

    def headlines(self, query: SearchQuery, post_ids: list[int]) -> dict[int, tuple[str, str]]:
        tsquery = self.tsquery(query)
        blurb = func.ts_headline(self.CONFIG, _without_markers(Post.search_text), tsquery, self.BLURB_OPTIONS)
        title = func.ts_headline(self.CONFIG, _without_markers(Topic.title), tsquery, self.TITLE_OPTIONS)
        rows = db.session.execute(
            select(Post.id, blurb, title).join(Topic, Topic.id == Post.topic_id).where(Post.id.in_(post_ids))
        )
        return {post_id: (blurb_text, title_text) for post_id, blurb_text, title_text in rows}


def _without_markers(text: ColumnElement[str]) -> ColumnElement[str]:
    return func.replace(func.replace(text, HIGHLIGHT_START, ""), HIGHLIGHT_END, "")


_INDEXES = {"sqlite": _SqliteIndex(), "postgresql": _PostgresIndex()}


def _index() -> _SqliteIndex | _PostgresIndex:
    return _INDEXES[db.session.get_bind().dialect.name]


# Users, categories and tags whose names match.


def _facet(rows: Iterable) -> tuple[list, bool]:
    found = list(rows)
    return found[:PER_FACET], len(found) > PER_FACET


def _matching_users(words: str) -> Iterable[User]:
    lowered = words.lower()
    return db.session.scalars(
        select(User)
        .where(
            User.active == true(),
            User.username_lower.startswith(lowered, autoescape=True)
            | func.lower(User.name).contains(lowered, autoescape=True),
        )
        .order_by(User.username_lower != lowered, User.username_lower)
        .limit(PER_FACET + 1)
    )


def _matching_categories(caller: User | None, words: str) -> Iterable[Category]:
    return db.session.scalars(
        select(Category)
        .where(guardian.readable_categories(caller), func.lower(Category.name).contains(words.lower(), autoescape=True))
        .order_by(Category.position, Category.name)
        .limit(PER_FACET + 1)
    )


def _matching_tags(caller: User | None, words: str) -> Iterable[Tag]:
    name = tag_service.normalize_tag_name(words)
    if not name:
        return []
    return db.session.scalars(
        select(Tag)
        .where(Tag.name.contains(name, autoescape=True), tag_service.known_tags(caller))
        .order_by(Tag.name)
        .limit(PER_FACET + 1)
    )
