"""HTML sanitising with an explicit allowlist.

This is the only module that knows the sanitising library (bleach), so replacing the
library changes this module and nothing else.
"""

import threading

from bleach.html5lib_shim import Filter
from bleach.sanitizer import Cleaner

# Everything else (script, style, iframe, object, embed, svg, math, forms, base, link,
# meta, ...) is stripped; the text between a stripped tag's start and end is kept, as text.
ALLOWED_TAGS = frozenset(
    {
        "h1", "h2", "h3", "h4", "h5", "h6",
        "p", "br", "hr", "blockquote", "pre", "code",
        "em", "strong", "del", "s", "kbd", "sup", "sub",
        "ul", "ol", "li",
        "a", "img",
        "table", "thead", "tbody", "tr", "th", "td",
        "details", "summary",
    }
)  # fmt: skip

ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

LINK_REL = "nofollow ugc noopener"


def _allow_img_attribute(tag: str, name: str, value: str) -> bool:
    # Images are ordinary in Discourse posts (`![alt](url)`), so img is allowed, but only
    # with an absolute http(s) src: no data: (a classic filter bypass), no javascript:,
    # no mailto: or relative oddities. bleach hands us the value with entities undecoded,
    # so a literal prefix match cannot be fooled by an encoded scheme.
    if name == "src":
        return value.lower().startswith(("http://", "https://"))
    return name in ("alt", "title")


def _allow_code_attribute(tag: str, name: str, value: str) -> bool:
    # Fenced code blocks carry their language (```python -> class="language-python") for
    # client-side highlighting; no other class may borrow the site's styles.
    return name == "class" and value.startswith("language-")


# No on*, style or id anywhere: not listed, so dropped. `rel` is set by _LinkRelFilter.
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title"],
    "img": _allow_img_attribute,
    "code": _allow_code_attribute,
    "ol": ["start"],
    "th": ["colspan", "rowspan"],
    "td": ["colspan", "rowspan"],
    "details": ["open"],
}


class _LinkRelFilter(Filter):
    """Give every link the same rel; the author's own rel was already dropped."""

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] == "StartTag" and token["name"] == "a":
                token["data"][(None, "rel")] = LINK_REL
            yield token


_per_thread = threading.local()


def _cleaner() -> Cleaner:
    # A bleach Cleaner keeps parser state between calls and is documented as not
    # thread-safe, so each thread builds its own once and reuses it.
    cleaner = getattr(_per_thread, "cleaner", None)
    if cleaner is None:
        cleaner = _per_thread.cleaner = Cleaner(
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            protocols=ALLOWED_PROTOCOLS,
            strip=True,
            strip_comments=True,
            filters=[_LinkRelFilter],
        )
    return cleaner


def sanitize_html(html: str) -> str:
    """Return `html` reduced to the allowlist; safe to embed in a page."""
    return _cleaner().clean(html)
