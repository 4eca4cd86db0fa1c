"""Digests rendered: Markdown, a self-contained printable HTML page, and a JSON document
(``docs/digest-schema.json``, versioned by ``schema_version``).

Everything a member wrote reaches Markdown through ``escape_markdown`` (it can add no structure, link or
HTML) and HTML through Jinja2's autoescaping. Only the print view shows cooked posts, which the one
sanitiser made safe when they were written.
"""
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from forum.content.markdown import escape_markdown
from forum.services.digests import (
    SCHEMA_VERSION,
    Citation,
    Example,
    PrintableTopic,
    TacticNotebook,
    TopicDigest,
)

FORMATS = ("md", "html", "json")
MEDIA_TYPES = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8", "json": "application/json; charset=utf-8"}
# What a Markdown link destination may keep as it is (RFC 3986's reserved characters and %): the rest,
# among them <, >, spaces and backslashes, is percent-encoded.
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def shown_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def json_time(value: datetime | None) -> str | None:
    """RFC 3339, UTC, to the second."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


_templates.filters["shown_time"] = shown_time


def plural(number: int, word: str) -> str:
    return f"{number} {word}" if number == 1 else f"{number} {word}s"


_templates.filters["plural"] = plural


# Markdown.


def _destination(url: str) -> str:
    """A link destination that stays one: in angle brackets, with what could end it percent-encoded."""
    return f"<{quote(url, safe=_URL_SAFE)}>"


def _link(text: str, url: str) -> str:
    return f"[{escape_markdown(text)}]({_destination(url)})"


def _post_link(number: int, url: str) -> str:
    return _link(f"#{number}", url)


def _example_markdown(example: Example, heading: str) -> list[str]:
    return [
        f"{heading} {escape_markdown(example.subject) or escape_markdown(f'Post #{example.post_number}')}",
        "",
        f"- Author: {escape_markdown(example.author)}",
        f"- Posted: {shown_time(example.posted_at)}",
        f"- Post: {_post_link(example.post_number, example.url)}",
        "",
        f"> {escape_markdown(example.excerpt)}" if example.excerpt else "> (no text)",
        "",
    ]


def _withheld_line(withheld: int) -> list[str]:
    if not withheld:
        return []
    return [f"{plural(withheld, 'approved example')} not quoted: the author opted out of bot processing or the post is hidden.", ""]


def topic_markdown(digest: TopicDigest) -> str:
    counts = digest.counts
    lines = [
        f"# {escape_markdown(digest.title)}",
        "",
        f"- Category: {escape_markdown(digest.category) if digest.category else 'none'}",
        f"- Opened: {shown_time(digest.opened_at)}",
        f"- Closed: {shown_time(digest.closed_at) if digest.closed_at else ('yes' if digest.closed else 'no')}",
        f"- Last post: {shown_time(digest.last_posted_at)}",
        f"- Topic: {_link(digest.url, digest.url)}",
        f"- Digest generated: {shown_time(digest.generated_at)} (schema {SCHEMA_VERSION})",
    ]
    if digest.redacted:
        lines.append("- Redacted: participants are pseudonymous; e-mail addresses and phone numbers are masked.")
    lines += ["", "## Counts", "", f"- Posts: {counts.posts}", f"- Participants: {counts.participants}"]
    if counts.withheld_posts:
        lines.append(f"- Posts counted but not quoted (author opted out of bot processing, or hidden): {counts.withheld_posts}")
    for tactic, number in counts.examples_per_tactic.items():
        lines.append(f"- Approved examples of {escape_markdown(tactic)}: {number}")

    lines += ["", "## Participants", ""]
    for participant in digest.participants:
        name = f" ({escape_markdown(participant.name)})" if participant.name else ""
        lines.append(f"- {escape_markdown(participant.username)}{name}: {plural(participant.post_count, 'post')}")
    if counts.opted_out_participants:
        lines.append(f"- {plural(counts.opted_out_participants, 'participant')} who opted out of bot processing, not named")
    if not digest.participants and not counts.opted_out_participants:
        lines.append("No posts.")

    lines += ["", "## Guiding questions", ""]
    lines += [f"{number}. {escape_markdown(question)}" for number, question in enumerate(digest.guiding_questions, 1)] or [
        "The opening post asks no questions."
    ]

    lines += ["", "## Summary", ""]
    if digest.summary is None or not digest.summary.key_points:
        lines.append("No summary yet.")
    else:
        for point in digest.summary.key_points:
            cited = ", ".join(_post_link(citation.post_number, citation.url) for citation in point.citations)
            lines.append(f"- {escape_markdown(point.text)} ({cited})")
        state = "outdated: posts have changed since" if digest.summary.outdated else "current"
        lines += ["", f"Summary of {shown_time(digest.summary.updated_at)} ({state})."]

    lines += ["", "## Examples by tactic", ""]
    if not digest.tactics:
        lines += ["No approved tactic examples.", ""]
    for group in digest.tactics:
        lines += [f"### {escape_markdown(group.tactic)}", ""]
        if group.description:
            lines += [escape_markdown(group.description), ""]
        for example in group.examples:
            lines += _example_markdown(example, "####")
        lines += _withheld_line(group.withheld)

    lines += ["## Resources mentioned", ""]
    for resource in digest.resources:
        posts = ", ".join(_post_link(citation.post_number, citation.url) for citation in resource.citations)
        lines.append(f"- {_link(resource.text or resource.url, resource.url)}: {escape_markdown(resource.organisation)} ({posts})")
    if not digest.resources:
        lines.append("No links.")

    lines += ["", "## Unanswered questions", ""]
    for question in digest.unanswered_questions:
        lines.append(f"- {escape_markdown(question.text)} ({escape_markdown(question.author)}, {_post_link(question.post_number, question.url)})")
    if not digest.unanswered_questions:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def notebook_markdown(notebook: TacticNotebook) -> str:
    lines = [f"# Tactic notebook: {escape_markdown(notebook.tactic)}", ""]
    if notebook.description:
        lines += [escape_markdown(notebook.description), ""]
    lines += [
        f"- Topics: {len(notebook.topics)}",
        f"- Approved examples quoted: {notebook.example_count}",
        f"- Approved examples not quoted (author opted out of bot processing, or hidden): {notebook.withheld_count}",
        f"- Notebook generated: {shown_time(notebook.generated_at)} (schema {SCHEMA_VERSION})",
    ]
    if notebook.redacted:
        lines.append("- Redacted: participants are pseudonymous; e-mail addresses and phone numbers are masked.")
    lines.append("")
    for topic in notebook.topics:
        lines += [
            f"## {escape_markdown(topic.title)}",
            "",
            f"- Category: {escape_markdown(topic.category) if topic.category else 'none'}",
            f"- Topic: {_link(topic.url, topic.url)}",
            "",
        ]
        for example in topic.examples:
            lines += _example_markdown(example, "###")
        lines += _withheld_line(topic.withheld)
    if not notebook.topics:
        lines += ["No approved examples in the topics you can see.", ""]
    return "\n".join(lines)


# HTML.


# Code points an HTML document may not hold (control characters but tab, newlines and form feed, and noncharacters),
# which titles and posts may: a page holding one fails a strict parse.
_NOT_IN_HTML = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")


def _page(template: str, **context) -> str:
    return _NOT_IN_HTML.sub("", _templates.get_template(template).render(**context))


def topic_html(digest: TopicDigest) -> str:
    return _page("digest.html", kind="topic", digest=digest, schema_version=SCHEMA_VERSION)


def notebook_html(notebook: TacticNotebook) -> str:
    return _page("digest.html", kind="tactic", notebook=notebook, schema_version=SCHEMA_VERSION)


def print_html(printable: PrintableTopic) -> str:
    # Markup: cooked is sanitised HTML (forum.content.cook), the one thing this module does not escape.
    posts = [(post, Markup(post.cooked) if post.cooked is not None else None) for post in printable.posts]
    return _page("print.html", topic=printable, posts=posts)


# JSON.


def _example_json(example: Example) -> dict:
    return {
        "topic_id": example.topic_id,
        "post_number": example.post_number,
        "subject": example.subject,
        "author": example.author,
        "posted_at": json_time(example.posted_at),
        "excerpt": example.excerpt,
        "url": example.url,
    }


def _citations_json(citations: tuple[Citation, ...]) -> list[dict]:
    return [{"post_number": citation.post_number, "url": citation.url} for citation in citations]


def topic_json(digest: TopicDigest) -> dict:
    summary = None
    if digest.summary is not None:
        summary = {
            "updated_at": json_time(digest.summary.updated_at),
            "outdated": digest.summary.outdated,
            "key_points": [
                {"text": point.text, "citations": _citations_json(point.citations)}
                for point in digest.summary.key_points
            ],
        }
    counts = digest.counts
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "topic",
        "generated_at": json_time(digest.generated_at),
        "redacted": digest.redacted,
        "topic": {
            "id": digest.topic_id,
            "title": digest.title,
            "url": digest.url,
            "category": digest.category,
            "opened_at": json_time(digest.opened_at),
            "closed": digest.closed,
            "archived": digest.archived,
            "closed_at": json_time(digest.closed_at),
            "last_posted_at": json_time(digest.last_posted_at),
        },
        "participants": [{"username": p.username, "name": p.name, "post_count": p.post_count} for p in digest.participants],
        "guiding_questions": list(digest.guiding_questions),
        "summary": summary,
        "tactics": [
            {
                "name": group.tactic,
                "description": group.description,
                "examples": [_example_json(example) for example in group.examples],
                "withheld_examples": group.withheld,
            }
            for group in digest.tactics
        ],
        "resources": [
            {"url": r.url, "organisation": r.organisation, "text": r.text, "citations": _citations_json(r.citations)}
            for r in digest.resources
        ],
        "unanswered_questions": [
            {"text": q.text, "post_number": q.post_number, "author": q.author, "url": q.url} for q in digest.unanswered_questions
        ],
        "counts": {
            "posts": counts.posts,
            "participants": counts.participants,
            "withheld_posts": counts.withheld_posts,
            "opted_out_participants": counts.opted_out_participants,
            "examples_per_tactic": dict(counts.examples_per_tactic),
        },
    }


def notebook_json(notebook: TacticNotebook) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "tactic",
        "generated_at": json_time(notebook.generated_at),
        "redacted": notebook.redacted,
        "tactic": {"name": notebook.tactic, "description": notebook.description},
        "topics": [
            {
                "id": topic.topic_id,
                "title": topic.title,
                "url": topic.url,
                "category": topic.category,
                "examples": [_example_json(example) for example in topic.examples],
                "withheld_examples": topic.withheld,
            }
            for topic in notebook.topics
        ],
        "counts": {"topics": len(notebook.topics), "examples": notebook.example_count, "withheld_examples": notebook.withheld_count},
    }


def render(document: TopicDigest | TacticNotebook, format: str) -> str | dict:
    """The digest or notebook in ``format`` (md, html: text; json: a JSON-able dict)."""
    topic = isinstance(document, TopicDigest)
    if format == "md":
        return topic_markdown(document) if topic else notebook_markdown(document)
    if format == "html":
        return topic_html(document) if topic else notebook_html(document)
    if format == "json":
        return topic_json(document) if topic else notebook_json(document)
    raise ValueError(f"unknown digest format {format!r}")
