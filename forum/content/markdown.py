"""Markdown -> (unsanitised) HTML with markdown-it-py.

The output of this module is NOT safe to show: raw HTML passes through, because Discourse
posts may contain some inline HTML (<kbd>, <details>, ...). Only `forum.content.cook`,
which runs this output through the sanitiser, produces HTML fit for a page.
"""

import re

from markdown_it import MarkdownIt

# Built once: the parser's rule chains are assembled here, and rendering does not mutate
# the instance, so one instance serves every request and thread.
_MARKDOWN = MarkdownIt("commonmark", {"html": True, "linkify": True}).enable(
    ["linkify", "table", "strikethrough"]
)


def render_markdown(raw: str) -> str:
    """Render CommonMark plus GFM tables, strikethrough and bare-URL links to HTML."""
    return _MARKDOWN.render(raw)


# Characters that can make structure anywhere in a line (emphasis, code, links, HTML, entities, tables,
# strikethrough); backslash-escaping any ASCII punctuation is valid CommonMark, so escaping is always safe.
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~!#])")
# What makes structure only at the start of a line: list items, thematic breaks, setext underlines.
_LINE_START_SPECIAL = re.compile(r"^(\d+)([.)])|^([-+=])")


def escape_markdown(text: str) -> str:
    """``text`` on one line, as Markdown that renders to exactly that text and nothing else: what a member
    wrote can add no heading, list, link, image, HTML or emphasis to a document built around it."""
    line = _INLINE_SPECIAL.sub(r"\\\1", " ".join(text.split()))
    return _LINE_START_SPECIAL.sub(lambda match: f"{match[1]}\\{match[2]}" if match[1] else f"\\{match[3]}", line)
