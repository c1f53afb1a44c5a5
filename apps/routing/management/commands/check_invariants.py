from django.core.management.base import BaseCommand, CommandError

from apps.routing.invariants import check_invariants


class Command(BaseCommand):
    help = "Check the routing invariants (routing.md section 7) against the database."

    def handle(self, *args, **options):
        problems = check_invariants()
        if problems:
            for problem in problems:
                self.stderr.write(f"- {problem}")
            raise CommandError(f"{len(problems)} routing invariant problem(s) found.")
        self.stdout.write(self.style.SUCCESS("All routing invariants hold."))
