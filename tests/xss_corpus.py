"""The public XSS corpus (PayloadsAllTheThings' intruder lists), for the sanitiser's tests and the pages' tests.

It lives outside the repository, in the folder FORUM_XSS_CORPUS names. Without it the tests that need it skip,
unless FORUM_REQUIRE_SERVICES=1 (CI), where a missing corpus fails.

The allowlists below are the tests' own on purpose, so widening the sanitiser's allowlist has to get past them too.
"""
import os
from pathlib import Path

from sqlalchemy import insert

from forum.content import cook
from forum.database import write_unit
from forum.extensions import db
from forum.models import Topic, User, post_tags
from forum.services import posts, tactics, topics
from tests.databases import unavailable

EXPECTED_PAYLOAD_COUNT = 846  # 179 (IntrudersXSS.txt) + 667 (xss_alert.txt)

# What cooked HTML may contain, as a browser parses it.
ALLOWED_TAGS = frozenset(
    {
        "h1", "h2", "h3", "h4", "h5", "h6",
        "p", "br", "hr", "blockquote", "pre", "code",
        "em", "strong", "del", "s", "kbd", "sup", "sub",
        "ul", "ol", "li", "a", "img",
        "table", "thead", "tbody", "tr", "th", "td",
        "details", "summary",
    }
)  # fmt: skip
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "srcset", "poster", "background", "data",
     "cite", "longdesc", "lowsrc", "dynsrc", "ping"}
)  # fmt: skip
FORBIDDEN_ATTRIBUTES = frozenset({"style", "id"})
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")
LINK_REL = "nofollow ugc noopener"


def _corpus_dir() -> Path | None:
    path = os.environ.get("FORUM_XSS_CORPUS")
    return Path(path) if path and Path(path).is_dir() else None


def _load_payloads(corpus: Path) -> list[tuple[str, str]]:
    """(id, payload) for every non-empty line of every corpus file.

    Split on "\\n" only: xss_alert.txt has CRLF endings, and IntrudersXSS.txt has a payload
    containing a form feed, which str.splitlines() would wrongly split in two.
    """
    payloads = []
    for file in sorted(corpus.glob("*/*.txt")):
        lines = file.read_text(encoding="utf-8").replace("\r\n", "\n").split("\n")
        payloads += [(f"{file.name}:{number}", line) for number, line in enumerate(lines, start=1) if line]
    return payloads


CORPUS = _corpus_dir()
PAYLOADS = _load_payloads(CORPUS) if CORPUS else []


def require_corpus() -> None:
    if not CORPUS:
        unavailable(
            f"XSS corpus not found (FORUM_XSS_CORPUS={os.environ.get('FORUM_XSS_CORPUS')!r}): "
            "set it to the corpus folder, e.g. /work/shared/data/xss"
        )


def placements(payload: str) -> dict[str, str]:
    """The payload where an author could put it: as the whole post, inside a paragraph,
    and as a link or image target (Markdown's own URL handling is part of the path)."""
    return {
        "raw": payload,
        "in paragraph": f"Some thoughts on independence: {payload} and more text.",
        "link target": f"[x]({payload})",
        "image target": f"![x]({payload})",
    }


def payload_topic(author: User) -> Topic:
    """A topic with every payload of the corpus as one post, placed every way (its subject line too), each post
    an approved example of training: whatever a page or a digest shows of a post, a payload is in it."""
    require_corpus()
    topic = topics.create_topic(author, title="Payloads <script>alert(1)</script> **x**", raw="## Start\n\nWhat is safe to paste here?")
    training = tactics.get_tactic_tag("training")
    with write_unit(db.session):
        created = []
        for _, payload in PAYLOADS:
            raw = "\n\n".join([f"## {payload}", *placements(payload).values(), "Is this one safe?"])
            created.append(posts.append_post(topic, author, raw=raw, cooked=cook(raw)))
        # Approved tags written directly: 846 moderator decisions are not what the tests are about.
        db.session.execute(insert(post_tags), [{"post_id": post.id, "tag_id": training.id} for post in created])
    return db.session.get(Topic, topic.id)
