"""Thread digests: what a practitioner hands to the person writing a tactical notebook. The dialogue
distilled, every statement traceable to a post by its permalink.

A digest is assembled for one viewer and holds only what that viewer may see, as plain data (rendering
is ``forum.content.digests``). Assembling it takes a fixed number of queries, whatever the topic's length.

What a digest reads, and the rules it follows:

- Content is the topic's regular posts that are not deleted (for staff too: a digest is the published
  dialogue, not the moderation record). Whispers and small actions are never content.
- Posts of authors who opted out of bot processing, and posts hidden by flags, are *counted* (posts,
  participants, approved examples) but never *quoted*: no excerpt, subject, question, link or summary
  sentence of theirs appears, and opted-out authors are not named among the participants. An approved
  example of theirs is left out of the list and counted as withheld.
- Approved tactics: a post's tag (``post_tags``, set when a moderator approves the bot's suggestion) that
  belongs to the "Tactics" tag group. Pending suggestions are not tags, so they never appear.
- Guiding questions: the question sentences (ending in "?") of the opening post.
- Unanswered questions: the question sentences of a reply (post 2 onwards) when no later post of the
  digest's posts names that reply in ``reply_to_post_number``. The rule is per post: a post that got any
  reply counts as answered, whichever of its questions the reply took up.
- Questions are the author's own sentences: quoted passages and code blocks are not read for them.
- Resources: the http(s) links of the posts, each with its domain as the organisation it points to
  (``www.`` dropped) and its link text, and the posts that mention it.

Redaction (``redact=True``): every participant becomes "Participant A", "Participant B", ... in order of
their first post; e-mail addresses and phone numbers are masked in every piece of user text (title,
summary, subjects, excerpts, questions, link texts and URLs); usernames and names of the topic's
participants are replaced by their pseudonyms in that text too, and permalinks leave out the slug. The
mapping is never part of the digest. Limits: only names the forum knows are replaced (a third party
named in a post, a nickname or a misspelt name stays as written, but any @mention left is masked), a participant's first or last name
is replaced only when capitalised, and masking a URL can break the link.
"""
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from html import escape
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from flask import current_app
from sqlalchemy import Row, or_, select

from bots.summaries import ThreadPost, guiding_questions, own_sentences
from forum.content.text import MENTION, excerpt, subject_and_body
from forum.extensions import db
from forum.models import (
    Category,
    Post,
    PostType,
    Tag,
    TagGroup,
    Topic,
    User,
    post_tags,
    tag_group_memberships,
)
from forum.models.base import utcnow
from forum.services import guardian, summaries, tactics, topics
from forum.services.errors import NotFound

SCHEMA_VERSION = "1.0"
EXCERPT_LENGTH = 300
SUBJECT_LENGTH = 160
# The small actions that close or archive a topic (Discourse's action codes, timers' included).
CLOSING_ACTIONS = ("closed.enabled", "autoclosed.enabled", "archived.enabled")


# The digest, as data.


@dataclass(frozen=True)
class Participant:
    username: str  # the pseudonym when redacted
    name: str | None  # the display name; None when redacted
    post_count: int


@dataclass(frozen=True)
class Citation:
    post_number: int
    url: str


@dataclass(frozen=True)
class KeyPoint:
    text: str
    citations: tuple[Citation, ...]


@dataclass(frozen=True)
class Summary:
    key_points: tuple[KeyPoint, ...]
    updated_at: datetime
    outdated: bool


@dataclass(frozen=True)
class Example:
    """One approved example of a tactic: a post, by its subject line (or first sentence) and an excerpt."""

    topic_id: int
    post_number: int
    subject: str
    author: str
    posted_at: datetime
    excerpt: str
    url: str


@dataclass(frozen=True)
class TacticExamples:
    tactic: str
    description: str
    examples: tuple[Example, ...]
    withheld: int  # approved examples not quoted (author opted out of bots, or post hidden)

    @property
    def approved_count(self) -> int:
        return len(self.examples) + self.withheld


@dataclass(frozen=True)
class Resource:
    url: str
    organisation: str
    text: str
    citations: tuple[Citation, ...]  # the posts that mention it


@dataclass(frozen=True)
class Question:
    text: str
    post_number: int
    author: str
    url: str


@dataclass(frozen=True)
class Counts:
    posts: int
    participants: int
    withheld_posts: int  # counted, not quoted
    opted_out_participants: int  # counted, not named
    examples_per_tactic: dict[str, int]


@dataclass(frozen=True)
class TopicDigest:
    topic_id: int
    title: str
    url: str
    category: str | None
    opened_at: datetime
    closed: bool
    archived: bool
    closed_at: datetime | None  # the last closing small action; None when closed silently
    last_posted_at: datetime | None
    participants: tuple[Participant, ...]
    guiding_questions: tuple[str, ...]
    summary: Summary | None
    tactics: tuple[TacticExamples, ...]
    resources: tuple[Resource, ...]
    unanswered_questions: tuple[Question, ...]
    counts: Counts
    redacted: bool
    generated_at: datetime


@dataclass(frozen=True)
class NotebookTopic:
    topic_id: int
    title: str
    url: str
    category: str | None
    examples: tuple[Example, ...]
    withheld: int


@dataclass(frozen=True)
class TacticNotebook:
    """Every approved example of one tactic across the topics the viewer can see, grouped by topic."""

    tactic: str
    description: str
    topics: tuple[NotebookTopic, ...]
    redacted: bool
    generated_at: datetime

    @property
    def example_count(self) -> int:
        return sum(len(topic.examples) for topic in self.topics)

    @property
    def withheld_count(self) -> int:
        return sum(topic.withheld for topic in self.topics)


@dataclass(frozen=True)
class PrintedPost:
    post_number: int
    author: str
    name: str | None
    posted_at: datetime
    cooked: str | None  # sanitised HTML; None for a hidden post the viewer may not read
    reply_to_post_number: int | None
    url: str


@dataclass(frozen=True)
class PrintableTopic:
    """Discourse's print view: the topic's posts as the viewer reads them."""

    title: str
    url: str
    category: str | None
    posts: tuple[PrintedPost, ...]


# Redaction.

# The lookbehinds let a match start only where a run starts: linear time on a 32,000-character "word".
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Phone-shaped runs of digits: an optional +country code, an optional (area code), then groups of 2-5
# digits separated by a space, dot or hyphen. Which runs are phone numbers is decided by digit count.
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d{2,5}(?:[\s.-]?\d{2,5}){1,5}(?!\w)")
EMAIL_MASK = "[email hidden]"
PHONE_MASK = "[phone hidden]"
# Redacted, a mention (text.MENTION) left after the participants' are replaced names someone who never posted in the
# topic. A handle in a link's path (mastodon.social/@name) is one too, and masked: the link breaks, the name stays out.
MENTION_MASK = "@[someone]"


def _is_phone_number(candidate: str) -> bool:
    """Eight digits with a + or (area code) (international or area-coded numbers), otherwise nine: so
    years ("2019-2021") and counts are left alone, at the price of masking a long digit-grouped number."""
    digits = sum(ch.isdigit() for ch in candidate)
    return digits >= (8 if candidate[0] in "+(" else 9) and digits <= 15


def mask_contact_details(text: str) -> str:
    text = _EMAIL.sub(EMAIL_MASK, text)
    return _PHONE.sub(lambda match: PHONE_MASK if _is_phone_number(match[0]) else match[0], text)


def pseudonym(index: int) -> str:
    """Participant A..Z, then AA, AB, ... as spreadsheet columns are named."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return f"Participant {letters}"


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    name: str | None
    opted_out: bool = False  # of bots: counted, never quoted or named


class Redactor:
    """How a digest names people and shows their text: as they are, or pseudonymous with contact details masked.
    Either way, people who opted out of bots are named by their pseudonym only, wherever others' words name them."""

    def __init__(self, people: list[Person], *, enabled: bool):
        self.enabled = enabled
        self._people = {person.id: person for person in people}
        self._pseudonyms = {person.id: pseudonym(index) for index, person in enumerate(people)}
        self._by_name: dict[str, str] = {}
        self._by_name_part: dict[str, str] = {}
        for person in (people if enabled else [person for person in people if person.opted_out]):
            alias = self._pseudonyms[person.id]
            self._by_name[person.username.lower()] = alias
            if person.name:
                self._by_name[" ".join(person.name.split()).lower()] = alias
                for part in re.split(r"[\s-]+", person.name):
                    if len(part) >= 3 and part[0].isupper():
                        self._by_name_part.setdefault(part, alias)
        # Longest first, so "Priya Kannan" is replaced whole before "Priya"; \w edges keep "amira_h" out of "amira_hx".
        self._names = self._pattern(self._by_name, re.IGNORECASE, optional_at=True)
        self._name_parts = self._pattern(self._by_name_part, 0, optional_at=False)

    @staticmethod
    def _pattern(names: dict[str, str], flags: int, *, optional_at: bool) -> re.Pattern | None:
        if not names:
            return None
        # A name's words may be apart by any whitespace in a post, as they are once the text is normalised.
        alternatives = "|".join(r"\s+".join(map(re.escape, name.split())) for name in sorted(names, key=len, reverse=True))
        at = "@?" if optional_at else ""
        return re.compile(rf"(?<![\w@]){at}({alternatives})(?![\w])", flags)

    def author(self, person_id: int) -> str:
        return self._pseudonyms[person_id] if self.enabled else self._people[person_id].username

    def display_name(self, person_id: int) -> str | None:
        return None if self.enabled else self._people[person_id].name

    def url(self, url: str) -> str:
        """A link's address as ``text`` would show it; one whose percent-encoding hides an email address or a phone
        number (``?email=ana%40example.org``, ``%2B44...``) is shown decoded, so that they are masked too."""
        if not self.enabled:
            return url
        decoded = unquote(url)
        return self.text(decoded if mask_contact_details(decoded) != decoded else url)

    def text(self, text: str) -> str:
        if self.enabled:
            text = mask_contact_details(text)
        if self._names is not None:
            text = self._names.sub(lambda match: self._by_name[" ".join(match[1].split()).lower()], text)
        if self._name_parts is not None:
            text = self._name_parts.sub(lambda match: self._by_name_part[match[1]], text)
        if self.enabled:
            text = MENTION.sub(MENTION_MASK, text)
        return text


# Reading posts.


class _LinkCollector(HTMLParser):
    """(href, link text) of every link in a fragment of cooked HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open.append((dict(attrs).get("href") or "", []))

    def handle_data(self, data):
        for _, text in self._open:
            text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            href, text = self._open.pop()
            self.links.append((href, " ".join("".join(text).split())))


def links_of(cooked: str) -> list[tuple[str, str]]:
    collector = _LinkCollector()
    collector.feed(cooked)
    collector.close()
    return collector.links


def web_link(href: str) -> tuple[str, str] | None:
    """(the address as a browser reads it, the domain it points to without ``www.``) for an http(s) link;
    None for anything else. Browsers drop tabs and newlines inside an address, and so does urlsplit."""
    parts = urlsplit(href)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    return parts.geturl(), host.removeprefix("www.")


_QUOTED_OR_CODE = re.compile(r"<(blockquote|pre)\b[^>]*>(?:(?!<\1\b).)*?</\1>", re.DOTALL | re.IGNORECASE)


def own_text(cooked: str) -> str:
    """Cooked HTML without quoted passages and code blocks (innermost first, so nested ones go too)."""
    while True:
        stripped = _QUOTED_OR_CODE.sub("", cooked)
        if stripped == cooked:
            return cooked
        cooked = stripped


def post_questions(cooked: str) -> list[str]:
    """The questions a post's author asks: the subject line if it is one, then the question sentences of
    the post's own text (the summariser's rule for guiding questions, applied to any post)."""
    subject, body = subject_and_body(own_text(cooked))
    questions = guiding_questions(ThreadPost(post_number=0, author="", text=body))
    if subject and subject.endswith("?") and subject not in questions:
        questions.insert(0, subject)
    return questions


def first_sentence(body: str) -> str:
    sentence = next((text for _, text in own_sentences(body)), body)
    return _shorten(sentence, SUBJECT_LENGTH)


def _shorten(text: str, length: int) -> str:
    # excerpt() reads cooked HTML: the escaped text in a paragraph is exactly that.
    return excerpt(f"<p>{escape(text)}</p>", length)


@dataclass(frozen=True)
class _ReadPost:
    """A post as the digest reads it: who wrote it, whether it may be quoted, and its parts."""

    id: int
    post_number: int
    reply_to_post_number: int | None
    user_id: int
    posted_at: datetime
    quotable: bool
    cooked: str


def _post_columns() -> tuple:
    return (
        Post.id,
        Post.topic_id,
        Post.post_number,
        Post.reply_to_post_number,
        Post.cooked,
        Post.created_at,
        Post.hidden_at,
        Post.user_id,
        User.username,
        User.name,
        User.bot_opt_out,
    )


def _thread_rows(viewer: User | None, topic: Topic) -> list:
    """The topic's regular posts the viewer sees, with their authors, in order: one query."""
    return db.session.execute(
        select(*_post_columns())
        .join(User, User.id == Post.user_id)
        .where(Post.topic_id == topic.id, *_content_conditions(viewer))
        .order_by(Post.post_number)
    ).all()


def _content_conditions(viewer: User | None) -> tuple:
    return (Post.deleted_at.is_(None), Post.post_type == PostType.REGULAR, guardian.visible_posts(viewer))


def _read(row: Row) -> _ReadPost:
    return _ReadPost(
        id=row.id,
        post_number=row.post_number,
        reply_to_post_number=row.reply_to_post_number,
        user_id=row.user_id,
        posted_at=row.created_at,
        quotable=not row.bot_opt_out and row.hidden_at is None,
        cooked=row.cooked,
    )


def permalink(topic_id: int, slug: str, post_number: int | None = None, *, redacted: bool) -> str:
    """The post's (or, without a number, the topic's) address; redacted digests leave the slug out, since a
    title may name someone."""
    base = current_app.config["BASE_URL"]
    path = f"/t/{topic_id}" if redacted else f"/t/{slug}/{topic_id}"
    return f"{base}{path}/{post_number}" if post_number is not None else f"{base}{path}"


def _example(topic_id: int, slug: str, post: _ReadPost, redactor: Redactor) -> Example:
    # The author's own words: what they quote is someone else's (who may have opted out of bots, or be deleted).
    subject, body = subject_and_body(post.cooked, without_quotes=True)
    body = redactor.text(body)
    return Example(
        topic_id=topic_id,
        post_number=post.post_number,
        subject=redactor.text(subject) if subject else first_sentence(body),
        author=redactor.author(post.user_id),
        posted_at=post.posted_at,
        excerpt=_shorten(body, EXCERPT_LENGTH),
        url=permalink(topic_id, slug, post.post_number, redacted=redactor.enabled),
    )


# The topic digest.


def topic_digest(viewer: User | None, topic_id: int, *, redact: bool = False) -> TopicDigest:
    topic = topics.get_visible_topic(viewer, topic_id)
    if topic.is_deleted:
        raise NotFound("That topic does not exist.")
    category = topic.category.name if topic.category else None
    rows = _thread_rows(viewer, topic)
    thread = [_read(row) for row in rows]
    opted_out = {row.user_id for row in rows if row.bot_opt_out}
    # Named participants take the first pseudonyms, so "Participant A, C" never hints where an unnamed one posted.
    people = sorted(
        {row.user_id: Person(row.user_id, row.username, row.name, row.bot_opt_out) for row in rows}.values(),
        key=lambda person: person.id in opted_out,
    )
    # Everyone else who posted in the topic (a deleted post's author, a whisper's) is named inside posts as well.
    shown = {person.id for person in people}
    others = [person for person in _people_of(rows, [topic.id]) if person.id not in shown]
    redactor = Redactor([*people, *others], enabled=redact)
    quotable = [post for post in thread if post.quotable]

    opening = thread[0] if thread and thread[0].post_number == 1 else None
    guiding: list[str] = []
    if opening is not None and opening.quotable:
        guiding = [redactor.text(question) for question in post_questions(opening.cooked)]

    posts_by_author = Counter(post.user_id for post in thread)
    participants = tuple(
        Participant(redactor.author(person.id), redactor.display_name(person.id), posts_by_author[person.id])
        for person in people
        if person.id not in opted_out
    )
    tactic_rows = _approved_tactics(topic)
    tactic_examples = _tactic_examples(topic, thread, tactic_rows, redactor)
    return TopicDigest(
        topic_id=topic.id,
        title=redactor.text(topic.title),
        url=permalink(topic.id, topic.slug, redacted=redact),
        category=category,
        opened_at=topic.created_at,
        closed=topic.closed,
        archived=topic.archived,
        closed_at=_closed_at(topic),
        last_posted_at=thread[-1].posted_at if thread else None,
        participants=participants,
        guiding_questions=tuple(guiding),
        summary=_summary(viewer, topic, redactor),
        tactics=tactic_examples,
        resources=_resources(topic, quotable, redactor),
        unanswered_questions=_unanswered_questions(topic, thread, redactor),
        counts=Counts(
            posts=len(thread),
            participants=len(people),
            withheld_posts=len(thread) - len(quotable),
            opted_out_participants=len(opted_out),
            examples_per_tactic={group.tactic: group.approved_count for group in tactic_examples},
        ),
        redacted=redact,
        generated_at=utcnow(),
    )


def _closed_at(topic: Topic) -> datetime | None:
    if not (topic.closed or topic.archived):
        return None
    return db.session.scalar(
        select(Post.created_at)
        .where(Post.topic_id == topic.id, Post.post_type == PostType.SMALL_ACTION, Post.action_code.in_(CLOSING_ACTIONS))
        .order_by(Post.post_number.desc())
        .limit(1)
    )


def _approved_tactics(topic: Topic) -> list[Row]:
    """(post_id, tactic, description) for the topic's posts' tags of the Tactics group, by tactic name."""
    return list(
        db.session.execute(
            select(post_tags.c.post_id, Tag.name, Tag.description)
            .join(Tag, Tag.id == post_tags.c.tag_id)
            .join(tag_group_memberships, tag_group_memberships.c.tag_id == Tag.id)
            .join(TagGroup, TagGroup.id == tag_group_memberships.c.tag_group_id)
            .join(Post, Post.id == post_tags.c.post_id)
            .where(TagGroup.name == tactics.TACTICS_GROUP_NAME, Post.topic_id == topic.id)
            .order_by(Tag.name)
        ).all()
    )


def _tactic_examples(topic: Topic, thread: list[_ReadPost], tactic_rows: list[Row], redactor: Redactor) -> tuple[TacticExamples, ...]:
    by_id = {post.id: post for post in thread}  # only the posts the digest reads: others are not examples
    grouped: dict[str, tuple[str, list[_ReadPost]]] = {}
    for row in tactic_rows:
        if row.post_id in by_id:
            grouped.setdefault(row.name, (row.description or "", []))[1].append(by_id[row.post_id])
    result = []
    for name, (description, tagged) in grouped.items():
        tagged.sort(key=lambda post: post.post_number)
        shown = tuple(_example(topic.id, topic.slug, post, redactor) for post in tagged if post.quotable)
        result.append(TacticExamples(name, description, shown, withheld=len(tagged) - len(shown)))
    return tuple(result)


def _summary(viewer: User | None, topic: Topic, redactor: Redactor) -> Summary | None:
    """The stored summary (made now if missing), with only the key points that may still be quoted
    (summaries.summary_for leaves out those of posts hidden, deleted or by an author who opted out since)."""
    view = summaries.summary_for(viewer, topic.id)
    if view is None:
        return None
    points = tuple(
        KeyPoint(
            redactor.text(point["text"]),
            tuple(Citation(number, permalink(topic.id, topic.slug, number, redacted=redactor.enabled)) for number in point["post_numbers"]),
        )
        for point in view.key_points
    )
    return Summary(points, view.summary.updated_at, view.outdated)


def _resources(topic: Topic, quotable: list[_ReadPost], redactor: Redactor) -> tuple[Resource, ...]:
    found: dict[str, tuple[str, str, list[int]]] = {}
    for post in quotable:
        if "<a " not in post.cooked:
            continue
        for href, text in links_of(own_text(post.cooked)):  # not the links of what the post quotes (someone else's)
            link = web_link(href)
            if link is None:
                continue
            url, organisation = link
            _, _, numbers = found.setdefault(url, (organisation, text, []))
            if post.post_number not in numbers:
                numbers.append(post.post_number)
    return tuple(
        Resource(
            redactor.url(url),
            redactor.text(organisation),  # a domain may carry a name (amirah.substack.com)
            redactor.text(text),
            tuple(Citation(number, permalink(topic.id, topic.slug, number, redacted=redactor.enabled)) for number in numbers),
        )
        for url, (organisation, text, numbers) in found.items()
    )


def _unanswered_questions(topic: Topic, thread: list[_ReadPost], redactor: Redactor) -> tuple[Question, ...]:
    replied_to = {post.reply_to_post_number for post in thread if post.reply_to_post_number is not None}
    result = []
    for post in thread:
        if post.post_number == 1 or not post.quotable or post.post_number in replied_to or "?" not in post.cooked:
            continue
        questions = post_questions(post.cooked)
        url = permalink(topic.id, topic.slug, post.post_number, redacted=redactor.enabled)
        author = redactor.author(post.user_id)
        result.extend(Question(redactor.text(text), post.post_number, author, url) for text in questions)
    return tuple(result)


# The tactic notebook.


def tactic_notebook(viewer: User | None, tactic_name: str, *, redact: bool = False) -> TacticNotebook:
    tag = tactics.get_tactic_tag(tactic_name)
    rows = db.session.execute(
        select(*_post_columns(), Topic.title, Topic.slug, Category.name.label("category"))
        .join(post_tags, post_tags.c.post_id == Post.id)
        .join(User, User.id == Post.user_id)
        .join(Topic, Topic.id == Post.topic_id)
        .outerjoin(Category, Category.id == Topic.category_id)
        .where(
            post_tags.c.tag_id == tag.id,
            guardian.listed_topics(viewer),  # a list, as /tag/{name}.json: unlisted topics open only by their link
            *_content_conditions(viewer),
        )
        .order_by(Topic.created_at, Topic.id, Post.post_number)
    ).all()
    grouped: dict[int, list[Row]] = {}
    for row in rows:
        grouped.setdefault(row.topic_id, []).append(row)
    redactor = Redactor(_people_of(rows, list(grouped)), enabled=redact)
    notebook_topics = []
    for rows_of_topic in grouped.values():
        first = rows_of_topic[0]
        tagged = [_read(row) for row in rows_of_topic]
        shown = tuple(_example(first.topic_id, first.slug, post, redactor) for post in tagged if post.quotable)
        notebook_topics.append(
            NotebookTopic(
                topic_id=first.topic_id,
                title=redactor.text(first.title),
                url=permalink(first.topic_id, first.slug, redacted=redact),
                category=first.category,
                examples=shown,
                withheld=len(tagged) - len(shown),
            )
        )
    return TacticNotebook(tag.name, tag.description or "", tuple(notebook_topics), redact, utcnow())


def _people_of(rows: list[Row], topic_ids: list[int]) -> list[Person]:
    """The examples' authors first (their pseudonyms in reading order), then everyone else who posted in those
    topics, whose names a redacted notebook must also replace inside the excerpts."""
    authors = {row.user_id: Person(row.user_id, row.username, row.name, row.bot_opt_out) for row in rows}
    if topic_ids:
        others = db.session.execute(
            select(User.id, User.username, User.name, User.bot_opt_out)
            .where(User.id.in_(select(Post.user_id).where(Post.topic_id.in_(topic_ids))), User.id.not_in(authors))
            .order_by(User.id)
        )
        for other in others:
            authors[other.id] = Person(other.id, other.username, other.name, other.bot_opt_out)
    return list(authors.values())


# Many topics, for exports.


def category_topic_ids(viewer: User | None, category_ref: str) -> list[int]:
    """The topics of a category (named by id or slug) that the category's list shows the viewer, oldest first."""
    condition = Category.slug == category_ref
    if category_ref.isdigit():
        condition = or_(condition, Category.id == int(category_ref))
    category = db.session.scalar(select(Category).where(condition).order_by(Category.id).limit(1))
    if category is None:
        raise NotFound(f"Category {category_ref} does not exist.")
    guardian.ensure_can_see_category(viewer, category)
    return list(
        db.session.scalars(
            select(Topic.id)
            .where(Topic.category_id == category.id, guardian.listed_topics(viewer))
            .order_by(Topic.created_at, Topic.id)
        )
    )


def unknown_topic_ids(viewer: User | None, topic_ids: list[int]) -> list[int]:
    """Those of ``topic_ids`` that name no topic the viewer may read (deleted ones included): one query."""
    readable = set(
        db.session.scalars(
            select(Topic.id).where(Topic.id.in_(topic_ids), Topic.deleted_at.is_(None), guardian.readable_topics(viewer))
        )
    )
    return [topic_id for topic_id in topic_ids if topic_id not in readable]


# Discourse's print view.


def printable_topic(viewer: User | None, topic_id: int) -> PrintableTopic:
    """The topic's regular posts the viewer sees; a post hidden by flags shows no text except to staff and
    its author, as in the topic view."""
    topic = topics.get_visible_topic(viewer, topic_id)
    rows = _thread_rows(viewer, topic)
    return PrintableTopic(
        title=topic.title,
        url=permalink(topic.id, topic.slug, redacted=False),
        category=topic.category.name if topic.category else None,
        posts=tuple(
            PrintedPost(
                post_number=row.post_number,
                author=row.username,
                name=row.name,
                posted_at=row.created_at,
                cooked=row.cooked if guardian.can_read_post_text(viewer, row) else None,
                reply_to_post_number=row.reply_to_post_number,
                url=permalink(topic.id, topic.slug, row.post_number, redacted=False),
            )
            for row in rows
        ),
    )
