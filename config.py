"""Configuration classes.

Every setting can be overridden by a ``FORUM_*`` environment variable (``FORUM_DATABASE_URL``
sets ``DATABASE_URL``); values are parsed as JSON when they can be, so numbers, booleans and
dicts work too. ``FORUM_ENV`` picks the class; production is the default so that a deployment
that forgets it cannot run with development secrets.
"""
import os
from pathlib import Path

INSTANCE_PATH = Path(os.environ.get("FORUM_INSTANCE_PATH", Path(__file__).parent / "instance")).resolve()


class Config:
    ENV_NAME = "base"
    SECRET_KEY = None
    DATABASE_URL = f"sqlite:///{INSTANCE_PATH / 'forum.sqlite'}"
    # Kombu's SQLAlchemy transport on SQLite: a real broker with nothing installed.
    BROKER_URL = f"sqla+sqlite:///{INSTANCE_PATH / 'broker.sqlite'}"
    BROKER_TRANSPORT_OPTIONS = {}
    REDIS_URL = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    SITE_TITLE = "forum"
    # Discourse's default content limits.
    MIN_TOPIC_TITLE_LENGTH = 15
    MAX_TOPIC_TITLE_LENGTH = 255
    MIN_POST_LENGTH = 20
    MAX_TAGS_PER_TOPIC = 5
    # Members name new tags on their topics (Discourse with min_trust_to_create_tag at 1); off, they choose among the
    # existing ones and staff create tags (Discourse's default, 3).
    MEMBERS_CREATE_TAGS = True
    # argon2id cost: argon2-cffi's defaults (RFC 9106's low-memory profile).
    PASSWORD_HASH_TIME_COST = 3
    PASSWORD_HASH_MEMORY_KIB = 65536
    MAX_POST_LENGTH = 32000
    BASE_URL = "http://127.0.0.1:5000"
    # Flask-Limiter: per user when signed in, per IP otherwise. Storage is Redis when FORUM_REDIS_URL
    # is set (shared by every web process), else in-process memory.
    RATELIMIT_DEFAULT = "300 per minute"
    # No X-RateLimit-* headers (Discourse sends none); a 429 carries Retry-After, set with its body.
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_KEY_PREFIX = "forum-ratelimit"
    # A Redis that is slow or gone costs one request RATELIMIT_REDIS_TIMEOUT seconds (and one request per check
    # for its return, at doubling intervals); meanwhile every limit is counted in the process's memory
    # (Flask-Limiter's fallback), instead of each request failing.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_REDIS_TIMEOUT = 0.5
    LOGIN_RATE_LIMIT_PER_IP = "20 per minute"
    LOGIN_RATE_LIMIT_PER_ACCOUNT = "6 per minute"
    # Reverse proxies in front of the web server that append the client's address to X-Forwarded-For and set
    # X-Forwarded-Proto. With none (direct clients) those headers are ignored: anyone can send them, and a forged
    # address would escape the per-IP limits.
    TRUSTED_PROXIES = 0
    # Timers: beat asks for a scan this often; a scan claims at most TIMER_SCAN_BATCH timers and asks
    # for another scan when there were more; a claim whose fire task never ran is retried after the lease.
    TIMER_SCAN_INTERVAL = 60
    # Bookmark reminders: beat asks for the due ones this often; a run sends at most BOOKMARK_REMINDER_BATCH and asks
    # for another when there were more.
    BOOKMARK_REMINDER_INTERVAL = 60
    BOOKMARK_REMINDER_BATCH = 500
    # Activity summaries (Discourse's digest mail): beat asks for the members due one this often; a run mails at most
    # ACTIVITY_SUMMARY_BATCH and asks for another when there were more.
    ACTIVITY_SUMMARY_INTERVAL = 900
    ACTIVITY_SUMMARY_BATCH = 100
    # Topic views are counted in memory and written by a worker task at most this often.
    VIEW_FLUSH_SECONDS = 10
    # Anonymous visitors' topic views and lists are kept whole (forum/api/anonymous_cache.py). Every change
    # made through the services drops what it staled at once; view counts and "days ago" may be this old.
    PAGE_CACHE_ENABLED = True
    PAGE_CACHE_SECONDS = 30
    PAGE_CACHE_MAX_BYTES = 64 * 1024 * 1024  # per process
    PAGE_CACHE_KEY_PREFIX = "forum-page-cache:"  # its keys in Redis, when REDIS_URL is set
    TIMER_SCAN_BATCH = 500
    TIMER_CLAIM_LEASE_SECONDS = 300
    # Tasks must finish well inside Redis's visibility timeout, or Redis would hand them out again.
    TASK_TIME_LIMIT = 300
    BROKER_VISIBILITY_TIMEOUT = 3600
    # A Redis broker that stops answering (a partition, a paused server: no reset) fails a send after this many
    # seconds, not the operating system's minutes or never; the worker's own reads poll every second.
    BROKER_SOCKET_TIMEOUT = 5.0
    # Bots read new and edited posts (tactics) and changed topics (summaries); off, they read nothing new.
    BOTS_ENABLED = True
    # Members are told of mentions, replies to them and posts in topics they watch (by a worker task).
    NOTIFICATIONS_ENABLED = True
    # A member whose email_level is "only when away" (Discourse's default) is mailed a notification still unread this
    # many seconds after it was made (Discourse's email_time_window_mins).
    NOTIFICATION_EMAIL_DELAY = 600
    # Review queue: pending flags weighing this much hide the post until a moderator decides.
    HIDE_POST_FLAG_SCORE = 3.0
    # Email (Flask-Mail's settings): password resets, activations and new addresses' confirmations, sent by a worker.
    # With no MAIL_SERVER a message is not sent: the worker logs that, and the message itself (its link works for
    # whoever reads it) only with MAIL_LOG_UNSENT, as `make run` has it.
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "forum <noreply@localhost>"
    MAIL_LOG_UNSENT = False
    MAIL_SUPPRESS_SEND = False  # Flask-Mail's default when TESTING; the tests' workers mail a real SMTP server
    # Who activates a new account: "email", its owner by the link mailed to its address (Discourse's default), or
    # "staff", staff alone (a forum that vets its members). Staff may activate any account either way.
    SIGNUP_ACTIVATION = "email"
    # Discourse's email_token_valid_hours: a mailed link works this long, and once.
    EMAIL_TOKEN_VALID_HOURS = 48
    # Asking for a password reset mail: per address of the asker, and per account asked about.
    FORGOT_PASSWORD_RATE_LIMIT_PER_IP = "6 per hour"
    FORGOT_PASSWORD_RATE_LIMIT_PER_ACCOUNT = "3 per hour"
    # Asking for an account's activation mail again, per caller (Discourse: 6 a minute, 30 an hour per address).
    ACTIVATION_EMAIL_RATE_LIMIT = "6 per hour"
    # Asking for a new address's confirmation mail, per member (per address when anonymous).
    EMAIL_CHANGE_RATE_LIMIT = "6 per hour"
    # Invitations (to a topic, a message or the forum) each tell someone: a member sends at most this many.
    INVITE_RATE_LIMIT = "30 per hour"
    # A private message notifies everyone it names (up to 30): a member starts at most this many.
    MESSAGE_RATE_LIMIT = "20 per hour"
    # Invitations to join: how long one works unless it says otherwise (Discourse's invite_expiry_days); whether members
    # (not only staff) may send them; whether the sign-up form is closed to all but the invited.
    INVITE_EXPIRY_DAYS = 90
    INVITES_BY_MEMBERS = False
    INVITE_ONLY = False
    # Discourse's username_change_period: a member renames themselves within this many days of joining, or later while
    # they have written nothing; staff rename anyone.
    USERNAME_CHANGE_PERIOD_DAYS = 3
    # Discourse's moderators_view_emails: admins read users' email addresses; moderators only when this is on.
    MODERATORS_VIEW_EMAILS = False
    # Tactics bot: beat asks for a refit this often (a refit with no new decisions stores nothing).
    TACTICS_REFIT_INTERVAL = 3600
    # ... and a backfill this often: it queues the bot for at most TACTICS_BACKFILL_BATCH posts whose current
    # version it never read, written or edited more than TACTICS_BACKFILL_DELAY seconds ago (newer ones wait
    # for their own task).
    TACTICS_BACKFILL_INTERVAL = 600
    TACTICS_BACKFILL_DELAY = 300
    TACTICS_BACKFILL_BATCH = 500
    # Summaries: beat asks for a scan this often. A changed topic is summarised again once it has been
    # quiet for SUMMARY_QUIET_SECONDS, or after SUMMARY_MAX_STALE_SECONDS however busy it is; topics
    # with no summary yet (and at least SUMMARY_MIN_POSTS posts) are backfilled, at most
    # SUMMARY_BACKFILL_PER_HOUR an hour.
    SUMMARY_SCAN_INTERVAL = 60
    SUMMARY_QUIET_SECONDS = 120
    SUMMARY_MAX_STALE_SECONDS = 1800
    SUMMARY_MIN_POSTS = 3
    SUMMARY_BACKFILL_PER_HOUR = 200
    SUMMARY_REGENERATE_RATE_LIMIT = "6 per hour"


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    # Kept in the instance folder so sessions survive restarts of `make run`.
    SECRET_KEY_FILE = str(INSTANCE_PATH / "secret_key")
    MAIL_LOG_UNSENT = True


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-only-secret"
    RATELIMIT_ENABLED = False  # the rate-limit tests switch it on for their own app
    PASSWORD_HASH_TIME_COST = 1  # tests make thousands of users; production keeps the real cost
    VIEW_FLUSH_SECONDS = 3600  # tests flush views explicitly
    BOTS_ENABLED = False  # the bots' tests switch them on; other tests queue no bot work
    NOTIFICATIONS_ENABLED = False  # likewise: the notifications' worker test switches them on
    NOTIFICATION_EMAIL_DELAY = 2  # the worker tests wait for it
    PASSWORD_HASH_MEMORY_KIB = 1024
    MAIL_LOG_UNSENT = True


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    # Where members reach the forum, for the links it mails and exports: required (the app refuses to start without).
    BASE_URL = None


CONFIGS = {c.ENV_NAME: c for c in (DevelopmentConfig, TestingConfig, ProductionConfig)}
