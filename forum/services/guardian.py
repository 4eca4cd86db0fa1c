"""Who may do what: one function per rule, each raising NotAllowed with the reason.

Plain functions rather than a class: every rule is a pure decision on the user and the object.
"""
from collections.abc import Collection

from flask import current_app
from sqlalchemy import ColumnElement, Select, false, or_, select, true

from forum.extensions import db
from forum.models import Archetype, Category, Post, Topic, User, category_groups, group_users, topic_allowed_users
from forum.services.errors import NotAllowed, NotFound, NotLoggedIn


def allows(rule, *args) -> bool:
    """Whether an ``ensure_*`` rule lets this through: the can_* flags Discourse sends come from the rules. (A reading
    rule refuses with NotFound, so as not to tell what exists; here that is a no too.)"""
    try:
        rule(*args)
    except (NotAllowed, NotFound):
        return False
    return True


def ensure_can_act(user: User | None) -> None:
    if user is None:
        raise NotLoggedIn()
    if not user.is_active:
        raise NotAllowed("Your account is suspended or inactive.")


def ensure_staff(user: User | None) -> None:
    ensure_can_act(user)
    if not user.is_staff:
        raise NotAllowed("Only staff can do that.")


def ensure_admin(user: User | None) -> None:
    ensure_can_act(user)
    if not user.is_admin:
        raise NotAllowed("Only admins can do that.")


def ensure_can_create_topic(user: User | None) -> None:
    ensure_can_act(user)
    _ensure_not_silenced(user)


def ensure_can_be_written_to(user: User, recipient: User) -> None:
    """Who may be sent a private message (by one who may start a topic: ensure_can_create_topic), or invited to a
    topic: anyone but a bot, or oneself."""
    if recipient.id == user.id:
        raise NotAllowed("You cannot send a message or an invitation to yourself.")
    if recipient.is_bot:
        raise NotAllowed(f"{recipient.username} cannot be sent messages or invitations.")


def ensure_can_remove_from_message(user: User | None, topic: Topic, person: User) -> None:
    """Anyone may leave a private message they are among; its author may take others out of it, and admins anyone but
    its author."""
    ensure_can_act(user)
    if person.id == user.id:
        if not is_among(user, topic):
            raise NotAllowed("You are not among the people of this message.")
        return
    if not can_take_others_out(user, topic):
        raise NotAllowed("Only a message's author (or an admin) may take others out of it; anyone may leave it.")
    if person.id == topic.user_id:
        raise NotAllowed("A message's author stays in it unless they leave it themselves.")


def can_take_others_out(user: User | None, topic: Topic) -> bool:
    return (user is not None and topic.is_private_message
            and (user.is_admin or (topic.user_id == user.id and is_among(user, topic))))


def ensure_can_sign_up(user: User | None) -> None:
    """The sign-up form is open, unless the forum admits members by invitation only (INVITE_ONLY), when only staff
    make accounts there."""
    if current_app.config["INVITE_ONLY"] and not (user is not None and user.is_staff):
        raise NotAllowed("This forum admits new members by invitation only.")


def ensure_can_invite_to_forum(user: User | None) -> None:
    """Staff invite people to join; members too when the forum lets them (INVITES_BY_MEMBERS)."""
    ensure_can_create_topic(user)  # signed in, and not silenced
    if not (user.is_staff or current_app.config["INVITES_BY_MEMBERS"]):
        raise NotAllowed("Only staff may invite people to join this forum.")


def _ensure_not_silenced(user: User) -> None:
    """As Discourse's: a silenced member reads, likes and flags, but writes nothing others read until it ends."""
    if user.is_silenced:
        raise NotAllowed(f"You have been silenced until {user.silenced_till:%Y-%m-%d %H:%M} UTC: you cannot post or edit.")


def ensure_can_reply(user: User | None, topic: Topic) -> None:
    ensure_can_act(user)
    _ensure_not_silenced(user)
    if topic.is_deleted:
        raise NotAllowed("This topic has been deleted.")
    if user.is_staff:
        return  # as in Discourse, staff may still post in closed and archived topics
    _ensure_not_archived(topic, "it takes no new replies")
    if topic.closed:
        raise NotAllowed("This topic is closed; it takes no new replies.")


def can_skip_bump(user: User) -> bool:
    """Discourse's can_skip_bump?: staff may edit a topic's last post without bringing the topic up."""
    return user.is_staff


def ensure_can_edit_post(user: User | None, post: Post) -> None:
    """As Discourse's PostGuardian: closing a topic stops replies, not its authors' corrections; archiving freezes it."""
    ensure_can_act(user)
    if user.is_staff:
        return
    if post.user_id != user.id:
        raise NotAllowed("You can only edit your own posts.")
    _ensure_not_silenced(user)
    if post.is_deleted:
        raise NotAllowed("This post has been deleted.")
    if post.locked_at is not None:
        raise NotAllowed("This post is locked: only staff may edit it.")
    _ensure_not_archived(post.topic, "its posts can no longer be edited")


def ensure_can_lock_post(user: User | None) -> None:
    """As Discourse's can_lock_post?: staff lock a post against its author's edits."""
    ensure_can_act(user)
    if not user.is_staff:
        raise NotAllowed("Only staff can lock or unlock a post.")


def ensure_can_delete_post(user: User | None, post: Post) -> None:
    ensure_can_act(user)
    if user.is_staff:
        return
    if post.user_id != user.id:
        raise NotAllowed("You can only delete your own posts.")
    _ensure_not_archived(post.topic, "its posts can no longer be deleted")


def ensure_can_recover_post(user: User | None, post: Post) -> None:
    """Members recover what they deleted themselves, where they could have deleted it (this forum's rule: Discourse
    lets an author withdraw a deletion in an archived topic too)."""
    ensure_can_act(user)
    if user.is_staff:
        return
    if post.user_id != user.id:
        raise NotAllowed("You can only recover your own posts.")
    if post.is_deleted and post.deleted_by_id != user.id:
        raise NotAllowed("Only staff can recover a post that someone else deleted.")
    _ensure_not_silenced(user)
    _ensure_not_archived(post.topic, "its posts can no longer be recovered")


def ensure_can_edit_topic(user: User | None, topic: Topic) -> None:
    """Title and category: the author until the topic is archived (Discourse's can_edit_topic?), staff always."""
    ensure_can_act(user)
    if user.is_staff:
        return
    if topic.user_id != user.id:
        raise NotAllowed("You can only edit your own topics.")
    _ensure_not_silenced(user)
    _ensure_not_archived(topic, "it can no longer be edited")
    # As Discourse's can_edit_topic?: a locked first post locks what the topic says about itself too.
    if db.session.scalar(select(Post.locked_at).where(Post.topic_id == topic.id, Post.post_number == 1)) is not None:
        raise NotAllowed("This topic's first post is locked: only staff may edit the topic.")


def _ensure_not_archived(topic: Topic, consequence: str) -> None:
    if topic.archived:
        raise NotAllowed(f"This topic is archived; {consequence}.")


def ensure_can_like(user: User | None, post: Post) -> None:
    ensure_can_act(user)
    if post.user_id == user.id:
        raise NotAllowed("You cannot like your own post.")
    if post.is_deleted or post.topic.archived:
        raise NotAllowed("This post can no longer be liked.")


def ensure_can_change_preferences(actor: User | None, user: User) -> None:
    """Members manage their own preferences; admins anyone's."""
    ensure_can_act(actor)
    if actor.id != user.id and not actor.is_admin:
        raise NotAllowed("You can only change your own preferences.")


def ensure_can_edit_user(actor: User | None, user: User) -> None:
    """Discourse's can_edit_user?: one's own account, or anyone's for staff."""
    ensure_can_act(actor)
    if actor.id != user.id and not actor.is_staff:
        raise NotAllowed("You can only edit your own account.")


def ensure_can_change_username(actor: User | None, user: User, settled: bool) -> None:
    """Discourse's can_edit_username?: staff rename anyone (only admins an admin); a member renames themselves until
    their account is ``settled`` (has posts, and is older than USERNAME_CHANGE_PERIOD_DAYS), when others know them by
    the name. Never a bot: the forum finds its bots by name."""
    ensure_can_act(actor)
    _ensure_not_a_bot(user, "renamed")
    if actor.is_staff:
        if user.is_admin and not actor.is_admin:
            raise NotAllowed("Only admins can rename an admin.")
        return
    if actor.id != user.id:
        raise NotAllowed("You can only change your own username.")
    if settled:
        raise NotAllowed("Your username can no longer be changed by you: others know you by it. Ask the staff.")


def ensure_can_change_email(actor: User | None, user: User) -> None:
    """Discourse's can_edit_email?, narrowed: a member changes their own address, an admin anyone's. Not moderators:
    one who moved an admin's address to one they read could then reset the admin's password."""
    ensure_can_act(actor)
    _ensure_not_a_bot(user, "given an email address")
    if actor.id != user.id and not actor.is_admin:
        raise NotAllowed("You can only change your own email address.")


def can_see_group_members(viewer: User | None, is_member: bool) -> bool:
    """Who is in a group (and how many): staff and the group's own members (Discourse's members_visibility_level 2),
    since membership can tell who works on what."""
    return viewer is not None and (viewer.is_staff or is_member)


def can_create_tag(user: User | None) -> bool:
    """Discourse's can_create_tag?, with trust following role: staff always, members when MEMBERS_CREATE_TAGS."""
    return user is not None and (user.is_staff or bool(current_app.config["MEMBERS_CREATE_TAGS"]))


def can_see_emails(user: User | None) -> bool:
    """Discourse's can_check_emails?: admins read anyone's email address; moderators only when the forum lets them
    (MODERATORS_VIEW_EMAILS, off by default as Discourse's moderators_view_emails)."""
    if user is None or not user.is_staff:
        return False
    return user.is_admin or bool(current_app.config["MODERATORS_VIEW_EMAILS"])


def ensure_can_check_email(actor: User | None, user: User) -> None:
    """A user's email address: the user's own, or anyone's for those who ``can_see_emails``."""
    ensure_can_act(actor)
    if actor.id != user.id and not can_see_emails(actor):
        raise NotAllowed("You can only see your own email address.")


def can_see_hidden_post(user: User | None, post: Post) -> bool:
    """A post hidden by flags stays readable to staff and to its author, as in Discourse."""
    return user is not None and (user.is_staff or user.id == post.user_id)


def can_read_post_text(user: User | None, post: Post) -> bool:
    """Whether ``user`` may read the post's text (and what it says of it: edits, their reasons, excerpts):
    not when flags hid it, unless ``can_see_hidden_post``."""
    return post.hidden_at is None or can_see_hidden_post(user, post)


def ensure_can_see_edit_history(user: User | None, post: Post) -> None:
    """A post's revisions (the post itself is visible): as Discourse, a hidden post's edits are refused to
    those who may not read its text, rather than shown as edits that changed nothing."""
    if not can_read_post_text(user, post):
        raise NotAllowed("You are not allowed to see this post's edit history.")


def readable_post_texts(user: User | None) -> ColumnElement[bool]:
    """``can_read_post_text`` as a condition on Post, for queries that must not find what they may not show."""
    if user is None:
        return Post.hidden_at.is_(None)
    if user.is_staff:
        return true()
    return Post.hidden_at.is_(None) | (Post.user_id == user.id)


def ensure_can_edit_categories(user: User | None) -> None:
    """Categories are admins' to create and change, as Discourse's CategoriesController."""
    ensure_admin(user)


def ensure_can_review(user: User | None) -> None:
    """The review queue is for staff, as in Discourse."""
    ensure_staff(user)


def ensure_can_flag(user: User | None, post: Post) -> None:
    ensure_can_act(user)
    ensure_can_see_post(user, post)
    if post.user_id == user.id:
        raise NotAllowed("You cannot flag your own post.")
    if post.is_deleted:
        raise NotAllowed("That post has been deleted.")
    if post.hidden_at is not None:  # as Discourse: its flags wait for a moderator, who decides for them all
        raise NotAllowed("That post is hidden until a moderator reviews it; it cannot be flagged again.")


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


# Reading. Restricted content answers 404, as if it did not exist, so its existence does not leak.


def readable_categories(user: User | None) -> ColumnElement[bool]:
    """A condition on Category: the categories ``user`` may read."""
    if user is not None and user.is_staff:
        return true()
    if user is None:
        return Category.read_restricted == false()
    member_of = (
        select(category_groups.c.category_id)
        .join(group_users, group_users.c.group_id == category_groups.c.group_id)
        .where(group_users.c.user_id == user.id)
    )
    return or_(Category.read_restricted == false(), Category.id.in_(member_of))


def readable_topics(user: User | None) -> ColumnElement[bool]:
    """A condition on Topic: the topics ``user`` may open (deleted ones only for staff; private messages only for
    those they are among, and admins)."""
    if user is not None and user.is_staff:
        return _open_messages(user)
    return _live_in_readable_category(user) & _open_messages(user)


def _live_in_readable_category(user: User | None) -> ColumnElement[bool]:
    readable_category_ids = select(Category.id).where(readable_categories(user))
    return Topic.deleted_at.is_(None) & or_(Topic.category_id.is_(None), Topic.category_id.in_(readable_category_ids))


def _open_messages(user: User | None) -> ColumnElement[bool]:
    """A condition on Topic: regular topics, and the private messages ``user`` is among (every one for admins, as in
    Discourse)."""
    if user is not None and user.is_admin:
        return true()
    regular = Topic.archetype == Archetype.REGULAR
    if user is None:
        return regular
    return regular | Topic.id.in_(_message_ids_of(user))


def messages_of(user: User) -> ColumnElement[bool]:
    """A condition on Topic: the live private messages ``user`` is among (their own list and search: in:messages)."""
    return (Topic.archetype == Archetype.PRIVATE_MESSAGE) & Topic.deleted_at.is_(None) & Topic.id.in_(_message_ids_of(user))


def _message_ids_of(user: User) -> Select:
    return select(topic_allowed_users.c.topic_id).where(topic_allowed_users.c.user_id == user.id)


def people_of(topic: Topic) -> Select:
    """The ids of the people a private message is among (its author and those it was sent to), as a query."""
    return select(topic_allowed_users.c.user_id).where(topic_allowed_users.c.topic_id == topic.id)


def listed_topics(user: User | None) -> ColumnElement[bool]:
    """A condition on Topic: the topics lists, search and counts show ``user``: unlisted ones only to
    staff, deleted ones to nobody (staff may still open them, as in Discourse), and no private message (they have
    lists of their own: topic_lists.private_messages)."""
    regular = Topic.archetype == Archetype.REGULAR
    if user is not None and user.is_staff:
        return Topic.deleted_at.is_(None) & regular
    return _live_in_readable_category(user) & (Topic.visible == true()) & regular


def can_see_category(user: User | None, category: Category | None) -> bool:
    return category is None or _can_read_category_id(user, category.id)


def _can_read_category_id(user: User | None, category_id: int) -> bool:
    """By id, so that checking a topic never loads its category."""
    if user is not None and user.is_staff:
        return True
    return bool(db.session.scalar(select(Category.id).where(Category.id == category_id, readable_categories(user))))


def ensure_can_see_category(user: User | None, category: Category | None) -> None:
    if not can_see_category(user, category):
        raise NotFound("That category does not exist.")


def ensure_can_see_topic(user: User | None, topic: Topic) -> None:
    if topic.is_deleted and not (user is not None and user.is_staff):
        raise NotFound("That topic does not exist.")
    if topic.category_id is not None and not _can_read_category_id(user, topic.category_id):
        raise NotFound("That topic does not exist.")
    if topic.is_private_message and not (user is not None and (user.is_admin or is_among(user, topic))):
        raise NotFound("That topic does not exist.")


def is_among(user: User, topic: Topic) -> bool:
    """Whether a private message was sent to ``user`` (or by them)."""
    return db.session.scalar(people_of(topic).where(topic_allowed_users.c.user_id == user.id)) is not None


def topic_readers(topic: Topic, user_ids: Collection[int]) -> set[int]:
    """Of ``user_ids``, those ensure_can_see_topic lets open ``topic``, in one query; of a private message, only those
    it is among (an admin who may open it is told of nothing in it)."""
    query = select(User.id).where(User.id.in_(user_ids))
    if topic.is_private_message:
        query = query.where(User.id.in_(people_of(topic)))
    if topic.is_deleted:
        return set(db.session.scalars(query.where(User.is_staff)))
    if topic.category_id is not None:
        open_to_all = select(Category.id).where(Category.id == topic.category_id, Category.read_restricted == false())
        granted = (
            select(group_users.c.user_id)
            .join(category_groups, category_groups.c.group_id == group_users.c.group_id)
            .where(category_groups.c.category_id == topic.category_id)
        )
        query = query.where(or_(User.is_staff, open_to_all.exists(), User.id.in_(granted)))
    return set(db.session.scalars(query))


def ensure_can_see_personal(actor: User | None, user: User, what: str) -> None:
    """A member's notifications, bookmarks and message lists (``what``) are theirs; admins may read anyone's, as in Discourse."""
    ensure_can_act(actor)
    if actor.id != user.id and not actor.is_admin:
        raise NotAllowed(f"You can only see your own {what}.")


def ensure_can_see_post(user: User | None, post: Post) -> None:
    ensure_can_see_topic(user, post.topic)
    if post.is_deleted and not (user is not None and (user.is_staff or user.id == post.user_id)):
        raise NotFound("That post does not exist.")


def visible_posts(user: User | None) -> ColumnElement[bool]:
    """A condition on Post: which posts ``user`` sees in a topic's stream, lists and exports. It says nothing
    about the topic: callers check that the topic is readable first.

    Deleted posts and whispers are for staff only (a single deleted post stays visible to its author:
    ensure_can_see_post).
    """
    from forum.models import PostType

    if user is not None and user.is_staff:
        return true()
    return Post.deleted_at.is_(None) & (Post.post_type != PostType.WHISPER)


def ensure_can_suspend(actor: User | None, user: User) -> None:
    """Staff suspend someone else, but never one of the forum's bots: the system user fires every timer, and a
    suspended bot would stop them all without a word."""
    _ensure_can_restrict(actor, user, "suspend or unsuspend")
    _ensure_not_a_bot(user, "suspended")


def ensure_can_unsuspend(actor: User | None, user: User) -> None:
    _ensure_can_restrict(actor, user, "suspend or unsuspend")


def ensure_can_silence(actor: User | None, user: User) -> None:
    """As suspending, but never staff (as Discourse's can_silence_user?: staff rules would let them edit on), nor a bot,
    which would post nothing more (the system user's timer notices, the bots' summaries)."""
    _ensure_can_restrict(actor, user, "silence or unsilence")
    _ensure_not_a_bot(user, "silenced")
    if user.is_staff:
        raise NotAllowed("Staff cannot be silenced: change their role first.")


def ensure_can_unsilence(actor: User | None, user: User) -> None:
    _ensure_can_restrict(actor, user, "silence or unsilence")


def ensure_can_deactivate(actor: User | None, user: User) -> None:
    """As suspending: a deactivated bot could no longer act either."""
    _ensure_can_restrict(actor, user, "deactivate")
    _ensure_not_a_bot(user, "deactivated")


def ensure_can_delete_user(actor: User | None, user: User) -> None:
    """As suspending: staff, on someone else, admins only by admins, never a bot."""
    _ensure_can_restrict(actor, user, "delete")
    _ensure_not_a_bot(user, "deleted")


def _ensure_can_restrict(actor: User | None, user: User, action: str) -> None:
    """Staff, on someone else; only an admin acts on an admin."""
    ensure_staff(actor)
    if user.id == actor.id:
        raise NotAllowed(f"You cannot {action} yourself.")
    if user.is_admin and not actor.is_admin:
        raise NotAllowed(f"Only admins can {action} an admin.")


def _ensure_not_a_bot(user: User, done: str) -> None:
    if user.is_bot:
        raise NotAllowed(f"The forum's bots cannot be {done}.")


def ensure_can_anonymize(actor: User | None, user: User) -> None:
    """As Discourse's can_anonymize_user?: staff anonymize members, not staff (demote them first) and not bots."""
    ensure_staff(actor)
    _ensure_not_a_bot(user, "anonymized")
    if user.is_staff:
        raise NotAllowed("Staff accounts cannot be anonymized: change their role first.")
