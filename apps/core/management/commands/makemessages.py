"""Django's makemessages as Atende runs it, so that everyone (and the catalogue test) gets
the same catalogue: history reasons are marked ``N_`` (gettext_noop, apps.conversations
.reasons) and extracted too; tests, benchmarks and docs hold no user-facing text; source
locations are left out (they churn with every edit and help no translator here).

    python manage.py makemessages -l pt_BR --no-obsolete
"""

from django.core.management.commands import makemessages

NOT_SOURCES = ["tests", "benchmarks", "docs", "staticfiles", "test-artifacts"]


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=N_"]

    def handle(self, *args, **options):
        options["ignore_patterns"] = [*(options.get("ignore_patterns") or []), *NOT_SOURCES]
        options["no_location"] = True
        return super().handle(*args, **options)
