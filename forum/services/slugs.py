"""URL slugs for topics and categories, as Discourse makes them (ASCII, lowercase, dashes)."""
import re
import unicodedata

MAX_SLUG_LENGTH = 100


def slugify(text: str, fallback: str = "topic") -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:MAX_SLUG_LENGTH].rstrip("-") or fallback
