"""Celery tasks: thin and idempotent wrappers around the routing services.

Each takes ids, calls one service and may run twice or at once on several workers: the
services lock what they decide on (advisory lock per team backlog, agent rows, SKIP LOCKED
on conversations). ``acks_late`` with ``reject_on_worker_lost`` puts the message back when a
worker dies mid-task; database errors retry with backoff.
"""

from celery import shared_task
from django.conf import settings

from apps.core.queue import TASK_OPTIONS
from apps.routing import services


@shared_task(name="apps.routing.tasks.agent_available", **TASK_OPTIONS)
def agent_available(agent_id: int) -> int:
    """An agent came online, freed capacity or had their limit raised."""
    return services.handle_agent_available(agent_id=agent_id)


@shared_task(name="apps.routing.tasks.distribute_team", **TASK_OPTIONS)
def distribute_team(team_id: int) -> int:
    """Automatic backlog distribution of one team (only ``capacity`` teams move)."""
    return services.distribute_team_backlog(team_id=team_id)


@shared_task(name="apps.routing.tasks.act_on_deadlines", **TASK_OPTIONS)
def act_on_deadlines(kind: str) -> int:
    """Woken at a time rule's deadline: act on whatever of that kind is due by now."""
    return services.act_on_due(kind=kind)


@shared_task(name="apps.routing.tasks.sweep", **TASK_OPTIONS)
def sweep() -> dict:
    """The periodic safety net (celery beat): stale presence, the time rules' deadlines a
    lost wake-up missed (and the next wake-ups), reservations, capacity queues."""
    swept = services.sweep_stale_presence(timeout_seconds=settings.PRESENCE_TIMEOUT)
    deadlines = services.sweep_deadlines()
    assigned = services.sweep_routing()
    services.record_sweep_run()
    return {"presence_swept": swept, "deadlines": deadlines, "assigned": assigned}

