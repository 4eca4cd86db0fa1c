"""Who may do what: one function per rule, each raising NotAllowed with the reason.

Plain functions rather than a class: every rule is a pure decision on the user and the object.
"""
from forum.models import Post, Topic, User
from forum.services.errors import NotAllowed


def ensure_can_act(user: User | None) -> None:
    if user is None:
        raise NotAllowed("You need to be logged in to do that.")
    if not user.is_active:
        raise NotAllowed("Your account is suspended or inactive.")


def ensure_staff(user: User | None) -> None:
    ensure_can_act(user)
    if not user.is_staff:
        raise NotAllowed("Only staff can do that.")


def ensure_can_create_topic(user: User | None) -> None:
    ensure_can_act(user)


def ensure_can_reply(user: User | None, topic: Topic) -> None:
    ensure_can_act(user)
    if topic.is_deleted:
        raise NotAllowed("This topic has been deleted.")
    if user.is_staff:
        return  # as in Discourse, staff may still post in closed and archived topics
    if topic.archived:
        raise NotAllowed("This topic is archived; it takes no new replies.")
    if topic.closed:
        raise NotAllowed("This topic is closed; it takes no new replies.")


def ensure_can_edit_post(user: User | None, post: Post) -> None:
    ensure_can_act(user)
    if user.is_staff:
        return
    if post.user_id != user.id:
        raise NotAllowed("You can only edit your own posts.")
    if post.is_deleted:
        raise NotAllowed("This post has been deleted.")
    if post.topic.closed or post.topic.archived:
        raise NotAllowed("This topic is closed; its posts can no longer be edited.")


def ensure_can_delete_post(user: User | None, post: Post) -> None:
    ensure_can_act(user)
    if user.is_staff:
        return
    if post.user_id != user.id:
        raise NotAllowed("You can only delete your own posts.")
    if post.topic.closed or post.topic.archived:
        raise NotAllowed("This topic is closed; its posts can no longer be deleted.")


def ensure_can_recover_post(user: User | None, post: Post) -> None:
    ensure_can_act(user)
    if user.is_staff or (post.user_id == user.id and post.deleted_by_id == user.id):
        return
    raise NotAllowed("Only staff can recover a post that someone else deleted.")


def ensure_can_change_topic_status(user: User | None) -> None:
    ensure_staff(user)


def ensure_can_delete_topic(user: User | None, topic: Topic) -> None:
    ensure_can_act(user)
    if user.is_staff:
        return
    if topic.user_id != user.id:
        raise NotAllowed("You can only delete your own topics.")
    if topic.posts_count > 1:
        raise NotAllowed("A topic with replies can only be deleted by staff.")
