"""Search results as Discourse's GET /search.json shows them (GroupedSearchResultSerializer)."""
from forum.api.serializers import avatar_template, iso
from forum.api.serializers.categories import site_category
from forum.api.serializers.tags import tag_reference
from forum.api.serializers.users import basic_user
from forum.models import User
from forum.services.categories import CategoryCounts
from forum.services.search import PostHit, SearchResults


def grouped_search_result(results: SearchResults, viewer: User | None) -> dict:
    categories = [
        site_category(
            category,
            results.category_counts.get(category.id, CategoryCounts()),
            results.category_child_ids.get(category.id, []),
            viewer,
        )
        for category in results.categories
    ]
    return {
        "posts": [search_post(hit) for hit in results.posts],
        "users": [basic_user(user) for user in results.users],
        "categories": categories,
        "tags": [tag_reference(tag) for tag in results.tags],
        "groups": [],  # groups have no visibility rules here, so search does not list them
        "grouped_search_result": {
            "more_posts": _more(results.more_posts),
            "more_users": _more(results.more_users),
            "more_categories": _more(results.more_categories),
            "term": results.term,
            "search_log_id": 0,  # searches are not logged
            "more_full_page_results": _more(results.more_posts),
            "can_create_topic": results.can_create_topic,
            "error": None,
            "extra": {},
            "post_ids": [hit.post.id for hit in results.posts],
            "user_ids": [user.id for user in results.users],
            "category_ids": [category.id for category in results.categories],
            "tag_ids": [tag.id for tag in results.tags],
            "group_ids": [],
        },
    }


def _more(more: bool) -> str | None:
    # Discourse sends true or null; the spec types these fields string|null, so "true" stands for true.
    return "true" if more else None


def search_post(hit: PostHit) -> dict:
    """Discourse's SearchPostSerializer; the blurb and the title headline are HTML with highlight spans."""
    post = hit.post
    return {
        "id": post.id,
        "name": post.user.name,
        "username": post.user.username,
        "avatar_template": avatar_template(post.user),
        "created_at": iso(post.created_at),
        "like_count": post.like_count,
        "blurb": hit.blurb,
        "post_number": post.post_number,
        "topic_title_headline": hit.topic_title_headline,
        "topic_id": post.topic_id,
    }
