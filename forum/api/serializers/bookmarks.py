"""A member's bookmarks (GET /u/{username}/bookmarks.json) as Discourse's user bookmark list shows them."""
from forum.api.serializers import fancy_title, iso
from forum.api.serializers.posts import category_id
from forum.api.serializers.users import basic_user
from forum.content import excerpt
from forum.services.bookmarks import BookmarkPage, ListedBookmark, bookmarkable_url


def user_bookmark(item: ListedBookmark) -> dict:
    bookmark, topic, post = item.bookmark, item.topic, item.post
    return {
        "id": bookmark.id,
        "created_at": iso(bookmark.created_at),
        "updated_at": iso(bookmark.updated_at),
        "name": bookmark.name,
        "reminder_at": iso(bookmark.reminder_at),
        "pinned": False,
        "title": topic.title,
        "fancy_title": fancy_title(topic.title),
        "excerpt": excerpt(post.cooked),  # listed only while its owner may read it (bookmarks.list_bookmarks)
        "bookmarkable_id": bookmark.bookmarkable_id,
        "bookmarkable_type": bookmark.bookmarkable_type,
        "bookmarkable_url": bookmarkable_url(bookmark, topic, post.post_number),
        "topic_id": topic.id,
        "linked_post_number": post.post_number,
        "deleted": topic.deleted_at is not None or post.deleted_at is not None,
        "hidden": post.hidden_at is not None,
        "category_id": category_id(topic),
        "closed": topic.closed,
        "archived": topic.archived,
        "archetype": topic.archetype,
        "highest_post_number": topic.highest_post_number,
        "bumped_at": iso(topic.bumped_at),
        "slug": topic.slug,
        "user": basic_user(item.author),
    }


def bookmark_page(page: BookmarkPage) -> dict:
    listing = {"bookmarks": [user_bookmark(item) for item in page.bookmarks]}
    if page.more:
        listing["more_bookmarks_url"] = f"/u/{page.user.username}/bookmarks.json?page={page.page + 1}"
    return {"user_bookmark_list": listing}
