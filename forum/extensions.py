"""Flask extensions: created here, bound to an app in ``create_app`` with ``init_app``."""
from celery import Celery, Task
from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from forum.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()


def rate_limit_key() -> str:
    """Signed-in callers are limited per user, anonymous ones per IP address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{get_remote_address()}"


limiter = Limiter(key_func=rate_limit_key)


def celery_init_app(app: Flask) -> Celery:
    """One Celery app per Flask app, as Flask's documentation does it.

    Tasks are declared with ``shared_task`` so they bind to whichever app is current; each task
    runs inside the Flask app context, so services and models work unchanged in a worker.
    """

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.import_name, task_cls=FlaskTask)
    celery_app.config_from_object(
        {
            "broker_url": app.config["BROKER_URL"],
            "broker_transport_options": app.config["BROKER_TRANSPORT_OPTIONS"],
            "broker_connection_retry_on_startup": True,
            "task_serializer": "json",
            "accept_content": ["json"],
            "task_ignore_result": True,
            "timezone": "UTC",
            "worker_hijack_root_logger": False,
            "include": ["bots.tasks"],
        }
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
