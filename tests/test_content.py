"""Behaviour of forum.content: cooking Markdown to safe HTML, plain text and excerpts."""

import html5lib
import pytest

from forum.content import cook, excerpt, plain_text, sanitize_html

LINK_REL = "nofollow ugc noopener"


def _elements(html: str, tag: str | None = None) -> list:
    """The `tag` elements (all, without `tag`) of `html` as a browser would parse it."""
    return list(html5lib.parseFragment(html, namespaceHTMLElements=False).iter(tag))


# --- cook: Markdown ---------------------------------------------------------------------


def test_leading_heading_is_the_subject_line_as_h2():
    cooked = cook("## Some thoughts on independence\n\nWe organised on our own.")
    assert cooked.startswith("<h2>Some thoughts on independence</h2>")


@pytest.mark.parametrize("level", range(1, 7))
def test_every_heading_level_survives(level):
    assert cook("#" * level + " Title") == f"<h{level}>Title</h{level}>\n"


def test_emphasis_strikethrough_and_lists_render():
    cooked = cook("*a* **b** ~~c~~\n\n- one\n- two\n\n3. three")
    assert "<em>a</em> <strong>b</strong> <s>c</s>" in cooked
    assert [li.text for li in _elements(cooked, "li")] == ["one", "two", "three"]
    assert _elements(cooked, "ol")[0].get("start") == "3"


def test_tables_render_without_inline_styles():
    cooked = cook("| Tactic | Posts |\n|:--|--:|\n| carrotmob | 3 |")
    assert [th.text for th in _elements(cooked, "th")] == ["Tactic", "Posts"]
    assert [td.text for td in _elements(cooked, "td")] == ["carrotmob", "3"]
    assert "style" not in cooked


def test_fenced_code_keeps_script_as_escaped_text():
    cooked = cook("```html\n<script>alert(1)</script>\n```")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in cooked
    assert not _elements(cooked, "script")
    assert _elements(cooked, "code")[0].get("class") == "language-html"


def test_inline_code_keeps_script_as_escaped_text():
    cooked = cook("Never write `<script>alert(1)</script>` in a post.")
    assert "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>" in cooked


# --- cook: links and images -------------------------------------------------------------


def test_bare_urls_become_links_with_rel():
    cooked = cook("See https://example.org/tactics?x=1&y=2 and www.newtactics.org.")
    links = _elements(cooked, "a")
    assert [a.get("href") for a in links] == [
        "https://example.org/tactics?x=1&y=2",
        "http://www.newtactics.org",
    ]
    assert all(a.get("rel") == LINK_REL for a in links)


def test_markdown_and_mailto_links_get_rel():
    cooked = cook("[New Tactics](https://www.newtactics.org) or [mail us](mailto:a@example.org)")
    links = _elements(cooked, "a")
    assert [a.get("href") for a in links] == ["https://www.newtactics.org", "mailto:a@example.org"]
    assert all(a.get("rel") == LINK_REL for a in links)


def test_author_rel_and_target_are_replaced_not_merged():
    cooked = cook('<a href="https://example.org" rel="opener noreferrer" target="_blank">x</a>')
    (link,) = _elements(cooked, "a")
    assert link.get("rel") == LINK_REL
    assert link.get("target") is None


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "&#106;avascript:alert(1)",
        "javascript&#x3a;alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    ],
)
def test_dangerous_link_loses_its_href_but_keeps_its_text(href):
    cooked = cook(f'<a href="{href}">click</a>')
    (link,) = _elements(cooked, "a")
    assert link.get("href") is None
    assert link.text == "click"
    assert link.get("rel") == LINK_REL


def test_html5_only_entity_in_href_is_escaped_so_no_scheme_is_formed():
    # In attributes bleach decodes numeric references and only the legacy named entities
    # valid without ";" (&amp;, &eacute;, ...); it escapes the "&" of the others, so the
    # browser sees a literal "&colon;": no scheme, a harmless relative URL.
    (link,) = _elements(cook('<a href="javascript&colon;alert(1)">click</a>'), "a")
    assert link.get("href") == "javascript&colon;alert(1)"


def test_markdown_javascript_link_is_not_a_link():
    assert not _elements(cook("[x](javascript:alert(1))"), "a")


def test_http_images_survive():
    cooked = cook('![A circle](https://example.org/circle.png "Restorative circle")')
    (image,) = _elements(cooked, "img")
    assert dict(image.attrib) == {
        "src": "https://example.org/circle.png",
        "alt": "A circle",
        "title": "Restorative circle",
    }


@pytest.mark.parametrize(
    "src",
    [
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "/relative.png",
        "mailto:a@b.org",
    ],
)
def test_images_lose_non_http_sources(src):
    (image,) = _elements(cook(f'<img src="{src}" alt="x">'), "img")
    assert image.get("src") is None


# --- cook: raw HTML ---------------------------------------------------------------------


def test_allowed_inline_html_survives():
    cooked = cook("Press <kbd>Ctrl</kbd>+<kbd>C</kbd>, H<sub>2</sub>O, x<sup>2</sup>, <del>x</del>")
    assert "<kbd>Ctrl</kbd>+<kbd>C</kbd>" in cooked
    assert "H<sub>2</sub>O, x<sup>2</sup>, <del>x</del>" in cooked


def test_details_and_summary_survive():
    cooked = cook("<details><summary>Spoiler</summary>The topic was locked.</details>")
    assert "<details><summary>Spoiler</summary>The topic was locked.</details>" in cooked


@pytest.mark.parametrize(
    "html",
    [
        '<iframe src="https://example.org"></iframe>',
        '<object data="https://example.org/x.swf"></object>',
        '<embed src="https://example.org/x.swf">',
        '<svg onload="alert(1)"></svg>',
        "<math><mi>x</mi></math>",
        '<form action="https://example.org"><input name="q"><button>go</button></form>',
        '<base href="https://example.org/">',
        '<link rel="stylesheet" href="https://example.org/x.css">',
        '<meta http-equiv="refresh" content="0;url=https://example.org">',
        "<style>body { display: none }</style>",
    ],
)
def test_dangerous_elements_are_removed(html):
    cooked = cook(html)
    assert {element.tag for element in _elements(cooked)} <= {"DOCUMENT_FRAGMENT", "p"}, cooked


def test_disallowed_tags_are_stripped_but_their_text_is_kept():
    cooked = cook('Be <u>bold</u>, <font color="red">loud</font> and <span>clear</span>.')
    assert cooked == "<p>Be bold, loud and clear.</p>\n"


def test_script_text_is_kept_only_as_inert_text():
    cooked = cook("Before <script>alert(1)</script> after")
    assert not _elements(cooked, "script")
    assert plain_text(cooked) == "Before alert(1) after"


def test_event_handler_style_and_id_attributes_are_dropped():
    cooked = cook('<p id="top" style="color: red" onclick="alert(1)" onmouseover="x">Hello</p>')
    assert cooked == "<p>Hello</p>"


def test_comments_are_stripped():
    assert cook("Visible <!-- hidden --> text") == "<p>Visible  text</p>\n"


@pytest.mark.parametrize(
    "raw",
    [
        "## Some thoughts on independence\n\nFirst paragraph.\n\n> quoted *text*",
        "See https://example.org/?a=1&b=2 and [this](http://example.org \"title\")",
        "Tom &amp; Jerry &lt;3 &nbsp; caf&eacute; 5 > 3 < 4 \"quoted\" 'single'",
        "| a | b |\n|---|:-:|\n| 1 | 2 |",
        "```\n<script>alert(1)</script>\n```",
        "- one\n  - nested\n- two\n\n1. first\n2. second",
        '<a href="javascript:alert(1)" rel="opener">x</a> <img src="data:x" onerror="y">',
        "<details open><summary>More</summary>Hidden <kbd>K</kbd></details>",
        "<table><tr><td colspan=2 style=x>cell</td></tr></table>",
        "Control \x0b and \x1f characters, an emoji 🎉 and a zero-width\u200bspace",
        "<p>unclosed <em>emphasis <strong>and strong",
        "![img](https://example.org/a.png) <svg><script>alert(1)</script></svg>",
    ],
)
def test_sanitising_cooked_html_changes_nothing(raw):
    cooked = cook(raw)
    assert sanitize_html(cooked) == cooked


# --- plain_text -------------------------------------------------------------------------


def test_plain_text_separates_blocks_with_blank_lines():
    cooked = cook("## Subject\n\nFirst *paragraph*.\n\n> A quote.\n\nLast.")
    assert plain_text(cooked) == "Subject\n\nFirst paragraph.\n\nA quote.\n\nLast."


def test_plain_text_puts_list_items_and_table_rows_on_lines():
    assert plain_text(cook("Steps:\n\n- one\n- two")) == "Steps:\n\none\ntwo"
    assert plain_text(cook("| a | b |\n|---|---|\n| 1 | 2 |")) == "a b\n1 2"


def test_plain_text_decodes_entities():
    assert plain_text("<p>Tom &amp; Jerry &lt;3 caf&eacute; &#x27;quoted&#39;</p>") == (
        "Tom & Jerry <3 café 'quoted'"
    )


def test_plain_text_normalises_whitespace_but_not_inside_words():
    assert plain_text("<p>  spread \n   over\tlines, in<em>line</em> </p>") == (
        "spread over lines, inline"
    )


def test_plain_text_keeps_code_lines():
    cooked = cook("Code:\n\n```\nif x:\n    y()\n```")
    assert plain_text(cooked) == "Code:\n\nif x:\n    y()"


def test_plain_text_of_nothing_is_empty():
    assert plain_text("") == ""
    assert plain_text("<p> </p><hr>") == ""


# --- excerpt ----------------------------------------------------------------------------

LONG_POST = cook(
    "## Some thoughts on independence\n\n"
    + "Our organisation decided early to keep its independence from donors. " * 10
)


def test_short_text_is_not_cut():
    assert excerpt(cook("A short post &amp; done.")) == "A short post & done."


def test_excerpt_is_one_line():
    assert excerpt(cook("## Subject\n\nBody text.\n\n- item")) == "Subject Body text. item"


def test_long_text_is_cut_on_a_word_boundary_with_an_ellipsis():
    text = plain_text(LONG_POST).replace("\n\n", " ")
    result = excerpt(LONG_POST, max_length=50)
    assert result == "Some thoughts on independence Our organisation…"
    kept = result.removesuffix("…")
    assert text.startswith(kept) and text[len(kept)] == " "


@pytest.mark.parametrize("max_length", [1, 2, 5, 10, 29, 30, 31, 64, 100, 299, 300])
def test_excerpt_never_exceeds_max_length(max_length):
    result = excerpt(LONG_POST, max_length=max_length)
    assert len(result) <= max_length
    assert result.endswith("…")


def test_a_word_longer_than_the_limit_is_cut_inside_the_word():
    assert excerpt(cook("Supercalifragilistic word"), max_length=10) == "Supercali…"


def test_excerpt_decodes_entities_and_counts_characters_not_entities():
    cooked = cook("&lt;&lt;&lt; &amp;&amp;&amp; &eacute;t&eacute; words words")
    assert excerpt(cooked, max_length=16) == "<<< &&& été…"


def test_excerpt_rejects_a_length_that_cannot_hold_anything():
    with pytest.raises(ValueError):
        excerpt(LONG_POST, max_length=0)
