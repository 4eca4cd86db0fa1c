"""Markdown -> (unsanitised) HTML with markdown-it-py.

The output of this module is NOT safe to show: raw HTML passes through, because Discourse
posts may contain some inline HTML (<kbd>, <details>, ...). Only `forum.content.cook`,
which runs this output through the sanitiser, produces HTML fit for a page.
"""

from markdown_it import MarkdownIt

# Built once: the parser's rule chains are assembled here, and rendering does not mutate
# the instance, so one instance serves every request and thread.
_MARKDOWN = MarkdownIt("commonmark", {"html": True, "linkify": True}).enable(
    ["linkify", "table", "strikethrough"]
)


def render_markdown(raw: str) -> str:
    """Render CommonMark plus GFM tables, strikethrough and bare-URL links to HTML."""
    return _MARKDOWN.render(raw)
