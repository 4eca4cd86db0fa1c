"""Entry point: ``gunicorn wsgi:app``, ``flask --app wsgi ...``, ``celery -A wsgi:celery worker`` (``-A wsgi`` alone would find the Flask ``app`` first)."""
from forum import create_app

app = create_app()
celery = app.extensions["celery"]
