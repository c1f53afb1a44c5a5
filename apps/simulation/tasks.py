"""Celery: a simulation runs on a worker, reporting its progress on its row."""

from celery import shared_task

from apps.core.queue import TASK_OPTIONS
from apps.simulation import services


@shared_task(name="apps.simulation.tasks.run_simulation", **TASK_OPTIONS)
def run_simulation(run_id: int) -> None:
    services.run_simulation(run_id=run_id)
