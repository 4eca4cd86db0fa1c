"""The demo dialogue (forum/demo/dialogue.toml) with moderators' decisions on it, for the tests of the pages and
documents made from a thread: digests, tactic notebooks and the print view."""
import tomllib

from sqlalchemy import select

from bots.tactics import Suggestion
from forum.demo import DIALOGUE_FILE, load_demo
from forum.extensions import db
from forum.models import Post, Topic, User
from forum.services import review, tactics

DEMO = tomllib.loads(DIALOGUE_FILE.read_text(encoding="utf-8"))
DIALOGUE = DEMO["topics"][0]
NAMES = {user["username"]: user["name"] for user in DEMO["users"]}

# Approved and other decisions on the demo dialogue: (post number, tactic).
APPROVED = [(3, "training"), (19, "training"), (6, "membership-association"), (15, "restorative-circle"), (17, "restorative-circle")]
PENDING = [(12, "carrotmob")]
REJECTED = [(4, "training")]


def suggest(post: Post, tactic: str):
    tags = {tag.name: tag for tag in tactics.tactic_tags()}
    [item] = review.file_tactic_suggestions(post, [Suggestion(tactic, 0.9, ("evidence",), "test-1")], tags)
    return item


def decide(moderator: User, post: Post, tactic: str, action: str | None) -> None:
    item = suggest(post, tactic)
    if action is not None:
        review.perform(moderator, item.id, action, version=item.version)


def post_of(topic_id: int, number: int) -> Post:
    return db.session.scalar(select(Post).where(Post.topic_id == topic_id, Post.post_number == number))


def load_decided_demo(moderator: User) -> Topic:
    """The demo forum, its first dialogue's suggestions approved, left pending and rejected as above."""
    load_demo()
    topic = db.session.scalar(select(Topic).where(Topic.title == DIALOGUE["title"]))
    for number, tactic in APPROVED:
        decide(moderator, post_of(topic.id, number), tactic, "approve_tag")
    for number, tactic in PENDING:
        decide(moderator, post_of(topic.id, number), tactic, None)
    for number, tactic in REJECTED:
        decide(moderator, post_of(topic.id, number), tactic, "reject_tag")
    return db.session.get(Topic, topic.id)
