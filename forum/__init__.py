"""forum: a Discourse-compatible discussion forum backend."""
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS, INSTANCE_PATH

MIGRATIONS_DIRECTORY = str(Path(__file__).resolve().parent.parent / "migrations")


class ConfigurationError(RuntimeError):
    """The settings cannot run the forum; the message says what to set."""


def create_app(config: Mapping | None = None) -> Flask:
    """Assemble the app: settings from the FORUM_ENV class, then FORUM_* variables, then ``config``."""
    app = Flask(__name__, instance_path=str(INSTANCE_PATH))
    env_name = os.environ.get("FORUM_ENV", "production")
    if env_name not in CONFIGS:
        raise ConfigurationError(f"FORUM_ENV={env_name!r} is not one of {', '.join(CONFIGS)}")
    app.config.from_object(CONFIGS[env_name])
    app.config.from_prefixed_env("FORUM")
    if config:
        app.config.update(config)
    os.makedirs(app.instance_path, exist_ok=True)
    _trust_proxies(app)
    _load_secret_key(app)
    if app.config["SIGNUP_ACTIVATION"] not in ("email", "staff"):
        raise ConfigurationError(f"FORUM_SIGNUP_ACTIVATION must be email or staff, not {app.config['SIGNUP_ACTIVATION']!r}.")
    if not app.config["BASE_URL"]:
        raise ConfigurationError("FORUM_BASE_URL is not set: the links the forum mails and exports would lead nowhere. "
                                 "Set it to the address members reach the forum at, e.g. https://forum.example.org.")
    app.config["BASE_URL"] = app.config["BASE_URL"].rstrip("/")  # links add their paths, each starting with "/"
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    if app.config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        timeout = app.config["RATELIMIT_REDIS_TIMEOUT"]
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": timeout, "socket_connect_timeout": timeout})

    from forum import models  # noqa: F401  (registers the tables on the metadata)
    from forum.database import configure_engine
    from forum.extensions import celery_init_app, db, limiter, login_manager, mail, migrate

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=MIGRATIONS_DIRECTORY, render_as_batch=True)
    login_manager.init_app(app)
    limiter.init_app(app)
    mail.init_app(app)
    celery_init_app(app)

    from forum.api import anonymous_cache, register_api
    from forum.cli import forum_cli

    register_api(app)
    anonymous_cache.init_app(app)
    from bots import triggers

    triggers.connect()
    app.cli.add_command(forum_cli)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind reverse proxies, take the client's address (and scheme) from what the nearest ones add: per-IP limits
    and sign-in records then count clients, not the proxy that every request comes through."""
    proxies = app.config["TRUSTED_PROXIES"]
    if isinstance(proxies, bool) or not isinstance(proxies, int) or proxies < 0:
        raise ConfigurationError(f"FORUM_TRUSTED_PROXIES must be a whole number of proxies (0 for none), not {proxies!r}")
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def _load_secret_key(app: Flask) -> None:
    if app.config.get("SECRET_KEY"):
        return
    key_file = app.config.get("SECRET_KEY_FILE")
    if not key_file:
        raise ConfigurationError(
            "FORUM_SECRET_KEY is not set: refusing to start without a secret key. "
            "Set it to a long random value, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`."
        )
    path = Path(key_file)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    app.config["SECRET_KEY"] = path.read_text().strip()
