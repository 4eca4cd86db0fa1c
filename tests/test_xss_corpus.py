"""Every payload of a public XSS corpus, cooked, must come out harmless.

The output is checked as a browser would see it: parsed by html5lib, a spec-compliant parser
independent of the sanitiser's own parsing, against the tests' own allowlists (tests/xss_corpus.py).
Chromium itself reads the payloads in tests/api/test_pages_in_browser.py.
"""

import html5lib
import pytest

from forum.content import cook
from tests.xss_corpus import (
    ALLOWED_TAGS,
    DANGEROUS_SCHEMES,
    EXPECTED_PAYLOAD_COUNT,
    FORBIDDEN_ATTRIBUTES,
    LINK_REL,
    PAYLOADS,
    URL_ATTRIBUTES,
    placements,
    require_corpus,
)


def test_corpus_has_every_payload():
    require_corpus()
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


@pytest.mark.parametrize(("payload_id", "payload"), PAYLOADS, ids=[id_ for id_, _ in PAYLOADS])
def test_payload_is_harmless_once_cooked(payload_id, payload):
    for placement, raw in placements(payload).items():
        cooked = cook(raw)
        assert not _harm_in(cooked), f"{placement}: {raw!r} -> {cooked!r}"
