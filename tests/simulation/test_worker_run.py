"""A run on a worker: the request is recorded, the task reports its progress on the run's
row as it goes, and ends done (or failed, with the reason) whatever happens; a second
delivery of the task leaves a finished run as it is."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.simulation import services
from apps.simulation.models import RunStatus, SimulationRun
from apps.simulation.tasks import run_simulation
from apps.teams.models import DistributionMode
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


def body(team_id, per_hour=2000):
    return {"traffic": {"synthetic": {"seconds": 36000, "teams": [{
        "team": team_id, "arrivals_per_hour": per_hour,
        "handle_seconds": {"distribution": "exponential", "mean": 60}}]}},
        "roster": {"agents": [{"name": f"a{n}", "teams": [team_id], "capacity": 2}
                              for n in range(20)]}}


def test_the_task_reports_progress_and_finishes(monkeypatch):
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY)
    run = SimulationRun.objects.create(request=body(team.pk))
    monkeypatch.setattr(services, "PROGRESS_EVERY_SECONDS", 0)
    with CaptureQueriesContext(connection) as queries:
        run_simulation(run.pk)
    progress_writes = [q["sql"] for q in queries.captured_queries
                       if q["sql"].startswith("UPDATE") and '"progress"' in q["sql"]]
    assert len(progress_writes) > 3  # along the way, then at the end
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.progress == 1 and run.finished_at
    assert run.result["baseline"]["overall"]["conversations"] > 10_000

    finished = run.result
    run_simulation(run.pk)  # delivered twice: nothing changes
    run.refresh_from_db()
    assert run.result == finished


def test_a_request_that_became_wrong_fails_with_its_reason():
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY)
    run = SimulationRun.objects.create(request=body(team.pk))
    team.delete()  # between the POST and the worker
    run_simulation(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "existing team" in run.error
    assert services.describe(run)["error"] == run.error
