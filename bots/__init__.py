"""The bots: Celery tasks (thin, in ``tasks``) and their algorithms (pure functions, no Flask, no database)."""
