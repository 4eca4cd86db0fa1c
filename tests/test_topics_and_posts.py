import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import AuditLogEntry, Post, PostRevision, PostType, Topic
from forum.models.audit import AuditLogIsAppendOnly
from forum.services import posts, topics
from forum.services.errors import NotAllowed, ValidationFailed

OPENING = "## Guiding questions\n\nWhat has worked when you engaged a company directly?"
REPLY = "## Response to the opening\n\nTraining supplier managers changed more than audits did."


@pytest.fixture
def topic(member):
    return topics.create_topic(member, title="How do NGOs work with companies?", raw=OPENING)


def test_new_topic_has_first_post_with_subject_line_cooked(topic, member):
    first = db.session.scalar(select(Post).where(Post.topic_id == topic.id))
    assert first.post_number == 1
    assert first.raw == OPENING
    assert "<h2>Guiding questions</h2>" in first.cooked
    assert topic.slug == "how-do-ngos-work-with-companies"
    assert (topic.highest_post_number, topic.posts_count, topic.reply_count) == (1, 1, 0)
    assert topic.last_post_user_id == member.id


def test_replies_are_numbered_in_order_and_counted(topic, member, make_user):
    other = make_user()
    second = posts.create_reply(other, topic, raw=REPLY, reply_to_post_number=1)
    third = posts.create_reply(member, topic, raw=REPLY + " Indeed.", reply_to_post_number=2)
    assert (second.post_number, third.post_number) == (2, 3)
    db.session.refresh(topic)
    assert (topic.highest_post_number, topic.posts_count, topic.reply_count) == (3, 3, 2)
    first = db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.post_number == 1))
    assert first.reply_count == 1
    assert second.reply_count == 1


@pytest.mark.parametrize("reply_to", [2, 99, 0])
def test_reply_to_a_post_outside_the_topic_is_refused_and_nothing_stored(topic, member, reply_to):
    with pytest.raises(ValidationFailed):
        posts.create_reply(member, topic, raw=REPLY, reply_to_post_number=reply_to)
    assert db.session.scalar(select(func.count()).select_from(Post)) == 1
    db.session.refresh(topic)
    assert topic.highest_post_number == 1


def test_reply_to_post_of_another_topic_is_refused(topic, member):
    other_topic = topics.create_topic(member, title="Another topic on buycotts", raw=OPENING)
    posts.create_reply(member, other_topic, raw=REPLY)
    with pytest.raises(ValidationFailed):
        posts.create_reply(member, topic, raw=REPLY, reply_to_post_number=2)


@pytest.mark.parametrize("raw", ["", "   ", "too short", None])
def test_blank_or_short_posts_are_refused(topic, member, raw):
    with pytest.raises(ValidationFailed):
        posts.create_reply(member, topic, raw=raw)


@pytest.mark.parametrize("title", ["", "short", "x" * 256])
def test_bad_titles_are_refused_and_no_topic_is_stored(member, title):
    with pytest.raises(ValidationFailed):
        topics.create_topic(member, title=title, raw=OPENING)
    assert db.session.scalar(select(func.count()).select_from(Topic)) == 0


def test_edit_keeps_a_revision_and_bumps_the_version(topic, member):
    first = db.session.scalar(select(Post).where(Post.topic_id == topic.id))
    posts.edit_post(member, first, raw=OPENING + "\n\nAdded a question.", edit_reason="typo")
    assert first.version == 2
    assert "Added a question." in first.cooked
    revision = db.session.scalar(select(PostRevision).where(PostRevision.post_id == first.id))
    assert (revision.number, revision.raw_before, revision.edit_reason) == (2, OPENING, "typo")
    posts.edit_post(member, first, raw=first.raw)  # unchanged: no new revision
    assert first.version == 2
    assert db.session.scalar(select(func.count()).select_from(PostRevision)) == 1


def test_members_edit_only_their_own_posts_and_staff_any(topic, member, make_user, moderator):
    first = db.session.scalar(select(Post).where(Post.topic_id == topic.id))
    with pytest.raises(NotAllowed):
        posts.edit_post(make_user(), first, raw=OPENING + " (hijacked)")
    posts.edit_post(moderator, first, raw=OPENING + " (moderated)", edit_reason="clarity")
    assert first.raw.endswith("(moderated)")
    audit = db.session.scalar(select(AuditLogEntry).where(AuditLogEntry.action == "post.edit"))
    assert audit.actor_id == moderator.id


def test_delete_and_recover_a_reply_adjust_counts(topic, member, make_user):
    reply = posts.create_reply(member, topic, raw=REPLY)
    with pytest.raises(NotAllowed):
        posts.delete_post(make_user(), reply)
    posts.delete_post(member, reply)
    db.session.refresh(topic)
    assert reply.is_deleted and reply.raw == REPLY
    assert (topic.posts_count, topic.reply_count) == (1, 0)
    with pytest.raises(NotAllowed):
        posts.recover_post(make_user(), reply)
    posts.recover_post(member, reply)
    db.session.refresh(topic)
    assert not reply.is_deleted
    assert (topic.posts_count, topic.reply_count) == (2, 1)


def test_a_deleted_reply_stops_counting_on_the_post_it_answers(topic, member, make_user):
    """As Discourse recounts the answered post's replies when one is deleted; a recovered reply counts again."""
    first = db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.post_number == 1))
    answers = [posts.create_reply(make_user(), topic, raw=REPLY, reply_to_post_number=1) for _ in range(2)]
    posts.delete_post(answers[0].user, answers[0])
    db.session.refresh(first)
    assert first.reply_count == 1
    posts.recover_post(answers[0].user, answers[0])
    db.session.refresh(first)
    assert first.reply_count == 2


def test_author_cannot_recover_a_post_staff_deleted(topic, member, moderator):
    reply = posts.create_reply(member, topic, raw=REPLY)
    posts.delete_post(moderator, reply)
    with pytest.raises(NotAllowed):
        posts.recover_post(member, reply)
    posts.recover_post(moderator, reply)
    assert not reply.is_deleted


def test_deleting_the_first_post_deletes_the_topic(topic, member):
    first = db.session.scalar(select(Post).where(Post.topic_id == topic.id))
    posts.delete_post(member, first)
    assert topic.is_deleted
    with pytest.raises(NotAllowed):
        posts.create_reply(member, topic, raw=REPLY)


def test_closing_leaves_a_small_action_post_and_an_audit_record(topic, moderator):
    topics.set_status(moderator, topic, "closed", True)
    assert topic.closed
    action = db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.post_number == 2))
    assert (action.post_type, action.action_code, action.user_id) == (PostType.SMALL_ACTION, "closed.enabled", moderator.id)
    entry = db.session.scalar(select(AuditLogEntry).where(AuditLogEntry.action == "topic.closed.enabled"))
    assert (entry.actor_id, entry.subject_id, entry.before, entry.after) == (moderator.id, topic.id, {"closed": False}, {"closed": True})
    # Closing again is a no-op: no second small action, no second record.
    topics.set_status(moderator, topic, "closed", True)
    assert db.session.scalar(select(func.count()).select_from(AuditLogEntry).where(AuditLogEntry.subject_type == "topic")) == 1
    db.session.refresh(topic)
    assert topic.highest_post_number == 2
    assert topic.reply_count == 0  # small actions are not replies


def test_closed_topic_refuses_members_and_stores_nothing_but_staff_may_post(topic, member, moderator):
    topics.set_status(moderator, topic, "closed", True)
    with pytest.raises(NotAllowed) as refused:
        posts.create_reply(member, topic, raw=REPLY)
    assert refused.value.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Post).where(Post.user_id == member.id)) == 1
    staff_post = posts.create_reply(moderator, topic, raw=REPLY)
    assert staff_post.post_number == 3
    topics.set_status(moderator, topic, "closed", False)
    assert posts.create_reply(member, topic, raw=REPLY).post_number == 5


def test_archived_topic_refuses_members_edits(topic, member, moderator):
    first = db.session.scalar(select(Post).where(Post.topic_id == topic.id))
    topics.set_status(moderator, topic, "archived", True)
    with pytest.raises(NotAllowed):
        posts.edit_post(member, first, raw=OPENING + " later")
    with pytest.raises(NotAllowed):
        posts.create_reply(member, topic, raw=REPLY)


def test_only_staff_change_status(topic, member):
    with pytest.raises(NotAllowed):
        topics.set_status(member, topic, "closed", True)
    db.session.refresh(topic)
    assert not topic.closed


def test_unknown_status_is_invalid(topic, moderator):
    from forum.services.errors import InvalidParameters

    with pytest.raises(InvalidParameters):
        topics.set_status(moderator, topic, "melted", True)


def test_suspended_member_cannot_post(topic, member):
    from datetime import timedelta

    from forum.database import write_unit
    from forum.models.base import utcnow

    with write_unit(db.session):
        member.suspended_till = utcnow() + timedelta(days=1)
    with pytest.raises(NotAllowed):
        posts.create_reply(member, topic, raw=REPLY)


def test_audit_log_is_append_only(topic, moderator):
    topics.set_status(moderator, topic, "closed", True)
    entry = db.session.scalar(select(AuditLogEntry))
    entry.action = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(AuditLogEntry)))
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()


def test_tags_on_a_new_topic_are_normalised(member):
    topic = topics.create_topic(member, title="Buycott planning checklist", raw=OPENING, tag_names=("Carrotmob", "buycott", "carrotmob"))
    assert [tag.name for tag in topic.tags] == ["buycott", "carrotmob"]
