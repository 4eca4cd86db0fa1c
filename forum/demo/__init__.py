"""The demo forum: users, categories and threaded dialogues from ``dialogue.toml``, loaded through
the services like any other content. Loading again adds only what is missing."""
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from forum.extensions import db
from forum.models import Category, Role, Topic, TopicSummary
from forum.services import posts, summaries, topics, users

DIALOGUE_FILE = Path(__file__).with_name("dialogue.toml")
ADMIN_USERNAME = "admin"


@dataclass
class DemoResult:
    admin_username: str
    admin_password: str
    users_created: int = 0
    categories_created: int = 0
    topics_created: int = 0
    posts_created: int = 0
    summaries_made: int = 0


def load_demo() -> DemoResult:
    data = tomllib.loads(DIALOGUE_FILE.read_text(encoding="utf-8"))
    admin, password, admin_created = _ensure_admin()
    result = DemoResult(ADMIN_USERNAME, password, users_created=int(admin_created))
    people = {}
    for spec in data["users"]:
        people[spec["username"]] = users.find_by_username(spec["username"])
        if people[spec["username"]] is None:
            people[spec["username"]] = users.create_user(
                spec["username"], email=spec["email"], password=None, name=spec["name"], role=spec["role"], created_by=admin
            )
            result.users_created += 1
    categories = {}
    for spec in data["categories"]:
        categories[spec["slug"]] = db.session.scalar(select(Category).where(Category.slug == spec["slug"]))
        if categories[spec["slug"]] is None:
            categories[spec["slug"]] = _create_category(spec)
            result.categories_created += 1
    for spec in data["topics"]:
        category = categories[spec["category"]]
        if db.session.scalar(select(Topic.id).where(Topic.title == spec["title"], Topic.category_id == category.id)):
            continue
        _create_dialogue(spec, category, people, admin)
        result.topics_created += 1
        result.posts_created += len(spec["posts"])
    # Summarised now, so the dialogues have key points from the first page view (the worker would
    # otherwise backfill them within a few minutes).
    for topic_id in db.session.scalars(select(Topic.id).where(Topic.title.in_([spec["title"] for spec in data["topics"]]))):
        if db.session.get(TopicSummary, topic_id) is None and summaries.summarize_topic(topic_id) is not None:
            result.summaries_made += 1
    return result


def _ensure_admin():
    """The demo admin, with a random password kept in the instance folder so every run can print it."""
    password_file = Path(current_app.instance_path) / "demo-admin-password"
    admin = users.find_by_username(ADMIN_USERNAME)
    if admin is not None and password_file.exists():
        return admin, password_file.read_text().strip(), False
    if admin is not None:
        raise RuntimeError(f"user {ADMIN_USERNAME!r} exists but {password_file} is missing; set a password by hand")
    password = secrets.token_urlsafe(12)
    admin = users.create_user(
        ADMIN_USERNAME, email="admin@demo.invalid", password=password, name="Demo Admin", role=Role.ADMIN
    )
    password_file.write_text(password)
    password_file.chmod(0o600)
    return admin, password, True


def _create_category(spec) -> Category:
    from forum.services.categories import create_category

    return create_category(
        users.get_by_username(ADMIN_USERNAME),
        {name: spec[name] for name in ("name", "slug", "description", "color", "text_color")},
    )


def _create_dialogue(spec, category, people, admin) -> None:
    first, *replies = spec["posts"]
    topic = topics.create_topic(
        people[first["author"]], title=spec["title"], raw=first["raw"], category=category, tag_names=tuple(spec.get("tags", ()))
    )
    for reply in replies:
        posts.create_reply(people[reply["author"]], topic, raw=reply["raw"], reply_to_post_number=reply.get("reply_to"))
    if spec.get("closed"):
        topics.set_status(admin, topic, "closed", True)
