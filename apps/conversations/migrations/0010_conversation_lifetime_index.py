"""PostgreSQL: a GiST index over each conversation's lifetime, [created_at, closed_at), so
that "the conversations alive during a period" (the agents report's busy time) is found by
the period, not by scanning all history before or after it. SQLite has no range types: the
same question is a plain filter there (apps.conversations.lifetime)."""

from django.db import migrations

INDEX = "conv_lifetime_gist"
# apps.conversations.lifetime.LIFETIME_SQL, letter for letter (queries must match it).
LIFETIME_SQL = (
    "tstzrange(created_at, CASE WHEN closed_at IS NULL THEN NULL "
    "ELSE GREATEST(closed_at, created_at) END, '[]')"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON conversations_conversation "
            f"USING gist (({LIFETIME_SQL}))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("conversations", "0009_first_reply_and_report_indexes")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
