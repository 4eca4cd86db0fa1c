"""Plain text and excerpts from cooked HTML."""

import re
from html.parser import HTMLParser

# How far apart the text on either side of an element's start or end tag is kept.
_SPACE, _LINE, _PARAGRAPH = 1, 2, 3
_SEPARATION = {
    **dict.fromkeys(
        ["p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol",
         "table", "hr", "details"],
        _PARAGRAPH,
    ),
    **dict.fromkeys(["li", "tr", "br", "summary"], _LINE),
    # Table cells: keeps "a</td><td>b" from reading as one word "ab".
    **dict.fromkeys(["th", "td"], _SPACE),
}  # fmt: skip
_SEPARATOR_TEXT = {_LINE: "\n", _PARAGRAPH: "\n\n"}

ELLIPSIS = "…"

# A Discourse @mention (a username: letters, digits, "_", "." and "-", starting with a letter or "_", ending on a letter
# or digit; "@5pm" is none). A handle in a link's path (mastodon.social/@name) matches too.
MENTION = re.compile(r"(?<![\w@])@([^\W\d](?:[\w.-]*\w)?)")


class _TextCollector(HTMLParser):
    """Collects an HTML fragment's text block by block, with separators between blocks."""

    def __init__(self, *, without_quotes: bool = False, without_code: bool = False):
        # convert_charrefs decodes entities, also ones split across chunks of data.
        super().__init__(convert_charrefs=True)
        self._without_quotes = without_quotes
        self._without_code = without_code
        self._quote_depth = 0
        self._code_depth = 0
        self.chunks: list[str] = []
        self._pieces: list[str] = []  # the text of the block being collected
        self._separation = 0  # widest break seen since the last block with text
        self._pre_depth = 0
        self._block_is_code = False

    def handle_starttag(self, tag, attrs):
        self._separate(_SEPARATION.get(tag, 0))
        if tag == "pre":
            self._pre_depth += 1
        elif tag == "blockquote":
            self._quote_depth += 1
        elif tag == "code":
            self._code_depth += 1

    def handle_endtag(self, tag):
        if tag == "pre":
            self._pre_depth = max(self._pre_depth - 1, 0)
        elif tag == "blockquote":
            self._quote_depth = max(self._quote_depth - 1, 0)
        elif tag == "code":
            self._code_depth = max(self._code_depth - 1, 0)
        self._separate(_SEPARATION.get(tag, 0))

    def handle_data(self, data):
        if self._without_quotes and self._quote_depth:
            return
        if self._without_code and (self._code_depth or self._pre_depth):
            return
        self._pieces.append(data)
        self._block_is_code = self._pre_depth > 0

    def close(self):
        super().close()
        self._separate(_PARAGRAPH)

    def _separate(self, separation):
        if separation == _SPACE:
            self._pieces.append(" ")
            return
        if not separation:
            return
        text = self._block_text()
        self._pieces = []
        if text:
            if self.chunks:
                self.chunks.append(_SEPARATOR_TEXT[self._separation])
            self.chunks.append(text)
            self._separation = separation
        else:
            # Nothing between two breaks (e.g. "</p><ul>"): the wider one wins.
            self._separation = max(self._separation, separation)

    def _block_text(self):
        text = "".join(self._pieces)
        if self._block_is_code:
            # Code keeps its lines; only the blank edges and trailing spaces go.
            return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))
        return " ".join(text.split())


def plain_text(cooked: str, *, without_quotes: bool = False, without_code: bool = False) -> str:
    """The text of `cooked`: blocks separated by blank lines, list items and table rows by
    newlines, other whitespace collapsed, entities decoded. ``without_quotes`` leaves out blockquotes:
    what the author quoted is someone else's words (the bots read only the author's own). ``without_code`` leaves
    out code, which is written as it is and says nothing to anyone."""
    collector = _TextCollector(without_quotes=without_quotes, without_code=without_code)
    collector.feed(cooked)
    collector.close()
    return "".join(collector.chunks)


def excerpt(cooked: str, max_length: int = 300) -> str:
    """The plain text of `cooked` on one line, cut on a word boundary with an ellipsis
    when longer than `max_length` characters (the ellipsis included)."""
    if max_length < 1:
        raise ValueError("max_length must be at least 1")
    # One line: excerpts are shown in lists (topic lists, search results).
    text = " ".join(plain_text(cooked).split())
    if len(text) <= max_length:
        return text
    budget = max_length - len(ELLIPSIS)
    # The last space at or before the budget ends the last whole word that fits; a
    # single word longer than the budget is cut inside the word.
    cut = text.rfind(" ", 0, budget + 1)
    return text[: cut if cut > 0 else budget].rstrip() + ELLIPSIS


_LEADING_HEADING = re.compile(r"\A\s*<h([1-6])(?:\s[^>]*)?>(.*?)</h\1>", re.DOTALL)


def subject_and_body(cooked: str, *, without_quotes: bool = False) -> tuple[str | None, str]:
    """A post's subject line (its leading heading, as the seed dialogue's posts have) and the plain text
    of the rest; (None, the whole text) for a post that opens with no heading."""
    match = _LEADING_HEADING.match(cooked)
    if match is None:
        return None, plain_text(cooked, without_quotes=without_quotes)
    subject = " ".join(plain_text(match.group(2)).split())
    return subject or None, plain_text(cooked[match.end():], without_quotes=without_quotes)


def with_username_renamed(raw: str, old: str, new: str) -> str:
    """``raw`` with every @mention of ``old`` (in any case), and every quote it is named the author of (Discourse's
    ``[quote="old, post:3, topic:5"]``), made ``new``'s; a handle in a link's path is not a mention."""
    old = old.lower()

    def renamed(match: re.Match) -> str:
        return "@" + new if match[1].lower() == old and not _in_link_path(raw, match) else match[0]

    quoted = re.compile(r'(\[quote=")' + re.escape(old) + r'(?=[,"])', re.IGNORECASE)
    return quoted.sub(lambda match: match[1] + new, MENTION.sub(renamed, raw))


def mentioned_usernames(cooked: str) -> list[str]:
    """The usernames ``cooked`` @mentions in its author's own words (not in quotes or code, nor a handle in a link's
    path such as mastodon.social/@name), lowercased, each once, in the order they first appear."""
    text = plain_text(cooked, without_quotes=True, without_code=True)
    return list(dict.fromkeys(match[1].lower() for match in MENTION.finditer(text) if not _in_link_path(text, match)))


def _in_link_path(text: str, match: re.Match) -> bool:
    """Whether a MENTION match is a handle in a link's path (mastodon.social/@name), which names no member here."""
    return text[match.start() - 1:match.start()] == "/"
