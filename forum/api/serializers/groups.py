"""Groups as Discourse's group endpoints show them (BasicGroupSerializer, GroupShowSerializer, GroupUserSerializer).

Settings this forum has no notion of (flair, titles, mentions and messages, email, automatic membership, notification
defaults) carry Discourse's defaults for a plain group.
"""
from datetime import datetime
from urllib.parse import urlencode

from forum.api.serializers import avatar_template, iso
from forum.services.groups import GroupPage, Member, MemberPage, ShownGroup

# Discourse's Group.visibility_levels: the group is public (its name is in /site.json), its members are not
# (groups.ensure_can_see_members: staff and the group's own members).
PUBLIC, MEMBERS = 0, 2
NOBODY = 0  # Discourse's Group::ALIAS_LEVELS: no one may @mention or message the group
WATCHING = 3  # Discourse's default_notification_level of a new group


def basic_group(shown: ShownGroup) -> dict:
    """Discourse's BasicGroupSerializer, as POST /admin/groups.json answers it; the others add to it."""
    group = shown.group
    return {
        "id": group.id,
        "automatic": False,
        "name": group.name,
        **({"user_count": shown.user_count} if shown.can_see_members else {}),
        "mentionable_level": NOBODY,
        "messageable_level": NOBODY,
        "visibility_level": PUBLIC,
        "primary_group": False,
        "title": None,
        "grant_trust_level": None,
        "incoming_email": None,
        "has_messages": False,
        "flair_url": None,
        "flair_bg_color": None,
        "flair_color": None,
        "bio_raw": None,
        "bio_cooked": None,
        "bio_excerpt": None,
        "public_admission": False,
        "public_exit": False,
        "allow_membership_requests": False,
        "full_name": group.full_name,
        "default_notification_level": WATCHING,
        "membership_request_template": None,
        "members_visibility_level": MEMBERS,
        "can_see_members": shown.can_see_members,
        "can_admin_group": shown.can_manage,
        "can_edit_group": shown.can_manage,
        "publish_read_state": False,
    }


def users_group(shown: ShownGroup) -> dict:
    """A group on its member's page (GET /u/{username}.json, shown to the member and to staff, who see its size), and
    on the admin user page (GET /admin/users/{id}.json)."""
    group = basic_group(shown)
    del group["can_edit_group"]  # not in that schema
    return {**group, "display_name": shown.group.name}


def group_page(page: GroupPage) -> dict:
    """GET /groups.json. As Discourse, load_more_groups always names the next page, an empty one past the end."""
    following = urlencode({"page": page.page + 1, **({"type": page.type_filter} if page.type_filter else {})})
    return {
        "groups": [_listed_group(shown) for shown in page.groups],
        "extras": {"type_filters": page.type_filters},
        "total_rows_groups": page.total,
        "load_more_groups": f"/groups?{following}",
    }


def _listed_group(shown: ShownGroup) -> dict:
    # Discourse names automatic groups (admins, trust_level_0, ...) in display_name; any other group by its name.
    listed = {"display_name": shown.group.name, "is_group_user": shown.is_member, "is_group_owner": False}
    return {**basic_group(shown), **listed}


def group_detail(shown: ShownGroup, visible_group_names: list[str]) -> dict:
    """GET /groups/{name}.json and /groups/by-id/{id}.json."""
    no_email = dict.fromkeys(("automatic_membership_email_domains", "smtp_server", "smtp_port", "smtp_ssl_mode",
                              "email_username", "email_password"))  # fmt: skip
    no_category_defaults = {
        f"{level}_category_ids": [] for level in ("watching", "tracking", "watching_first_post", "regular", "muted")
    }
    group = {
        **basic_group(shown),
        "is_group_user": shown.is_member,
        "is_group_owner_display": False,
        "mentionable": False,
        "messageable": False,
        **no_email,
        "message_count": 0,
        "allow_unknown_sender_topic_replies": False,
        **no_category_defaults,
    }
    return {"group": group, "extras": {"visible_group_names": visible_group_names}}


def group_members(page: MemberPage) -> dict:
    """GET /groups/{name}/members.json. Groups have no owners here: admins manage every group."""
    return {
        "members": [_member(member) for member in page.members],
        "owners": [],
        "meta": {"total": page.total, "limit": page.limit, "offset": page.offset},
    }


def _member(member: Member) -> dict:
    user = member.user
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "avatar_template": avatar_template(user),
        "title": None,
        "last_posted_at": _moment(member.last_posted_at),
        "last_seen_at": _moment(user.last_seen_at),
        "added_at": "",  # not recorded (the audit log has it)
        "timezone": "",  # not kept
    }


def _moment(value: datetime | None) -> str:
    # Discourse sends null for never (and for what it does not know); the spec types these fields as strings only,
    # so "" stands for null.
    return iso(value) or ""
