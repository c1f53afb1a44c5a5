"""Asking for a simulation and running it (api.md "Simulations, exactly"). Nothing here
changes the live configuration: a run reads it and writes only its own row."""

import logging
import time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import DomainError, NotAllowed
from apps.core.queue import enqueue_on_commit
from apps.simulation import runner
from apps.simulation.models import RunStatus, SimulationRun

logger = logging.getLogger(__name__)
PROGRESS_EVERY_SECONDS = 0.5


def start_simulation(*, request: dict, actor) -> SimulationRun:
    """Check the request (a 400 now rather than a failed run later), record it, and have a
    worker run it after commit. With no worker (embedded mode, tests) it runs at once, in
    this call, and the answer is already done."""
    if not getattr(actor, "is_supervisor", False):
        raise NotAllowed(_("Only a supervisor or an administrator can run simulations."))
    runner.prepare(request)
    run = SimulationRun.objects.create(created_by=actor, request=request)
    if _eager():
        run_simulation(run_id=run.pk)
        run.refresh_from_db()
    else:
        from apps.simulation.tasks import run_simulation as task

        enqueue_on_commit(task, run.pk)
    return run


def run_simulation(*, run_id: int) -> None:
    """Run a recorded request; idempotent (a finished run is left as it is)."""
    run = SimulationRun.objects.filter(pk=run_id).first()
    if run is None or run.status != RunStatus.RUNNING:
        return
    told = [time.monotonic()]

    def progress(fraction: float) -> None:
        now = time.monotonic()
        if now - told[0] >= PROGRESS_EVERY_SECONDS:
            told[0] = now
            SimulationRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
                progress=round(min(max(fraction, 0.0), 1.0), 3))

    try:
        result = runner.simulate(run.request, progress=progress)
    except DomainError as refused:
        _finish(run_id, status=RunStatus.FAILED, error=refused.detail)
        return
    except Exception:
        logger.exception("simulation %s failed", run_id)
        _finish(run_id, status=RunStatus.FAILED,
                error=_("The simulation failed unexpectedly; the error is in the log."))
        raise
    _finish(run_id, status=RunStatus.DONE, result=result)


def _finish(run_id: int, **fields) -> None:
    with transaction.atomic():
        SimulationRun.objects.filter(pk=run_id).update(
            finished_at=timezone.now(), progress=1.0, **fields)


def _eager() -> bool:
    from config.celery import app

    return bool(app.conf.task_always_eager)


def describe(run: SimulationRun) -> dict:
    """The answer of ``GET simulations/{id}``."""
    answer = {"id": run.pk, "status": run.status, "progress": run.progress}
    if run.status == RunStatus.DONE and run.result:
        answer.update(baseline=run.result["baseline"], scenario=run.result["scenario"])
    if run.status == RunStatus.FAILED:
        answer["error"] = run.error
    return answer
