"""Entry point: ``gunicorn wsgi:app``, ``flask --app wsgi ...``, ``celery -A wsgi worker``."""
from forum import create_app

app = create_app()
celery = app.extensions["celery"]
