"""Posts as Discourse shows them, their revisions, and the raw export.

Discourse serialises every post with one PostSerializer, but its OpenAPI file gives each endpoint's post
a schema of its own, several with additionalProperties: false. So the fields every post shape has are
defined once (``_post``), and each shape below adds only what its schema has besides.
"""
import difflib
import html
import re
from itertools import groupby

from forum.api.serializers import avatar_template, iso
from forum.api.serializers.users import display_name, trust_level
from forum.content import cook, excerpt, plain_text
from forum.models import Post, PostActionType, Role, Topic, User
from forum.services import guardian, posts
from forum.services.posts import PostsContext, RevisionView
from forum.services.topics import topic_path

# Discourse's excerpt length for /posts.json.
LATEST_POST_EXCERPT_LENGTH = 300


def category_id(topic: Topic) -> int:
    # Discourse puts every topic in a category (an "uncategorized" one at the least), so its schemas
    # type category_id as a required integer; this forum allows none: 0 then, an id no category has.
    return topic.category_id or 0


def post_url(topic: Topic, post: Post) -> str:
    return topic_path(topic, post.post_number)


def _reply_to_post_number(post: Post) -> str | None:
    # The spec types reply_to_post_number as string|null in every post schema but the replies one.
    return None if post.reply_to_post_number is None else str(post.reply_to_post_number)


def _actions_summary(post: Post, context: PostsContext, *, detailed: bool) -> list[dict]:
    """Discourse's actions_summary, likes only. Most schemas allow just ``id`` and ``can_act`` in an item:
    those get the like item only while the viewer may still like. ``detailed`` adds the count and the
    viewer's own like, where the schema has them."""
    liked = post.id in context.liked_post_ids
    may_like = posts.can_like(context.viewer, post)
    if not detailed:
        return [{"id": PostActionType.LIKE, "can_act": True}] if may_like and not liked else []
    item: dict = {"id": PostActionType.LIKE}
    if post.like_count:
        item["count"] = post.like_count
    if liked:
        item.update(acted=True, can_undo=may_like)
    elif may_like:
        item["can_act"] = True
    return [item] if len(item) > 1 else []


def _post(post: Post, context: PostsContext, *, detailed_actions: bool = False) -> dict:
    user = context.users[post.user_id]
    topic = context.topics[post.topic_id]
    viewer = context.viewer
    hidden = post.hidden_at is not None
    shown = guardian.can_read_post_text(viewer, post)
    return {
        "id": post.id,
        "name": display_name(user),
        "username": user.username,
        "avatar_template": avatar_template(user),
        "created_at": iso(post.created_at),
        "cooked": post.cooked if shown else "",
        "post_number": post.post_number,
        "post_type": post.post_type,
        "updated_at": iso(post.updated_at),
        "reply_count": post.reply_count,
        "reply_to_post_number": _reply_to_post_number(post),
        "quote_count": 0,
        "incoming_link_count": 0,
        "reads": 0,
        "readers_count": 0,
        "score": 0,
        "yours": viewer is not None and viewer.id == post.user_id,
        "topic_id": post.topic_id,
        "topic_slug": topic.slug,
        "display_username": display_name(user),
        "primary_group_name": None,
        "flair_name": None,
        "flair_url": None,
        "flair_bg_color": None,
        "flair_color": None,
        "version": post.version,
        "can_edit": posts.can_edit(viewer, post),
        "can_delete": posts.can_delete(viewer, post),
        "can_recover": posts.can_recover(viewer, post),
        "can_see_hidden_post": hidden and shown,
        "can_wiki": False,
        "user_title": None,
        "bookmarked": post.id in context.bookmarks.post_ids,
        "actions_summary": _actions_summary(post, context, detailed=detailed_actions),
        "moderator": user.role == Role.MODERATOR,
        "admin": user.is_admin,
        "staff": user.is_staff,
        "user_id": user.id,
        "hidden": hidden,
        "trust_level": trust_level(user),
        "deleted_at": iso(posts.deleted_at(post)),
        "user_deleted": False,
        "edit_reason": post.edit_reason if shown else None,
        "can_view_edit_history": shown,
        "wiki": False,
        "reviewable_score_count": 0,
        "reviewable_score_pending_count": 0,
    }


def stream_post(post: Post, context: PostsContext) -> dict:
    """A post in a topic's post_stream: GET /t/{id}.json and GET /t/{id}/posts.json."""
    return {
        **_post(post, context),
        "link_counts": [],
        "read": context.is_read(post),
        "reviewable_id": 0,  # the topic view's schema types it as an integer only
    }


def post_detail(post: Post, context: PostsContext) -> dict:
    """One post with its Markdown: GET /posts/{id}.json, /posts/by_number, recovery, likes."""
    topic = context.topics[post.topic_id]
    return {
        **_post(post, context, detailed_actions=True),
        "posts_count": topic.posts_count,
        "raw": post.raw if guardian.can_read_post_text(context.viewer, post) else "",
        "flair_group_id": None,
        "badges_granted": [],
        "reviewable_id": None,
        "post_url": post_url(topic, post),
    }


def written_post(post: Post, context: PostsContext) -> dict:
    """The post that POST /posts.json and PUT /posts/{id}.json answer with."""
    return {
        **post_detail(post, context),
        "actions_summary": _actions_summary(post, context, detailed=False),
        "draft_sequence": 0,
    }


def latest_post(post: Post, context: PostsContext) -> dict:
    """A post in GET /posts.json's latest_posts."""
    topic = context.topics[post.topic_id]
    readable = guardian.can_read_post_text(context.viewer, post)
    one_line = " ".join(plain_text(post.cooked).split()) if readable else ""
    return {
        **_post(post, context),
        "posts_count": topic.posts_count,
        "topic_title": topic.title,
        "topic_html_title": html.escape(topic.title),
        "category_id": category_id(topic),
        "flair_group_id": None,
        "badges_granted": [],
        "raw": post.raw if readable else "",
        "excerpt": excerpt(post.cooked, LATEST_POST_EXCERPT_LENGTH) if readable else "",
        "truncated": len(one_line) > LATEST_POST_EXCERPT_LENGTH,
        "reviewable_id": None,
        "post_url": post_url(topic, post),
    }


def reply(post: Post, parent: Post, context: PostsContext) -> dict:
    """A post in GET /posts/{id}/replies.json: a direct reply to ``parent``."""
    topic = context.topics[post.topic_id]
    parent_author = context.users[parent.user_id]
    return {
        **_post(post, context),
        "posts_count": topic.posts_count,
        "reply_to_post_number": post.reply_to_post_number,  # this schema types it as an integer
        "reply_to_user": {
            "id": parent_author.id,
            "username": parent_author.username,
            "name": display_name(parent_author),
            "avatar_template": avatar_template(parent_author),
        },
        "flair_group_id": None,
        "reviewable_id": None,
        "post_url": post_url(topic, post),
    }


# Revisions: Discourse's PostRevisionSerializer. Revisions are numbered from 2; "version" N is the post
# after revision N, and version 1 the post as first written.


def revision(view: RevisionView, viewer: User | None) -> dict:
    current = view.revision
    editor = current.user
    earlier = [number for number in view.numbers if number < current.number]
    later = [number for number in view.numbers if number > current.number]
    return {
        "created_at": iso(current.created_at),
        "post_id": view.post.id,
        "previous_hidden": False,
        "current_hidden": False,
        "first_revision": view.numbers[0],
        "previous_revision": earlier[-1] if earlier else None,
        "current_revision": current.number,
        "next_revision": later[0] if later else None,
        "last_revision": view.numbers[-1],
        "current_version": len(earlier) + 2,
        "version_count": len(view.numbers) + 1,
        "username": editor.username_lower,
        "display_username": editor.username,
        "avatar_template": avatar_template(editor),
        "edit_reason": current.edit_reason,
        "body_changes": body_changes(current.raw_before, current.raw_after),
        "can_edit": posts.can_edit(viewer, view.post),
    }


def body_changes(raw_before: str, raw_after: str) -> dict:
    """Discourse's three views of an edit: inline and side-by-side HTML diffs, and a Markdown table."""
    before, after = _html_tokens(cook(raw_before)), _html_tokens(cook(raw_after))
    return {
        "inline": f'<div class="inline-diff">{_inline_diff(before, after)}</div>',
        "side_by_side": '<div class="revision-content">{}</div><div class="revision-content">{}</div>'.format(
            *_side_by_side_diff(before, after)
        ),
        "side_by_side_markdown": _markdown_diff(raw_before, raw_after),
    }


# Token pairs a diff may compare (before's middle length times after's): about 30 ms of difflib at worst.
MAX_DIFF_WORK = 250_000
# Tags, entities, words with the blanks after them, and single other characters: the units the diffs mark.
_HTML_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|\w+[ \t]*|[^<&\w]|&")
_MARKDOWN_TOKEN = re.compile(r"&#?\w+;|\w+[ \t]*|\W")


def _html_tokens(cooked: str) -> list[str]:
    return _HTML_TOKEN.findall(cooked)


def _marked(tokens: list[str], tag: str, *, keep_markup: bool = True) -> str:
    """Runs of text wrapped in <del> or <ins>; markup kept as it is (or dropped), so the result stays well formed."""
    out = []
    for is_markup, run in groupby(tokens, key=lambda token: token.startswith("<")):
        text = "".join(run)
        if not is_markup:
            out.append(f"<{tag}>{text}</{tag}>")
        elif keep_markup:
            out.append(text)
    return "".join(out)


def _inline_diff(before: list[str], after: list[str]) -> str:
    out = []
    for op, b1, b2, a1, a2 in _opcodes(before, after):
        if op == "equal":
            out.append("".join(before[b1:b2]))
            continue
        # Deleted markup is dropped and inserted markup kept, so the inline view nests like the new text.
        out.append(_marked(before[b1:b2], "del", keep_markup=False))
        out.append(_marked(after[a1:a2], "ins"))
    return "".join(out)


def _side_by_side_diff(before: list[str], after: list[str]) -> tuple[str, str]:
    left, right = [], []
    for op, b1, b2, a1, a2 in _opcodes(before, after):
        if op == "equal":
            left.append("".join(before[b1:b2]))
            right.append("".join(after[a1:a2]))
        else:
            left.append(_marked(before[b1:b2], "del"))
            right.append(_marked(after[a1:a2], "ins"))
    return "".join(left), "".join(right)


def _opcodes(before: list[str], after: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes for the part between what the two share at their start and end; where that part is too long
    to compare token by token (the comparison's cost grows with the product of the lengths: two minutes for a
    32,000-character post of repeated words), it is shown replaced whole. Every read pays for the diff, anyone's."""
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end = 0
    while end < min(len(before), len(after)) - start and before[-1 - end] == after[-1 - end]:
        end += 1
    before_end, after_end = len(before) - end, len(after) - end
    middle: list[tuple[str, int, int, int, int]]
    if (before_end - start) * (after_end - start) > MAX_DIFF_WORK:
        middle = [("replace", start, before_end, start, after_end)]
    else:
        matcher = difflib.SequenceMatcher(None, before[start:before_end], after[start:after_end], autojunk=False)
        middle = [(op, b1 + start, b2 + start, a1 + start, a2 + start) for op, b1, b2, a1, a2 in matcher.get_opcodes()]
    shared_start = [("equal", 0, start, 0, start)] if start else []
    shared_end = [("equal", before_end, len(before), after_end, len(after))] if end else []
    return shared_start + [opcode for opcode in middle if opcode[1] < opcode[2] or opcode[3] < opcode[4]] + shared_end


def _markdown_diff(raw_before: str, raw_after: str) -> str:
    before, after = html.escape(raw_before).splitlines(), html.escape(raw_after).splitlines()
    rows = []
    for op, b1, b2, a1, a2 in _opcodes(before, after):
        if op == "equal":
            rows += [(line, line) for line in before[b1:b2]]
            continue
        old, new = before[b1:b2], after[a1:a2]
        for index in range(max(len(old), len(new))):
            if index < len(old) and index < len(new):
                rows.append(_word_diff(old[index], new[index]))
            elif index < len(old):
                rows.append((f'<del>{old[index]}</del>', ""))
            else:
                rows.append(("", f"<ins>{new[index]}</ins>"))
    cells = "".join(f'<tr><td class="--previous">{left}</td><td class="--current">{right}</td></tr>' for left, right in rows)
    return f'<table class="markdown">{cells}</table>'


def _word_diff(old_line: str, new_line: str) -> tuple[str, str]:
    old, new = _MARKDOWN_TOKEN.findall(old_line), _MARKDOWN_TOKEN.findall(new_line)
    left, right = [], []
    for op, o1, o2, n1, n2 in _opcodes(old, new):
        if op == "equal":
            left.append("".join(old[o1:o2]))
            right.append("".join(new[n1:n2]))
            continue
        if o2 > o1:
            left.append(f"<del>{''.join(old[o1:o2])}</del>")
        if n2 > n1:
            right.append(f"<ins>{''.join(new[n1:n2])}</ins>")
    return "".join(left), "".join(right)


def raw_markdown(post: Post, viewer: User | None) -> str:
    """A post's Markdown as /raw shows it: none of a hidden post's for those who may not read it."""
    return post.raw if guardian.can_read_post_text(viewer, post) else ""


def raw_export(exported: list[Post], users: dict[int, User], viewer: User | None) -> str:
    """Discourse's /raw/{topic_id}: each post's Markdown under a "username | date | #n" line."""
    return "".join(
        f"{users[post.user_id].username} | {post.updated_at:%Y-%m-%d %H:%M:%S} UTC | #{post.post_number}\n\n"
        f"{raw_markdown(post, viewer)}\n\n-------------------------\n\n"
        for post in exported
    )
