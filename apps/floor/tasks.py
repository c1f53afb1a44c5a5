"""Celery tasks of the floor view: thin and idempotent (a run twice in a minute, or by two
beats, records the minute once)."""

from celery import shared_task
from django.db import DatabaseError

from apps.floor.snapshots import record_snapshots


@shared_task(
    name="apps.floor.tasks.snapshot_queues", autoretry_for=(DatabaseError,),
    retry_backoff=0.5, retry_backoff_max=10, max_retries=3,
)
def snapshot_queues() -> dict:
    """Every minute (celery beat): each team's queue depth, for the floor view's chart."""
    return record_snapshots()
