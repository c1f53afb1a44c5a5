"""What one /metrics scrape costs as the history grows (docs/operations.md): the six queries
and the Redis round trip of apps.operations.metrics over a database holding ``closed``
closed conversations (each with ``events_each`` history rows) and a live floor of
``open_now`` open ones. Rows are written with one INSERT ... SELECT each (generate_series),
then the scrape is timed, warm, a few times. Prints figures, asserts nothing.

Run by ``make bench`` (benchmarks/run.py), or alone: ``python benchmarks/metrics_bench.py``;
it uses a database of its own, BENCH_DATABASE_URL's name plus ``_metrics``, dropped and
created afresh.
"""

import statistics
import sys
import time
from pathlib import Path

SCRAPES = 5


def seed(*, closed: int, open_now: int, events_each: int) -> None:
    from django.db import connection

    from apps.accounts.models import Presence
    from apps.teams.models import DistributionMode
    from tests.factories import TeamFactory, UserFactory

    agents = [UserFactory(presence=Presence.ONLINE, capacity=10_000) for _ in range(50)]
    teams = [TeamFactory(distribution_mode=DistributionMode.MANUAL, agents=agents[i::5])
             for i in range(5)]
    team_ids = "ARRAY[" + ",".join(str(t.pk) for t in teams) + "]::bigint[]"
    agent_ids = "ARRAY[" + ",".join(str(a.pk) for a in agents) + "]::bigint[]"
    total = closed + open_now
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO organizations_contact (name, email, phone, external_id, created_at) "
            "SELECT 'c' || g, '', '', 'metrics-bench-' || g, now() FROM generate_series(1, %s) g",
            [total],
        )
        cursor.execute(
            f"""
            INSERT INTO conversations_conversation (channel, status, auto_assigned,
                preferred_type, created_at, updated_at, last_activity_at, contact_id, team_id,
                assignee_id, queued_at, assigned_at, closed_at)
            SELECT 'webchat', CASE WHEN n <= %(closed)s THEN 'closed' ELSE 'queued' END, false,
                '', now(), now(), now(), c.id, ({team_ids})[1 + n %% 5],
                CASE WHEN n <= %(closed)s THEN ({agent_ids})[1 + n %% 50] END,
                now() - interval '1 hour',
                CASE WHEN n <= %(closed)s THEN now() - interval '1 hour'
                     + (n %% 900) * interval '1 second' END,
                CASE WHEN n <= %(closed)s THEN now() END
            FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM organizations_contact
                  WHERE external_id LIKE 'metrics-bench-%%') c
            """,
            {"closed": closed},
        )
        cursor.execute(
            """
            INSERT INTO conversations_conversationevent (at, kind, actor_kind, from_status,
                to_status, data, conversation_id, reason_parts)
            SELECT now(), (ARRAY['queued','assigned','closed','transferred'])[1 + k %% 4],
                'system', '', 'queued', '{}'::jsonb, c.id, '[]'::jsonb
            FROM conversations_conversation c, generate_series(1, %s) k
            """,
            [events_each],
        )
        cursor.execute("ANALYZE")


def bench_scrape(*, closed: int = 200_000, open_now: int = 2_000, events_each: int = 4) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.operations.metrics import render

    seed(closed=closed, open_now=open_now, events_each=events_each)
    render()  # warm
    seconds, queries = [], 0
    for _ in range(SCRAPES):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            body = render()
            seconds.append(time.perf_counter() - start)
        queries = len(captured)
    return {
        "conversations": closed + open_now, "events": (closed + open_now) * events_each,
        "median_ms": statistics.median(seconds) * 1000, "max_ms": max(seconds) * 1000,
        "queries": queries, "bytes": len(body),
    }


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks import common

    url = common.database_url() + "_metrics"
    common.fresh_database(url)
    common.setup_django(url)
    for closed in (20_000, 200_000):
        with common.time_limit(common.STEP_SECONDS, "metrics scrape"):
            result = bench_scrape(closed=closed)
        print(f"/metrics over {result['conversations']:,} conversations and "
              f"{result['events']:,} history rows: median {result['median_ms']:.0f} ms, "
              f"max {result['max_ms']:.0f} ms per scrape ({result['queries']} queries, "
              f"{result['bytes']:,} bytes)", flush=True)
        from django.core.management import call_command
        from django.db import connection

        with connection.cursor() as cursor:  # the next size starts from an empty floor
            cursor.execute(
                "TRUNCATE conversations_conversationevent, conversations_conversation,"
                " organizations_contact, teams_membership, teams_team, accounts_user CASCADE"
            )
        call_command("migrate", verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
