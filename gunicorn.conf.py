"""Settings gunicorn reads from the working directory (or from `--config`): how the forum's web workers serve, and
their hooks. The number of workers is the command line's (`--workers`) or gunicorn's WEB_CONCURRENCY."""
import gc

# Threads in each worker: a request waiting on the database or Redis leaves the worker to another one, and keep-alive
# connections are kept (a sync worker closes each). bench/api.py measures with these settings, as deployed.
worker_class = "gthread"
threads = 4


def post_worker_init(worker):
    """The app is loaded, and its modules, models and mappers live as long as the worker: frozen, the garbage
    collector stops scanning them at every full collection. On a 10,000-post topic (its stream builds 10,000
    tuples, enough to set collections off) the signed-in view took 29-31 ms of CPU instead of 40-47, measured in
    process on PostgreSQL."""
    gc.collect()
    gc.freeze()


def worker_exit(server, worker):
    """Send the topic views this worker still holds before it goes (a restart, a scale-down). Here, not in
    an atexit hook: by then the interpreter refuses the threads a broker connection may start."""
    from forum.services.views import topic_views

    topic_views.flush()
