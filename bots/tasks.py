"""Celery tasks. Each takes ids, re-reads state, and hands work to a service."""
from celery import shared_task

from forum.services import rebake


@shared_task(name="forum.rebake_post", acks_late=True)
def rebake_post(post_id: int) -> None:
    """Re-render one post's cooked HTML from its raw Markdown (Discourse's "rebake").

    Run after the renderer or the sanitiser's allowlist changes; running it twice changes nothing more.
    """
    rebake.rebake_post(post_id)
