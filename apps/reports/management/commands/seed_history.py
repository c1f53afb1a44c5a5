"""``manage.py seed_history``: a realistic history for reports and their benchmark
(apps.reports.seeding). Run again with ``--before`` to add older history on top."""

import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from apps.reports.seeding import seed_history


class Command(BaseCommand):
    help = "Write a realistic history of conversations, events, messages, presence and ratings."

    def add_arguments(self, parser):
        parser.add_argument("--conversations", type=int, default=10_000)
        parser.add_argument("--teams", type=int, default=20)
        parser.add_argument("--agents", type=int, default=200)
        parser.add_argument("--days", type=int, default=60)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--before", type=date.fromisoformat, default=None,
            help="The day after the last seeded day (default today): older history goes "
                 "before what is there.")
        parser.add_argument("--analyze", action="store_true",
                            help="ANALYZE the tables afterwards (PostgreSQL).")

    def handle(self, *args, **options):
        if options["conversations"] < 0 or options["days"] < 1 or options["teams"] < 1:
            raise CommandError("--conversations >= 0, --days >= 1 and --teams >= 1.")
        started = time.monotonic()
        end = options["before"] or timezone.localdate() + timedelta(days=1)

        def progress(done, total):
            if options["verbosity"] > 1 and (done % 10 == 0 or done == total):
                self.stdout.write(f"  day {done}/{total} ({time.monotonic() - started:.0f} s)")

        written = seed_history(
            conversations=options["conversations"], teams=options["teams"],
            agents=options["agents"], days=options["days"], seed=options["seed"], end=end,
            now=timezone.now(), progress=progress,
        )
        if options["analyze"] and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        counts = ", ".join(f"{n:,} {name}" for name, n in written.items())
        self.stdout.write(f"Seeded {counts} in {time.monotonic() - started:.1f} s.")
