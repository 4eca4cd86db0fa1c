"""Thread digests and tactic notebooks (Markdown, HTML, JSON) and Discourse's print view.

Each section is checked against the demo dialogue, with expectations read from ``dialogue.toml`` itself,
and against topics with edge cases: no replies, deleted and hidden posts, an author who opted out of bots,
XSS payloads and Markdown control characters, 1,000 posts. The outputs are read back by real parsers:
markdown-it-py for the Markdown, html5lib (strict: any parse error fails) for the HTML, and jsonschema
against docs/digest-schema.json for the JSON.
"""
import json
import re
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import html5lib
import jsonschema
import pytest
from markdown_it import MarkdownIt

from forum.content import cook
from forum.content.text import plain_text, subject_and_body
from forum.database import write_unit
from forum.extensions import db
from forum.models import Post, Topic, TopicSummary
from forum.models.base import utcnow
from forum.services import bot_preferences, posts, topics, users
from forum.services.digests import Redactor
from tests.api.conftest import recorded_statements
from tests.api.demo_dialogue import APPROVED, DIALOGUE, NAMES, decide, post_of
from tests.api.factories import make_category, set_columns
from tests.api.test_topics import add_whisper
from tests.xss_corpus import PAYLOADS, payload_topic

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO_ROOT / "docs" / "digest-schema.json").read_text())
BASE_URL = "http://127.0.0.1:5000"

MARKDOWN_SECTIONS = [
    "Counts", "Participants", "Guiding questions", "Summary", "Examples by tactic", "Resources mentioned", "Unanswered questions",
]  # fmt: skip


# Helpers: reading outputs back.


def markdown_tokens(text: str, preset: str = "commonmark") -> list:
    """Every token of ``text`` as a Markdown reader parses it, inline children included."""
    flat = []
    for token in MarkdownIt(preset).parse(text):
        flat.append(token)
        flat.extend(token.children or [])
    return flat


def rendered_text(markdown_inline: str) -> str:
    """What a reader shows for one line of Markdown: its text, structure gone."""
    return plain_text(MarkdownIt("commonmark").renderInline(markdown_inline))


def markdown_headings(text: str) -> list[tuple[int, str]]:
    """(level, the text a reader sees) of every heading."""
    tokens = MarkdownIt("commonmark").parse(text)
    return [(int(token.tag[1]), rendered_text(tokens[i + 1].content)) for i, token in enumerate(tokens) if token.type == "heading_open"]


def check_markdown(text: str, allowed_links: set[str] | None) -> list:
    """The Markdown is CommonMark with no HTML, no images, and links only to ``allowed_links`` (any http(s)
    address with None). A GFM-like reader (tables, strikethrough, linkify) turns text that looks like an
    address into a link, which is its choice: there too nothing becomes HTML, an image or a table, and a link
    is only ever to an http(s) or scheme-relative address."""
    tokens = markdown_tokens(text)
    assert not [token for token in tokens if token.type in ("html_block", "html_inline", "image")]
    hrefs = {token.attrs["href"] for token in tokens if token.type == "link_open"}
    assert {urlsplit(href).scheme for href in hrefs} <= {"http", "https"}
    if allowed_links is not None:
        assert hrefs <= allowed_links, hrefs - allowed_links
    for token in markdown_tokens(text, "gfm-like"):
        assert token.type not in ("html_block", "html_inline", "image", "table_open")
        if token.type == "link_open":
            address = urlsplit(token.attrs["href"])
            assert address.scheme in ("http", "https") or (address.scheme == "" and address.netloc), token.attrs["href"]
    return tokens


def parse_html(text: str):
    """The page as a browser reads it; strict: an HTML parse error fails the test."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(text)


def check_html(page: str) -> object:
    """Self-contained and inert: no scripts, frames, external styles or images, no event handlers, and links
    only to http(s) addresses."""
    tree = parse_html(page)
    elements = list(tree.iter())
    assert not [element.tag for element in elements if element.tag in ("script", "iframe", "object", "embed", "link", "img", "form", "base")]
    assert [element.tag for element in elements if element.tag == "style"] == ["style"]
    for element in elements:
        assert not [name for name in element.attrib if name.lower().startswith("on") or name in ("src", "srcset", "style")]
        if element.tag == "a":
            assert urlsplit(element.attrib["href"]).scheme in ("http", "https"), element.attrib["href"]
    return tree


def text_of(element) -> str:
    return " ".join("".join(element.itertext()).split())


def validate_json(document: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(document)


def digest(get, topic_id: int, format: str = "json", user=None, query: str = ""):
    response = get(f"/t/{topic_id}/digest.{format}{query}", user)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    if format == "json":
        validate_json(response.json)
        return response.json
    return response.get_data(as_text=True)


def permalink(topic: Topic, number: int) -> str:
    return f"{BASE_URL}/t/{topic.slug}/{topic.id}/{number}"


# The demo dialogue.


def test_demo_digest_header_counts_and_participants(get, demo):
    document = digest(get, demo.id)
    assert document["schema_version"] == SCHEMA["$defs"]["schema_version"]["const"] and document["kind"] == "topic"
    header = document["topic"]
    assert header["title"] == DIALOGUE["title"] and header["category"] == "Tactics dialogues"
    assert header["closed"] is True and header["closed_at"] is not None  # the demo locks its dialogue
    last = post_of(demo.id, len(DIALOGUE["posts"]))
    assert header["last_posted_at"] == last.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert header["opened_at"] <= header["last_posted_at"] <= header["closed_at"]
    assert header["url"] == f"{BASE_URL}/t/{demo.slug}/{demo.id}"

    by_author = Counter(post["author"] for post in DIALOGUE["posts"])
    assert [(p["username"], p["name"], p["post_count"]) for p in document["participants"]] == [
        (username, NAMES[username], count) for username, count in by_author.items()  # in order of first post
    ]
    approved = Counter(tactic for _, tactic in APPROVED)
    assert document["counts"] == {
        "posts": len(DIALOGUE["posts"]),
        "participants": len(by_author),
        "withheld_posts": 0,
        "opted_out_participants": 0,
        "examples_per_tactic": dict(sorted(approved.items())),
    }


def test_demo_guiding_questions_are_the_opening_posts_questions(get, demo):
    questions = digest(get, demo.id)["guiding_questions"]
    bullets = [line[2:] for line in DIALOGUE["posts"][0]["raw"].splitlines() if line.startswith("- ")]
    assert " ".join(questions) == " ".join(bullets)  # every bullet, sentence by sentence, nothing else
    assert all(question.endswith("?") for question in questions) and len(questions) > len(bullets)


def test_demo_summary_is_the_stored_one_with_permalinks(get, demo):
    summary = digest(get, demo.id)["summary"]
    stored = db.session.get(TopicSummary, demo.id)
    assert summary["outdated"] is False
    assert [point["text"] for point in summary["key_points"]] == [point["text"] for point in stored.key_points]
    for point, stored_point in zip(summary["key_points"], stored.key_points):
        assert [(c["post_number"], c["url"]) for c in point["citations"]] == [
            (number, permalink(demo, number)) for number in stored_point["post_numbers"]
        ]
        assert point["text"] in " ".join(plain_text(post_of(demo.id, stored_point["post_numbers"][0]).cooked).split())


def test_demo_examples_are_the_approved_ones_only_grouped_by_tactic(get, demo):
    groups = digest(get, demo.id)["tactics"]
    expected: dict[str, list[int]] = {}
    for number, tactic in sorted(APPROVED):
        expected.setdefault(tactic, []).append(number)
    assert {group["name"]: [e["post_number"] for e in group["examples"]] for group in groups} == expected
    assert [group["name"] for group in groups] == sorted(expected)  # carrotmob is only pending: absent
    for group in groups:
        assert group["description"] and group["withheld_examples"] == 0
        for example in group["examples"]:
            spec = DIALOGUE["posts"][example["post_number"] - 1]
            assert example["subject"] == spec["raw"].strip().splitlines()[0].removeprefix("## ")
            assert example["author"] == spec["author"]
            assert example["url"] == permalink(demo, example["post_number"])
            body = " ".join(subject_and_body(post_of(demo.id, example["post_number"]).cooked)[1].split())
            assert body.startswith(example["excerpt"].removesuffix("…").rstrip())
            assert 0 < len(example["excerpt"]) <= 300


def test_demo_resources_and_unanswered_questions(get, demo):
    document = digest(get, demo.id)
    raws = [post["raw"] for post in DIALOGUE["posts"]]
    links = [(number, url.rstrip(".")) for number, raw in enumerate(raws, 1) for url in re.findall(r"https?://\S+", raw)]
    assert [(r["url"], [c["post_number"] for c in r["citations"]]) for r in document["resources"]] == [
        (url, [number]) for number, url in links
    ]
    assert [r["organisation"] for r in document["resources"]] == [urlsplit(url).hostname for _, url in links]
    assert not [r for r in document["resources"] if "@" in r["url"]]  # e-mail addresses are contacts, not resources

    replied_to = {post.get("reply_to") for post in DIALOGUE["posts"]}
    asking = {number for number, raw in enumerate(raws, 1) if number > 1 and "?" in raw and number not in replied_to}
    unanswered = document["unanswered_questions"]
    assert {question["post_number"] for question in unanswered} == asking
    for question in unanswered:
        text = " ".join(plain_text(post_of(demo.id, question["post_number"]).cooked).split())
        assert question["text"].endswith("?") and question["text"] in text
        assert question["author"] == DIALOGUE["posts"][question["post_number"] - 1]["author"]


def test_demo_markdown_reads_back_with_every_section(get, demo):
    document = digest(get, demo.id)
    text = digest(get, demo.id, "md")
    allowed = {document["topic"]["url"]} | {r["url"] for r in document["resources"]}
    allowed |= {permalink(demo, number) for number in range(1, len(DIALOGUE["posts"]) + 1)}
    tokens = check_markdown(text, allowed)
    headings = markdown_headings(text)
    assert headings[0] == (1, DIALOGUE["title"])
    assert [title for level, title in headings if level == 2] == MARKDOWN_SECTIONS
    assert [title for level, title in headings if level == 3] == [group["name"] for group in document["tactics"]]
    subjects = [example["subject"] for group in document["tactics"] for example in group["examples"]]
    assert [title for level, title in headings if level == 4] == subjects
    quoted = [rendered_text(tokens[i + 2].content) for i, token in enumerate(tokens) if token.type == "blockquote_open"]
    assert quoted == [example["excerpt"] for group in document["tactics"] for example in group["examples"]]
    listed = [rendered_text(token.content) for token in tokens if token.type == "inline"]
    for question in document["guiding_questions"] + [q["text"] + " (" for q in document["unanswered_questions"]]:
        assert any(line.startswith(question) for line in listed), question


def test_demo_html_is_a_self_contained_printable_page(get, client, demo):
    document = digest(get, demo.id)
    response = client.get(f"/t/{demo.id}/digest.html")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    assert "@media print" in page
    tree = check_html(page)
    assert text_of(tree.find(".//h1")) == DIALOGUE["title"]
    sections = {section.attrib["id"]: section for section in tree.iter("section") if "id" in section.attrib}
    assert set(sections) == {"counts", "participants", "guiding-questions", "summary", "examples", "resources", "unanswered-questions"}
    assert [text_of(li) for li in sections["guiding-questions"].iter("li")] == document["guiding_questions"]
    assert [text_of(h) for h in sections["examples"].iter("h3")] == [group["name"] for group in document["tactics"]]
    excerpts = [text_of(quote) for quote in sections["examples"].iter("blockquote")]
    assert excerpts == [" ".join(e["excerpt"].split()) for group in document["tactics"] for e in group["examples"]]
    assert {a.attrib["href"] for a in sections["resources"].iter("a")} >= {r["url"] for r in document["resources"]}


def test_formats_content_types(client, demo):
    for format, mimetype in (("md", "text/markdown"), ("html", "text/html"), ("json", "application/json")):
        response = client.get(f"/t/{demo.id}/digest.{format}")
        assert (response.status_code, response.mimetype, response.mimetype_params.get("charset")) == (200, mimetype, "utf-8")
    assert client.get(f"/t/{demo.id}/digest.pdf").status_code == 404


# Redaction.


def test_redacted_digest_names_no_one_and_keeps_no_mapping(get, demo):
    plain = digest(get, demo.id)
    document = digest(get, demo.id, query="?redact=1")
    outputs = [json.dumps(document, ensure_ascii=False), digest(get, demo.id, "md", query="?redact=1"),
               digest(get, demo.id, "html", query="?redact=1")]  # fmt: skip
    assert document["redacted"] is True
    names = set(NAMES) | set(NAMES.values()) | {part for name in NAMES.values() for part in re.split(r"[\s-]+", name)}
    for output in outputs:
        for name in names:
            assert not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", output), name
        assert demo.slug not in output  # permalinks leave the slug out
    participants = [(p["username"], p["name"], p["post_count"]) for p in document["participants"]]
    assert participants == [(f"Participant {chr(65 + i)}", None, p["post_count"]) for i, p in enumerate(plain["participants"])]
    # The same person is the same pseudonym everywhere, e.g. as an example's author.
    alias = {p["username"]: a["username"] for p, a in zip(plain["participants"], document["participants"])}
    for plain_group, group in zip(plain["tactics"], document["tactics"]):
        assert [alias[e["author"]] for e in plain_group["examples"]] == [e["author"] for e in group["examples"]]
    # A name inside the text is replaced too: post 17 is "Response to Yuki: ...", and yuki_s posted sixth.
    [example] = [e for group in document["tactics"] for e in group["examples"] if e["post_number"] == 17]
    assert example["subject"] == "Response to Participant F: the preparation is most of the work"


def test_redaction_masks_email_addresses_and_phone_numbers_everywhere(get, member, moderator, make_user):
    topic = topics.create_topic(
        member,
        title="Contacts: write to ana.lopez@example.org",
        raw="## Call +44 20 7946 0958 or ana.lopez@example.org?\n\n"
        "Our office is on 020 7946 0958, ext. mail desk@example.net. Who else keeps a 2019-2021 list of 1,400 names?",
    )
    reply = posts.create_reply(make_user(), topic, raw="## Numbers\n\nTry (555) 123-4567 or 555.123.4567 and ask for Ana.", reply_to_post_number=None)
    decide(moderator, reply, "training", "approve_tag")
    for format in ("json", "md", "html"):
        text = digest(get, topic.id, format, query="?redact=true")
        text = json.dumps(text) if format == "json" else re.sub(r"\\(.)", r"\1", text)  # (Markdown's escapes undone)
        for secret in ("ana.lopez", "desk@", "7946", "0958", "123-4567", "123.4567"):
            assert secret not in text, (format, secret)
        assert "[email hidden]" in text and "[phone hidden]" in text
        assert "2019-2021" in text and "1,400" in text  # not phone numbers
    plain = json.dumps(digest(get, topic.id))
    assert "ana.lopez@example.org" in plain and "7946 0958" in plain


def test_redaction_names_nobody_who_posted_and_masks_contacts_hidden_in_addresses(get, member, moderator, make_user):
    """A deleted post's author and a whisper's are named inside others' posts too; a domain may carry a name; a
    percent-encoded address or number is still one."""
    topic = topics.create_topic(member, title="Who trains the supply chain?", raw="## Start\n\nWhat have you tried?")
    gone = posts.create_reply(make_user(username="zara_gone"), topic, raw="## Gone\n\nSomething later deleted by staff.")
    posts.delete_post(moderator, gone)
    add_whisper(topic, moderator)
    amirah = make_user(username="amirah")
    posts.create_reply(amirah, topic, raw="## My notes\n\nI wrote it up on [my blog](https://amirah.substack.com/p/guards).")
    example = posts.create_reply(member, topic, raw=(
        "## Training guards\n\nThanks zara_gone and moderator (and @lurking.legal-adviser, who never posted): we trained the guards, see "
        "[the form](https://example.org/form?email=ana.lopez%40example.org&tel=%2B442079460958)."))
    decide(moderator, example, "training", "approve_tag")
    for format in ("json", "md", "html"):
        text = digest(get, topic.id, format, query="?redact=1")
        text = json.dumps(text) if format == "json" else re.sub(r"\\(.)", r"\1", text)
        for secret in ("zara_gone", "moderator", "amirah", "ana.lopez", "7946", "lurking", "adviser"):
            assert secret.lower() not in text.lower(), (format, secret)
        assert "@[someone], who never posted" in text, format


def test_redaction_masks_mentions_but_not_times_or_addresses():
    redactor = Redactor([], enabled=True)
    assert redactor.text("Ask @lurking.legal-adviser, not @5pm; write to ana@example.org.") == (
        "Ask @[someone], not @5pm; write to [email hidden].")
    assert Redactor([], enabled=False).text("Ask @lurking.legal-adviser.") == "Ask @lurking.legal-adviser."


def test_an_example_and_its_resources_hold_the_authors_own_words_not_what_they_quote(get, member, moderator, make_user):
    """What a post quotes is someone else's: here an author who opted out of bots, never to be quoted."""
    topic = topics.create_topic(member, title="Who trains the supply chain?", raw="## Start\n\nWhat have you tried?")
    quiet = make_user(username="quiet_one")
    posts.create_reply(quiet, topic, raw="## Mine\n\nOur secret approach went through the guild.")
    bot_preferences.set_bot_opt_out(quiet, "quiet_one", True)
    example = posts.create_reply(member, topic, raw=(
        "## Training guards\n\n> Our secret approach went through [the guild](https://guild.example/quiet).\n\n"
        "We trained the guards ourselves, with [our own guide](https://ngo.example/guide)."))
    decide(moderator, example, "training", "approve_tag")
    document = digest(get, topic.id)
    [group] = document["tactics"]
    assert "secret approach" not in group["examples"][0]["excerpt"] and "trained the guards" in group["examples"][0]["excerpt"]
    assert [resource["url"] for resource in document["resources"]] == ["https://ngo.example/guide"]


def test_an_author_who_opted_out_is_named_by_no_digest_even_unredacted(get, member, moderator, make_user):
    """Counted, never quoted or named: not even where another member's own words name them."""
    topic = topics.create_topic(member, title="Who trains the supply chain?", raw="## Start\n\nWhat have you tried?")
    quiet = users.create_user("quiet_one", email="quiet@example.org", password=None, name="Quinn Quiet")
    posts.create_reply(quiet, topic, raw="## Mine\n\nWe went through the guild of employers.")
    bot_preferences.set_bot_opt_out(quiet, "quiet_one", True)
    example = posts.create_reply(member, topic, raw="## Training guards\n\nLike @quiet_one said, Quinn Quiet and I trained the guards.")
    decide(moderator, example, "training", "approve_tag")
    for path in (f"/t/{topic.id}/digest", "/tag/training/digest"):
        for format in ("json", "md", "html"):
            response = get(f"{path}.{format}")
            text = json.dumps(response.json) if format == "json" else response.get_data(as_text=True)
            assert "quiet_one" not in text and "Quinn" not in text, (path, format)
            assert member.username in text and "trained the guards" in text  # the others are named as they are


def test_control_characters_in_titles_and_posts_leave_every_page_valid_html(client, get, member, moderator, make_user):
    """Titles keep C0 controls and posts keep DEL and C1 ones, which an HTML document may not hold."""
    topic = topics.create_topic(member, title="Escape \x1b and delete \x7f in a title", raw="## Start\n\nWhat breaks a page\x85 here\x9f?")
    example = posts.create_reply(member, topic, raw="## Training\n\nWe trained\x7f the guards\x80 in person.")
    decide(moderator, example, "training", "approve_tag")
    for path in (f"/t/{topic.id}/digest.html", "/tag/training/digest.html", f"/t/{topic.slug}/{topic.id}/print"):
        response = client.get(path)
        assert response.status_code == 200, path
        check_html(response.get_data(as_text=True))


# Edge cases.


XSS_TITLE = "Edge **case** [x](javascript:alert(1)) <b>bold</b> # | `tick` ~~s~~ &amp; \\ end"
XSS_RAW = (
    "## <img src=x onerror=alert(1)> *Subject* with [a link](javascript:alert(2)) and `code` | pipe\n\n"
    "<script>alert(3)</script> Is **this** a [question](https://evil.example/?q=<x>)? "
    '<a href="javascript:alert(4)">click</a> <iframe src="https://evil.example"></iframe>\n\n'
    "# not a heading\n\n1. not a list\n\n> not a quote\n\n- [ ] ![image](https://evil.example/i.png)\n\n"
    "---\n\n| a | b |\n|---|---|\n| c | d |\n\n&lt;script&gt;alert(5)&lt;/script&gt; _under_ ~strike~ \\\\ `` ` ``"
)


@pytest.fixture
def edge(app, member, moderator, make_user):
    """A topic with XSS payloads and Markdown control characters, a deleted post, an author who opted out of
    bots, a hidden post, and a stored summary that predates the opt-out and the hiding."""
    opted_out = make_user(username="quiet_one")
    topic = topics.create_topic(member, title=XSS_TITLE, raw="## Opening\n\nWhat should we ask the company first? Tell us.")
    xss = posts.create_reply(make_user(username="xss_author"), topic, raw=XSS_RAW)  # 2, no reply: its question is unanswered
    deleted = posts.create_reply(member, topic, raw="## Gone\n\nDELETED-SECRET: did anyone see this?")  # 3
    quiet = posts.create_reply(opted_out, topic, raw="## Mine\n\nOPTOUT-SECRET at https://optout.example/page. Why?")  # 4
    hidden = posts.create_reply(member, topic, raw="## Flagged\n\nHIDDEN-SECRET at https://hidden.example/page. Why?")  # 5
    posts.create_reply(member, topic, raw="## Replying to the quiet one\n\nThanks, that helps us a lot.", reply_to_post_number=4)  # 6
    decide(moderator, xss, "training", "approve_tag")
    decide(moderator, quiet, "carrotmob", "approve_tag")
    decide(moderator, hidden, "carrotmob", "approve_tag")
    decide(moderator, deleted, "training", "approve_tag")
    posts.delete_post(moderator, deleted)
    set_columns(Post, hidden.id, hidden_at=utcnow())
    bot_preferences.set_bot_opt_out(opted_out, opted_out.username, True)
    with write_unit(db.session):  # as if summarised before the opt-out and the hiding
        db.session.merge(TopicSummary(
            topic_id=topic.id, algorithm="test", summarized_text="-", highest_post_number=6, content_hash="x",
            key_points=[{"text": "What should we ask the company first?", "post_numbers": [1, 4]},
                        {"text": "OPTOUT-SECRET at the page.", "post_numbers": [4]},
                        {"text": "HIDDEN-SECRET at the page.", "post_numbers": [5, 1]}],
        ))  # fmt: skip
    return db.session.get(Topic, topic.id)


SECRETS = ("DELETED-SECRET", "OPTOUT-SECRET", "HIDDEN-SECRET", "quiet_one", "optout.example", "hidden.example")


def test_deleted_hidden_and_opted_out_posts_are_counted_never_quoted(get, edge, moderator):
    for viewer in (None, moderator):  # staff see deleted posts in the topic, but a digest is the published dialogue
        document = digest(get, edge.id, user=viewer)
        assert document["counts"] == {
            "posts": 5, "participants": 3, "withheld_posts": 2, "opted_out_participants": 1,
            "examples_per_tactic": {"carrotmob": 2, "training": 1},
        }  # fmt: skip
        assert [p["username"] for p in document["participants"]] == ["member", "xss_author"]
        carrotmob = next(group for group in document["tactics"] if group["name"] == "carrotmob")
        assert carrotmob["examples"] == [] and carrotmob["withheld_examples"] == 2
        assert [(p["text"], [c["post_number"] for c in p["citations"]]) for p in document["summary"]["key_points"]] == [
            ("What should we ask the company first?", [1])
        ]
        assert [q["post_number"] for q in document["unanswered_questions"]] == [2]
        for format in ("json", "md", "html"):
            output = json.dumps(digest(get, edge.id, format, user=viewer)) if format == "json" else digest(get, edge.id, format, user=viewer)
            assert not [secret for secret in SECRETS if secret in output], format


def test_xss_payloads_and_markdown_control_characters_stay_text(get, edge):
    document = digest(get, edge.id)
    assert document["topic"]["title"] == XSS_TITLE
    [example] = next(group for group in document["tactics"] if group["name"] == "training")["examples"]
    subject = example["subject"]
    assert "Subject" in subject and "<img" not in subject  # the sanitiser removed the tag; the rest is text

    text = digest(get, edge.id, "md")
    allowed = {document["topic"]["url"]} | {r["url"] for r in document["resources"]} | {permalink(edge, n) for n in range(1, 7)}
    check_markdown(text, allowed)
    # What a reader sees is exactly what was written: user text made no heading, emphasis, code, link or HTML.
    assert markdown_headings(text) == [(1, XSS_TITLE), *[(2, section) for section in MARKDOWN_SECTIONS[:5]], (3, "carrotmob"), (3, "training"),
                                       (4, subject), (2, "Resources mentioned"), (2, "Unanswered questions")]  # fmt: skip
    quoted = [line[2:] for line in text.splitlines() if line.startswith("> ")]
    assert [rendered_text(line) for line in quoted] == [example["excerpt"]]

    tree = check_html(digest(get, edge.id, "html"))
    assert text_of(tree.find(".//h1")) == " ".join(XSS_TITLE.split())
    assert text_of(tree.find(".//section[@id='examples']//h4")) == " ".join(subject.split())
    assert [q["url"] for q in document["unanswered_questions"]] == [permalink(edge, 2)]


def test_a_topic_with_no_replies(get, member):
    topic = topics.create_topic(member, title="A question nobody has answered yet", raw="## Alone\n\nDoes anyone train hotel staff? Please say.")
    document = digest(get, topic.id)
    assert document["counts"] == {"posts": 1, "participants": 1, "withheld_posts": 0, "opted_out_participants": 0, "examples_per_tactic": {}}
    assert document["guiding_questions"] == ["Does anyone train hotel staff?"]
    assert document["unanswered_questions"] == []  # the opening post's questions are the guiding ones
    assert document["tactics"] == [] and document["resources"] == []
    assert document["topic"]["closed"] is False and document["topic"]["closed_at"] is None
    assert document["topic"]["last_posted_at"] == document["topic"]["opened_at"]
    check_markdown(digest(get, topic.id, "md"), {document["topic"]["url"], permalink(topic, 1)})
    check_html(digest(get, topic.id, "html"))


# Permissions.


def test_a_digest_holds_only_what_the_caller_may_see(get, member, admin, make_user, moderator):
    outsider = make_user()
    private = make_category("Private circle", restricted_to=(member,))
    topic = topics.create_topic(
        member, title="Private: our work with the mining company", raw="## Private\n\nIs PRIVATE-SECRET safe to share?", category=private
    )
    reply = posts.create_reply(member, topic, raw="## A private example\n\nWe trained the mine's security staff on rights.")
    decide(moderator, reply, "training", "approve_tag")
    public = topics.create_topic(member, title="Public: training security guards", raw="## Public\n\nWhat worked for you?")
    decide(moderator, posts.create_reply(member, public, raw="## Guards\n\nWe trained guards at the gate every month."), "training", "approve_tag")

    for viewer in (None, outsider):
        for format in ("json", "md", "html"):
            response = get(f"/t/{topic.id}/digest.{format}", viewer)
            assert response.status_code == 404 and response.json["error_type"] == "not_found"
        notebook = get("/tag/training/digest.json", viewer).json
        assert [t["id"] for t in notebook["topics"]] == [public.id]
    assert "PRIVATE-SECRET" in json.dumps(digest(get, topic.id, user=member))
    assert [t["id"] for t in get("/tag/training/digest.json", member).json["topics"]] == [topic.id, public.id]
    topics.delete_topic(admin, topic)
    assert get(f"/t/{topic.id}/digest.json", admin).status_code == 404  # a deleted topic has no digest, for staff neither
    assert get("/t/999999/digest.md").status_code == 404


# The tactic notebook.


def test_tactic_notebook_gathers_approved_examples_across_topics(get, demo, member, moderator):
    other = topics.create_topic(member, title="Another dialogue about training", raw="## Start\n\nWhat did training change for you?")
    extra = posts.create_reply(member, other, raw="## Trainers from the union\n\nUnion trainers ran the sessions for the managers.")
    decide(moderator, extra, "training", "approve_tag")
    decide(moderator, posts.create_reply(member, other, raw="## Not approved\n\nA pending training example sits in the queue."), "training", None)

    notebook = get("/tag/training/digest.json").json
    validate_json(notebook)
    assert notebook["kind"] == "tactic" and notebook["tactic"]["name"] == "training" and notebook["tactic"]["description"]
    grouped = [(t["id"], [e["post_number"] for e in t["examples"]]) for t in notebook["topics"]]
    assert grouped == [(demo.id, sorted(n for n, tactic in APPROVED if tactic == "training")), (other.id, [2])]
    assert notebook["counts"] == {"topics": 2, "examples": 3, "withheld_examples": 0}
    assert notebook["topics"][1]["examples"][0]["subject"] == "Trainers from the union"

    text = get("/tag/training/digest.md").get_data(as_text=True)
    allowed = {t["url"] for t in notebook["topics"]} | {e["url"] for t in notebook["topics"] for e in t["examples"]}
    check_markdown(text, allowed)
    assert markdown_headings(text) == [(1, "Tactic notebook: training")] + [
        heading for t in notebook["topics"] for heading in [(2, t["title"])] + [(3, e["subject"]) for e in t["examples"]]
    ]
    tree = check_html(get("/tag/training/digest.html").get_data(as_text=True))
    assert [text_of(h) for h in tree.iter("h2")] == [t["title"] for t in notebook["topics"]]

    redacted = json.dumps(get("/tag/training/digest.json?redact=1").json)
    assert not [name for name in NAMES if name in redacted] and "member" not in redacted

    assert get("/tag/carrotmob/digest.json").json["topics"] == []  # only pending: nothing
    assert get("/tag/no-such-tactic/digest.md").status_code == 404
    assert get("/tag/dialogue/digest.json").status_code == 404  # a tag, but not a tactic


def test_tactic_notebook_lists_unlisted_topics_to_staff_only(get, member, moderator):
    """A notebook is a list, as /tag/{name}.json is: an unlisted topic opens by its link, but is not listed."""
    unlisted = topics.create_topic(member, title="An unlisted dialogue about training", raw="## Start\n\nWho trained managers?")
    example = posts.create_reply(member, unlisted, raw="## Managers\n\nWe trained the managers of the mill in grievance handling.")
    decide(moderator, example, "training", "approve_tag")
    topics.set_status(moderator, unlisted, "visible", False)

    for viewer in (None, member):
        notebook = get("/tag/training/digest.json", viewer).json
        assert notebook["topics"] == [] and notebook["counts"]["topics"] == 0
        assert "unlisted dialogue" not in get("/tag/training/digest.md", viewer).get_data(as_text=True)
    assert [t["id"] for t in get("/tag/training/digest.json", moderator).json["topics"]] == [unlisted.id]
    assert get(f"/t/{unlisted.id}/digest.json", member).status_code == 200  # by its link


# Size: a fixed number of queries, and the time it takes.


def long_topic(author, repliers, count: int) -> Topic:
    topic = topics.create_topic(author, title=f"A long dialogue of {count} posts", raw="## Start\n\nWhat has worked for you?")
    with write_unit(db.session):
        for n in range(2, count + 1):
            raw = f"## Post {n}\n\nExperience number {n}: see https://example.org/{n % 7}. Could this work elsewhere?"
            posts.append_post(topic, repliers[n % len(repliers)], raw=raw, cooked=cook(raw), reply_to_post_number=n - 1 if n % 3 else None)
    return topic


def test_a_1000_post_topic_takes_as_many_queries_as_a_short_one(app, get, member, make_user, moderator, monkeypatch):
    monkeypatch.setitem(app.config, "BOTS_ENABLED", False)  # 1,000 queued bot tasks are not the point here
    repliers = [make_user() for _ in range(12)]
    short, long = long_topic(member, repliers, 10), long_topic(member, repliers, 1000)
    for topic in (short, long):
        for number in (5, 500):
            if number <= topic.highest_post_number:
                decide(moderator, post_of(topic.id, number), "training", "approve_tag")
        digest(get, topic.id)  # makes the summary: from then on a digest only reads
    queries = {}
    for topic in (short, long):
        with recorded_statements(requests_only=True) as statements:
            digest(get, topic.id)
        queries[topic.id] = len(statements)
    assert queries[short.id] == queries[long.id], queries

    document = digest(get, long.id)
    text, page = digest(get, long.id, "md"), digest(get, long.id, "html")
    assert document["counts"]["posts"] == 1000 and len(document["participants"]) == 13
    assert [e["post_number"] for e in document["tactics"][0]["examples"]] == [5, 500]
    # Posts 3, 6, 9, ... are replied to by none (n+1 replies to n unless n+1 is a multiple of 3), and post 1000 by none.
    assert {q["post_number"] for q in document["unanswered_questions"]} == {n for n in range(2, 1001) if (n + 1) % 3 == 0 or n == 1000}
    assert {r["url"] for r in document["resources"]} == {f"https://example.org/{k}" for k in range(7)}
    check_markdown(text, {document["topic"]["url"], *(r["url"] for r in document["resources"]), *(permalink(long, n) for n in range(1, 1001))})
    check_html(page)


# The XSS corpus, every payload a post of one topic and an approved example.


def test_every_xss_corpus_payload_stays_inert_in_every_format(get, member):
    topic = payload_topic(member)
    document = digest(get, topic.id)
    assert len(document["tactics"][0]["examples"]) == len(PAYLOADS)
    text = digest(get, topic.id, "md")
    check_markdown(text, None)  # (the payloads' own links are too odd to list: any http(s) address passes)
    check_html(digest(get, topic.id, "html"))
    notebook = get("/tag/training/digest.html")
    check_html(notebook.get_data(as_text=True))


# Discourse's print view.


def test_print_view_shows_the_posts_as_the_reader_sees_them(client, get, demo, member, moderator):
    response = client.get(f"/t/{demo.slug}/{demo.id}/print")
    assert response.status_code == 200 and response.mimetype == "text/html"
    tree = parse_html(response.get_data(as_text=True))
    articles = [article for article in tree.iter("article")]
    assert [article.attrib["id"] for article in articles] == [f"post_{n}" for n in range(1, len(DIALOGUE["posts"]) + 1)]
    for article, spec in zip(articles, DIALOGUE["posts"]):
        assert text_of(article.find(".//h2")) == spec["raw"].strip().splitlines()[0].removeprefix("## ")
        assert spec["author"] in text_of(article.find("p"))
    assert client.get(f"/t/{demo.id}/print").get_data() == response.get_data()  # with or without the slug

    topic = topics.create_topic(member, title="A topic with a hidden post", raw="## Start\n\nThe opening post of the topic.")
    posts.create_reply(member, topic, raw="## Payload\n\n<script>alert(1)</script><img src=x onerror=alert(2)> pasted here.")
    printed = parse_html(get(f"/t/{topic.slug}/{topic.id}/print").get_data(as_text=True))
    assert not list(printed.iter("script")) and all("onerror" not in element.attrib for element in printed.iter())
    hidden = posts.create_reply(member, topic, raw="## Flagged\n\nFLAGGED-TEXT in a post.")
    set_columns(Post, hidden.id, hidden_at=utcnow())
    assert "FLAGGED-TEXT" not in get(f"/t/{topic.slug}/{topic.id}/print").get_data(as_text=True)
    assert "FLAGGED-TEXT" in get(f"/t/{topic.slug}/{topic.id}/print", moderator).get_data(as_text=True)
    assert "FLAGGED-TEXT" in get(f"/t/{topic.slug}/{topic.id}/print", member).get_data(as_text=True)  # its author
    private = make_category("Hidden room", restricted_to=(member,))
    secret = topics.create_topic(member, title="A topic in a private room", raw="## Start\n\nOnly the room may read this.", category=private)
    assert get(f"/t/{secret.slug}/{secret.id}/print").status_code == 404
    assert get(f"/t/{secret.slug}/{secret.id}/print", member).status_code == 200
    assert get(f"/raw/{demo.id}").status_code == 200  # Discourse's other export path


def test_redacted_letters_go_to_named_participants_first(get, member, make_user):
    quiet, named = make_user(), make_user()
    topic = topics.create_topic(quiet, title="Who goes first in a redacted digest", raw="## Start\n\nHow did you approach the company?")
    posts.create_reply(member, topic, raw="## Reply\n\nWe trained the company's supervisors first.")
    posts.create_reply(named, topic, raw="## Another\n\nWe joined the sector association instead.")
    bot_preferences.set_bot_opt_out(quiet, quiet.username, True)
    document = digest(get, topic.id, query="?redact=1")
    assert [participant["username"] for participant in document["participants"]] == ["Participant A", "Participant B"]
