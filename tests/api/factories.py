"""Rows for API tests, written straight to the database where no service call is the point of the test."""
from sqlalchemy import update

from forum.database import write_unit
from forum.extensions import db
from forum.models import Category, Group, Topic, User, category_groups
from forum.services import topics


def make_category(name: str, *, restricted_to: tuple[User, ...] | None = None, parent: Category | None = None) -> Category:
    """A category, slugged from its name; with ``restricted_to``, read-restricted to a group of exactly those users."""
    with write_unit(db.session):
        category = Category(
            name=name,
            slug=name.lower().replace(" ", "-"),
            read_restricted=restricted_to is not None,
            parent_category_id=parent.id if parent else None,
        )
        db.session.add(category)
        if restricted_to is not None:
            group = Group(name=f"{category.slug}-group", users=list(restricted_to))
            db.session.add(group)
            db.session.flush()
            db.session.execute(category_groups.insert().values(category_id=category.id, group_id=group.id))
    return category


def make_topic(author, n: int, *, category=None, tags=(), **columns) -> Topic:
    """Topic ``n`` (any number), with ``columns`` of the topics row then set directly (times, counts, pins)."""
    topic = topics.create_topic(
        author,
        title=f"Practitioners discuss tactic number {n}",
        raw=f"## Opening {n}\n\nWhat worked for you in case {n}?",
        category=category,
        tag_names=tags,
    )
    if columns:
        set_columns(Topic, topic.id, **columns)
    return topic


def set_columns(model, row_id: int, **values) -> None:
    with write_unit(db.session):
        db.session.execute(update(model).where(model.id == row_id).values(**values))
