"""Post content: Markdown ("raw") -> sanitised HTML ("cooked"), plain text and excerpts.

`cook` is the only way to turn what an author wrote into HTML for a page: the Markdown
renderer lets raw HTML through, and the sanitiser's allowlist decides what survives.
"""

from forum.content.markdown import render_markdown
from forum.content.sanitizer import sanitize_html
from forum.content.text import excerpt, plain_text

__all__ = ["cook", "excerpt", "plain_text", "sanitize_html"]


def cook(raw: str) -> str:
    """Render a post's Markdown to HTML that is safe to show."""
    return sanitize_html(render_markdown(raw))
