"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""
from forum.models.audit import AuditLogEntry
from forum.models.categories import Category
from forum.models.posts import Post, PostRevision, PostType
from forum.models.tags import Tag, TagGroup, post_tags, tag_group_memberships, topic_tags
from forum.models.topics import Topic
from forum.models.users import ApiKey, Role, User

__all__ = [
    "ApiKey",
    "AuditLogEntry",
    "Category",
    "Post",
    "PostRevision",
    "PostType",
    "Role",
    "Tag",
    "TagGroup",
    "Topic",
    "User",
    "post_tags",
    "tag_group_memberships",
    "topic_tags",
]
