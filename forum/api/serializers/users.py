"""Users as Discourse shows them: in posts and lists, on their page, in the staff's lists, and suspended."""
from datetime import datetime

from forum.api.serializers import avatar_template, iso
from forum.api.serializers.groups import users_group
from forum.models import EmailLevel, Group, Role, User, UserAuthToken
from forum.models.base import utcnow
from forum.services import activity_summaries, reading
from forum.services.directory import DirectoryPage
from forum.services.errors import ServiceError
from forum.services.users import Activity, AdminDetail, ListedUser, Profile, UserList

# Discourse's trust levels drive many of its features; this forum has roles instead, so staff show
# as level 4 (leader) and members as level 1 (basic), which is what Discourse clients expect of them.
STAFF_TRUST_LEVEL = 4
MEMBER_TRUST_LEVEL = 1


def trust_level(user: User) -> int:
    return STAFF_TRUST_LEVEL if user.is_staff else MEMBER_TRUST_LEVEL


def display_name(user: User) -> str:
    """The user's name, or "" without one: several Discourse schemas type ``name`` as a string only."""
    return user.name or ""


def basic_user(user: User) -> dict:
    return {"id": user.id, "username": user.username, "name": display_name(user), "avatar_template": avatar_template(user)}


def current_user(user: User, *, unread_notifications: int, reviewable_count: int) -> dict:
    """The signed-in user, as GET /session/current.json and the login answer show it; ``reviewable_count``: the
    review queue's pending items, for those who review it (0 for others)."""
    return {
        **basic_user(user),
        "admin": user.is_admin,
        "moderator": user.role == "moderator",
        "staff": user.is_staff,
        "trust_level": trust_level(user),
        "unread_notifications": unread_notifications,
        "seen_notification_id": user.seen_notification_id,
        "reviewable_count": reviewable_count,
    }


# POST /users.json


def signup_result(user: User, *, mailed: bool) -> dict:
    """Discourse's answer to a sign-up; ``mailed``: an inactive account was mailed its activation link."""
    if user.active:
        message = "Your account is activated and ready to use."
    elif mailed:
        message = f"Almost done: we mailed an activation link to {user.email}. Open it to activate your account."
    else:
        message = "Your account has been created. A staff member will activate it; then you can log in."
    return {"success": True, "active": user.active, "message": message, "user_id": user.id}


def failure_result(failure: ServiceError) -> dict:
    """Discourse's failed sign-up or password reset (``success: false`` and a message), with the errors as this API
    gives them."""
    return {"success": False, "message": " ".join(failure.messages), "errors": failure.messages, "error_type": failure.error_type}


# GET /u/{username}.json. Discourse features this forum lacks (badges, muting, messages, avatars,
# preferences, second factors, ...) carry their neutral values; the user's own page (and staff) also
# shows their sessions and groups.


def _seconds_read(activity: Activity) -> int:
    return activity.msecs_read // 1000


def _seconds_since(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else (now - moment).total_seconds()


def user_profile(profile: Profile) -> dict:
    user, activity, private = profile.user, profile.activity, profile.private
    return {
        "user_badges": [],
        "user": {
            **basic_user(user),
            "last_posted_at": iso(activity.last_posted_at),
            "last_seen_at": iso(user.last_seen_at),
            "created_at": iso(user.created_at),
            "ignored": False,
            "muted": False,
            "can_ignore_user": False,
            "can_mute_user": False,
            "can_send_private_messages": profile.permissions.can_send_private_messages,
            "can_send_private_message_to_user": profile.permissions.can_send_private_message_to_user,
            "trust_level": trust_level(user),
            "moderator": user.role == "moderator",
            "admin": user.is_admin,
            "title": None,
            "badge_count": 0,
            "custom_fields": {},
            "time_read": _seconds_read(activity),
            "recent_time_read": 0,
            "primary_group_id": None,
            "primary_group_name": None,
            "flair_group_id": None,
            "flair_name": None,
            "flair_url": None,
            "flair_bg_color": None,
            "flair_color": None,
            # The schema requires an object where Discourse sends null for "no featured topic".
            "featured_topic": {"id": 0, "title": "", "fancy_title": "", "slug": "", "posts_count": 0},
            "staged": False,
            "can_edit": profile.permissions.can_edit,
            "can_edit_username": profile.permissions.can_edit_username,
            "can_edit_email": profile.permissions.can_edit_email,
            "can_edit_name": profile.permissions.can_edit,
            "uploaded_avatar_id": None,
            "has_title_badges": False,
            "pending_count": 0,
            "profile_view_count": 0,
            "second_factor_enabled": False,
            "can_upload_profile_header": False,
            "can_upload_user_card_background": False,
            "post_count": activity.post_count,
            "topic_count": activity.topic_count,
            "can_be_deleted": False,
            "can_delete_all_posts": False,
            "locale": None,
            "muted_category_ids": [],
            "regular_category_ids": [],
            "watched_tags": [],
            "watching_first_post_tags": [],
            "tracked_tags": [],
            "muted_tags": [],
            "tracked_category_ids": [],
            "watched_category_ids": [],
            "watched_first_post_category_ids": [],
            "system_avatar_upload_id": None,
            "system_avatar_template": avatar_template(user),
            "muted_usernames": [],
            "ignored_usernames": [],
            "allowed_pm_usernames": [],
            "mailing_list_posts_per_day": 0,
            "can_change_bio": False,
            "can_change_location": False,
            "can_change_website": False,
            "can_change_tracking_preferences": False,
            "user_api_keys": None,
            "user_auth_tokens": (
                [_session(token, private.current_session_id) for token in private.sessions] if private else []
            ),
            "user_notification_schedule": _notification_schedule(),
            "use_logo_small_as_avatar": False,
            "featured_user_badge_ids": [],
            "invited_by": None,
            "groups": (
                [users_group(shown) for shown in private.groups] if private else []
            ),
            "group_users": [_group_user(shown.group, user) for shown in private.groups] if private else [],
            "user_option": _user_option(user, personal=private is not None),
        },
    }


def _session(token: UserAuthToken, current_session_id: int | None) -> dict:
    # Location and browser details come from IP geolocation and user-agent parsing in Discourse: not done here.
    return {
        "id": token.id,
        "client_ip": token.client_ip or "",
        "location": "",
        "browser": "",
        "device": "",
        "os": "",
        "icon": "",
        "created_at": iso(token.created_at),
        "seen_at": iso(token.created_at),  # Discourse's fallback when a session's last use is not known
        "is_active": token.id == current_session_id,  # Discourse: the session of this very request
    }


def _group_user(group: Group, user: User) -> dict:
    return {"group_id": group.id, "user_id": user.id, "notification_level": 0}


def _notification_schedule() -> dict:
    return {"enabled": False, **{f"day_{day}_{edge}_time": 0 for day in range(7) for edge in ("start", "end")}}


def _user_option(user: User, *, personal: bool) -> dict:
    """The preferences kept per user (the email ones), shown to the user and staff (``personal``; others see the
    forum's default, as Discourse shows others no options at all); the options the forum applies to everyone have the
    values it applies, the others their neutral value."""
    neutral_booleans = (
        "mailing_list_mode", "external_links_in_new_tab", "dynamic_favicon", "enable_quoting",
        "enable_smart_lists", "enable_markdown_monospace_font", "automatically_unpin_topics", "email_in_reply_to",
        "notify_on_linked_posts", "enable_upcoming_change_available_notifications", "include_tl0_in_digests",
        "allow_private_messages", "enable_allowed_pm_users", "hide_profile_and_presence", "hide_profile",
        "hide_presence", "skip_new_user_tips", "topics_unread_when_closed", "automatically_translate",
        "show_original_content",
    )  # fmt: skip
    neutral_integers = (
        "mailing_list_mode_frequency", "email_messages_level",
        "email_previous_replies", "like_notification_frequency", "theme_key_seq", "text_size_seq",
        "interface_color_mode",
    )  # fmt: skip
    return {
        "user_id": user.id,
        **dict.fromkeys(neutral_booleans, False),
        **dict.fromkeys(neutral_integers, 0),
        "email_level": user.email_level if personal else EmailLevel.ONLY_WHEN_AWAY,
        "email_digests": user.email_digests if personal else True,
        "digest_after_minutes": user.digest_after_minutes if personal else activity_summaries.DEFAULT_FREQUENCY,
        "auto_track_topics_after_msecs": reading.AUTO_TRACK_AFTER_MSECS,
        "notification_level_when_replying": int(reading.LEVEL_WHEN_REPLYING),
        "new_topic_duration_minutes": reading.new_topic_duration_minutes(),
        **dict.fromkeys(("push_notification_level", "text_size", "title_count_mode", "send_shortcut"), ""),
        **dict.fromkeys(("color_scheme_id", "dark_scheme_id", "homepage_id", "timezone"), None),
        "theme_ids": [],
        "understood_languages": [],
    }


# GET /u/{username}/emails.json


def user_emails(user: User) -> dict:
    return {"email": user.email or "", "secondary_emails": [], "unconfirmed_emails": [], "associated_accounts": []}


# GET /admin/users/list/{flag}.json


def admin_list_user(listed: ListedUser, *, with_email: bool, now: datetime) -> dict:
    user, activity = listed.user, listed.activity
    return {
        **basic_user(user),
        **({"email": user.email or "", "secondary_emails": []} if with_email else {}),
        "active": user.active,
        "admin": user.is_admin,
        "moderator": user.role == "moderator",
        "last_seen_at": iso(user.last_seen_at),
        "last_emailed_at": None,
        "created_at": iso(user.created_at),
        "last_seen_age": _seconds_since(user.last_seen_at, now),
        "last_emailed_age": None,
        "created_at_age": _seconds_since(user.created_at, now),
        "trust_level": trust_level(user),
        "manual_locked_trust_level": None,
        "title": None,
        "time_read": _seconds_read(activity),
        "staged": False,
        "days_visited": 0,
        "posts_read_count": 0,
        "topics_entered": activity.topics_entered,
        "post_count": activity.post_count,
    }


def admin_user_list(user_list: UserList) -> list[dict]:
    now = utcnow()
    return [admin_list_user(item, with_email=user_list.with_emails, now=now) for item in user_list.users]


# PUT /admin/users/{id}/suspend.json and unsuspend.json


def suspension(user: User, suspended_by: User) -> dict:
    return {
        "suspension": {
            "suspend_reason": user.suspend_reason,
            "full_suspend_reason": user.suspend_reason,  # Discourse appends the emailed message; none is sent here
            "suspended_till": iso(user.suspended_till),
            "suspended_at": iso(user.suspended_at),
            "suspended_by": basic_user(suspended_by),
        }
    }


def silencing(user: User, silenced_by: User) -> dict:
    return {
        "silence": {
            "silenced": user.is_silenced,
            "silence_reason": user.silence_reason,
            "full_silence_reason": user.silence_reason,  # Discourse appends the emailed message; none is sent here
            "silenced_till": iso(user.silenced_till),
            "silenced_at": iso(user.silenced_at),
            "silenced_by": basic_user(silenced_by),
        }
    }


def unsilencing() -> dict:
    return {"unsilence": {"silenced": False}}


def unsuspension() -> dict:
    return {"suspension": {"suspended_till": None, "suspended_at": None}}


# GET /admin/users/{id}.json. What this forum does not keep (visits, IP addresses, email, badges, second factors, single
# sign-on, trust levels beyond the role's) carries its neutral value; its own actions are offered only when it has them.


def _age(moment: datetime | None) -> float | None:
    return (utcnow() - moment).total_seconds() if moment is not None else None


def admin_user_detail(detail: AdminDetail) -> dict:
    user, activity = detail.user, detail.activity
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "avatar_template": avatar_template(user),
        "active": user.active,
        "admin": user.is_admin,
        "moderator": user.role == Role.MODERATOR,
        "last_seen_at": iso(user.last_seen_at),
        "last_emailed_at": None,
        "created_at": iso(user.created_at),
        "last_seen_age": _age(user.last_seen_at),
        "last_emailed_age": None,
        "created_at_age": _age(user.created_at),
        "trust_level": trust_level(user),
        "manual_locked_trust_level": None,
        "title": None,
        "time_read": activity.msecs_read // 1000,
        "staged": False,
        "days_visited": 0,
        "posts_read_count": 0,
        "topics_entered": activity.topics_entered,
        "post_count": activity.post_count,
        "associated_accounts": [],
        "can_send_activation_email": False,
        "can_activate": detail.can_activate,
        "can_deactivate": detail.can_deactivate,
        "can_change_trust_level": False,
        "ip_address": "",
        "registration_ip_address": None,
        "can_grant_admin": False,
        "can_revoke_admin": False,
        "can_grant_moderation": False,
        "can_revoke_moderation": False,
        "can_impersonate": False,
        "like_count": detail.likes_received,
        "like_given_count": detail.likes_given,
        "topic_count": activity.topic_count,
        "flags_given_count": detail.flags_given,
        "flags_received_count": detail.flags_received,
        "private_topics_count": 0,
        "can_delete_all_posts": False,
        "can_be_deleted": False,
        "can_be_anonymized": detail.can_be_anonymized,
        "can_be_merged": False,
        "full_suspend_reason": user.suspend_reason if user.is_suspended else None,
        "latest_export": None,
        "full_silence_reason": user.silence_reason if user.is_silenced else None,
        "silence_reason": user.silence_reason if user.is_silenced else None,
        "post_edits_count": None,
        "primary_group_id": None,
        "badge_count": 0,
        "warnings_received_count": 0,
        "bounce_score": None,
        "reset_bounce_score_after": None,
        "can_view_action_logs": False,
        "can_disable_second_factor": False,
        "can_delete_sso_record": False,
        "api_key_count": detail.api_keys,
        "single_sign_on_record": None,
        "approved_by": None,
        "suspended_by": detail.suspended_by.username if detail.suspended_by else None,
        "silenced_by": detail.silenced_by.username if detail.silenced_by else None,
        "groups": [users_group(shown) for shown in detail.groups],
        "external_ids": {},
        "include_ip": False,
    }


def directory_page(page: DirectoryPage) -> dict:
    """Discourse's GET /directory_items.json."""
    items = [{"id": item.user.id, **item.counts, "user": {**basic_user(item.user), "title": None}} for item in page.items]
    following = f"/directory_items.json?order={page.order}&page={page.page + 1}&period={page.period}" + ("&asc=true" if page.ascending else "")
    return {
        "directory_items": items,
        "meta": {"last_updated_at": iso(page.counted_at), "total_rows_directory_items": page.total,
                 "load_more_directory_items": following},
    }
