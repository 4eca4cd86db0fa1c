"""Every payload of a public XSS corpus, cooked, must come out harmless.

The corpus (PayloadsAllTheThings' intruder lists) lives outside the repository; its folder is
named by FORUM_XSS_CORPUS. Without it these tests skip, unless FORUM_REQUIRE_SERVICES=1 (CI),
where a missing corpus fails.

The output is checked as a browser would see it: parsed by html5lib, a spec-compliant parser
independent of the sanitiser's own parsing. The allowlists below are this test's own on
purpose, so widening the sanitiser's allowlist has to get past this test too.
"""

import os
from pathlib import Path

import html5lib
import pytest

from forum.content import cook

EXPECTED_PAYLOAD_COUNT = 846  # 179 (IntrudersXSS.txt) + 667 (xss_alert.txt)

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
        payloads += [
            (f"{file.name}:{number}", line)
            for number, line in enumerate(lines, start=1)
            if line
        ]
    return payloads


CORPUS = _corpus_dir()
PAYLOADS = _load_payloads(CORPUS) if CORPUS else []


def _require_corpus():
    if CORPUS:
        return
    message = (
        f"XSS corpus not found (FORUM_XSS_CORPUS={os.environ.get('FORUM_XSS_CORPUS')!r}): "
        "set it to the corpus folder, e.g. /work/shared/data/xss"
    )
    if os.environ.get("FORUM_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def test_corpus_has_every_payload():
    _require_corpus()
    assert len(PAYLOADS) == EXPECTED_PAYLOAD_COUNT


def _as_browser_sees_it(html: str):
    return html5lib.parseFragment(html, namespaceHTMLElements=False)


def _whatwg_clean_url(value: str) -> str:
    # As the URL parser does before reading the scheme: trim C0 controls and spaces at
    # both ends, drop ASCII tab and newline anywhere; schemes are case-insensitive.
    trimmed = value.strip("".join(map(chr, range(0x21))))
    return "".join(c for c in trimmed if c not in "\t\n\r").lower()


def _local_name(name: str) -> str:
    # html5lib names foreign attributes "{namespace}name" (e.g. xlink:href).
    return name.rpartition("}")[2]


def _harm_in(html: str) -> list[str]:
    """Every reason `html` would not be safe to put in a page; empty if it is safe."""
    harm = []
    for element in _as_browser_sees_it(html).iter():
        if element.tag == "DOCUMENT_FRAGMENT":
            continue
        if element.tag not in ALLOWED_TAGS:
            # A comment's tag is ElementTree's Comment factory, not a name.
            name = element.tag if isinstance(element.tag, str) else "<!-- comment -->"
            harm.append(f"element {name!r} is not allowed")
        for name, value in element.attrib.items():
            local = _local_name(name).lower()
            if local.startswith("on") or local in FORBIDDEN_ATTRIBUTES:
                harm.append(f"<{element.tag} {name}> is not allowed")
            if local in URL_ATTRIBUTES and _whatwg_clean_url(value).startswith(DANGEROUS_SCHEMES):
                harm.append(f"<{element.tag} {name}={value!r}> has a dangerous scheme")
        if element.tag == "a" and element.get("rel") != LINK_REL:
            harm.append(f"<a rel={element.get('rel')!r}>, expected {LINK_REL!r}")
    return harm


def _placements(payload: str) -> dict[str, str]:
    """The payload where an author could put it: as the whole post, inside a paragraph,
    and as a link or image target (Markdown's own URL handling is part of the path)."""
    return {
        "raw": payload,
        "in paragraph": f"Some thoughts on independence: {payload} and more text.",
        "link target": f"[x]({payload})",
        "image target": f"![x]({payload})",
    }


@pytest.mark.parametrize(("payload_id", "payload"), PAYLOADS, ids=[id_ for id_, _ in PAYLOADS])
def test_payload_is_harmless_once_cooked(payload_id, payload):
    for placement, raw in _placements(payload).items():
        cooked = cook(raw)
        assert not _harm_in(cooked), f"{placement}: {raw!r} -> {cooked!r}"
