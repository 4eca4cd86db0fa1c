"""Flask extensions: created here, bound to an app in ``create_app`` with ``init_app``."""
from celery import Celery, Task
from flask import Flask
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from forum.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()


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


@login_manager.user_loader
def load_user(user_id: str):
    from forum.models import User

    return db.session.get(User, int(user_id))
