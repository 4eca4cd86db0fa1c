"""Celery tasks. Each takes ids, re-reads state, and hands work to a service."""
from celery import shared_task

from forum.services import rebake, views


@shared_task(name="forum.rebake_post", acks_late=True)
def rebake_post(post_id: int) -> None:
    """Re-render one post's cooked HTML from its raw Markdown (Discourse's "rebake").

    Run after the renderer or the sanitiser's allowlist changes; running it twice changes nothing more.
    """
    rebake.rebake_post(post_id)


# Acknowledged on receipt (not acks_late): a redelivered batch would count its views twice, and a
# lost one only makes a popularity figure slightly low.
@shared_task(name="forum.add_topic_views", acks_late=False)
def add_topic_views(counts: dict[str, int]) -> None:
    views.add_views(counts)
