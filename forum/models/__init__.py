"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""
from forum.models.audit import AuditLogEntry
from forum.models.bookmarks import Bookmark, BookmarkableType
from forum.models.categories import Category
from forum.models.email_tokens import EmailToken, EmailTokenPurpose
from forum.models.groups import Group, category_groups, group_users
from forum.models.invites import Invite, invite_groups, invited_users
from forum.models.notifications import Notification, NotificationType
from forum.models.post_actions import PostAction, PostActionType
from forum.models.posts import Post, PostRevision, PostType
from forum.models.reading import NotificationLevel, NotificationReason, TopicUser
from forum.models.review import Reviewable, ReviewableHistory, ReviewableScore, ReviewableStatus, ReviewableType
from forum.models.sessions import UserAuthToken
from forum.models.summaries import TopicSummary
from forum.models.tags import Tag, TagGroup, post_tags, tag_group_memberships, topic_tags
from forum.models.tactics import TacticModel, TacticProfile, TacticScoring
from forum.models.timers import DialogueSchedule, TimerState, TimerType, TopicTimer
from forum.models.topics import Archetype, Topic, topic_allowed_users
from forum.models.users import ApiKey, EmailLevel, Role, User

__all__ = [
    "TacticProfile",
    "TacticScoring",
    "TacticModel",
    "TopicSummary",
    "ReviewableType",
    "ReviewableStatus",
    "ReviewableScore",
    "ReviewableHistory",
    "Reviewable",
    "ApiKey",
    "Archetype",
    "EmailLevel",
    "AuditLogEntry",
    "Bookmark",
    "BookmarkableType",
    "Category",
    "EmailToken",
    "EmailTokenPurpose",
    "Invite",
    "DialogueSchedule",
    "Group",
    "NotificationLevel",
    "Notification",
    "NotificationType",
    "NotificationReason",
    "PostAction",
    "PostActionType",
    "Post",
    "PostRevision",
    "PostType",
    "Role",
    "Tag",
    "TagGroup",
    "TimerState",
    "TimerType",
    "Topic",
    "TopicTimer",
    "TopicUser",
    "User",
    "UserAuthToken",
    "category_groups",
    "invite_groups",
    "invited_users",
    "topic_allowed_users",
    "group_users",
    "post_tags",
    "tag_group_memberships",
    "topic_tags",
]
