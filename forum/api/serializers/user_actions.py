"""Discourse's user actions (GET /user_actions.json) as its clients read them."""
from forum.api.serializers import avatar_template, iso
from forum.api.serializers.posts import category_id
from forum.content import excerpt
from forum.services.user_actions import UserAction


def user_action(action: UserAction) -> dict:
    post, topic = action.post, action.post.topic
    return {
        "excerpt": excerpt(post.cooked),  # a hidden post is listed only to those who may read it (user_actions)
        "action_type": int(action.action_type),
        "created_at": iso(action.created_at),
        "avatar_template": avatar_template(action.author),
        "acting_avatar_template": avatar_template(action.acting),
        "slug": topic.slug,
        "topic_id": topic.id,
        "target_user_id": action.owner.id,
        "target_name": action.owner.name,
        "target_username": action.owner.username,
        "post_number": post.post_number,
        # The spec types these three as strings (Discourse sends a number, a boolean and a number).
        "post_id": str(post.id),
        "hidden": "true" if post.hidden_at is not None else None,
        "post_type": str(post.post_type),
        "username": action.author.username,
        "name": action.author.name,
        "user_id": action.author.id,
        "acting_username": action.acting.username,
        "acting_name": action.acting.name,
        "acting_user_id": action.acting.id,
        "title": topic.title,
        "deleted": False,  # deleted posts are not shown
        "action_code": post.action_code,
        "category_id": category_id(topic),
        "closed": topic.closed,
        "archived": topic.archived,
    }
