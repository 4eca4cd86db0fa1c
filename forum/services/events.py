"""Domain events (Discourse's DiscourseEvent): services announce what changed, once it has committed.

Bots subscribe to start their tasks and caches subscribe to drop what went stale, so a service never needs
to know who listens. Each signal is sent after the write unit commits and never if it rolls back, so a
listener never acts on rows that were not stored.
"""
from blinker import Namespace

from forum.database import after_commit

_signals = Namespace()

# sender: the post's id; data: topic_id. A member's post (not a small-action post such as "closed this topic").
post_created = _signals.signal("post-created")
post_edited = _signals.signal("post-edited")
# sender: the topic's id. A deleted topic was recovered: its posts are readable again, the bots read them again.
topic_recovered = _signals.signal("topic-recovered")
# sender: the topic's id. Anything a reader of the topic or of topic lists sees changed: posts, status,
# title, category, tags, likes, deletion.
topic_changed = _signals.signal("topic-changed")
# sender: the tag group's id. Its tags or their descriptions changed (tactics are a tag group).
tag_group_changed = _signals.signal("tag-group-changed")
# sender: None. Something every page may show changed: categories, tags, tag groups, groups.
site_changed = _signals.signal("site-changed")


# Each announcement is sent once per write unit, however often the unit's services make it.


def _publish(signal, sender, **data) -> None:
    after_commit(lambda: signal.send(sender, **data), key=(signal.name, sender))


def publish_post_created(post_id: int, topic_id: int) -> None:
    _publish(post_created, post_id, topic_id=topic_id)
    publish_topic_changed(topic_id)


def publish_post_edited(post_id: int, topic_id: int) -> None:
    _publish(post_edited, post_id, topic_id=topic_id)
    publish_topic_changed(topic_id)


def publish_topic_recovered(topic_id: int) -> None:
    _publish(topic_recovered, topic_id)
    publish_topic_changed(topic_id)


def publish_topic_changed(topic_id: int) -> None:
    _publish(topic_changed, topic_id)


def publish_site_changed() -> None:
    _publish(site_changed, None)


def publish_tag_group_changed(tag_group_id: int) -> None:
    _publish(tag_group_changed, tag_group_id)
    publish_site_changed()
