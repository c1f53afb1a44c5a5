"""Celery tasks of the outbound webhooks (queue ``webhooks``): thin and idempotent.

``deliver`` may run twice or on several workers at once: deliveries are claimed with a
lease, and one run per integration holds its slot. ``acks_late`` with
``reject_on_worker_lost`` puts the message back when a worker dies mid-run; a lease it held
expires and the delivery is sent again with the same id.
"""

from celery import shared_task

from apps.core.queue import TASK_OPTIONS
from apps.webhooks import delivery


@shared_task(name="apps.webhooks.tasks.deliver", **TASK_OPTIONS)
def deliver(integration_id: int) -> int:
    """Send what is due for one integration."""
    return delivery.run_deliveries(integration_id=integration_id)


@shared_task(name="apps.webhooks.tasks.sweep", **TASK_OPTIONS)
def sweep() -> dict:
    """The periodic safety net (celery beat, ``WEBHOOK_SWEEP_SECONDS``)."""
    return delivery.sweep_deliveries()
