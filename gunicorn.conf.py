"""Settings gunicorn reads from the working directory (or from `--config`): the forum's web workers' exit hook."""


def worker_exit(server, worker):
    """Send the topic views this worker still holds before it goes (a restart, a scale-down). Here, not in
    an atexit hook: by then the interpreter refuses the threads a broker connection may start."""
    from forum.services.views import topic_views

    topic_views.flush()
