# Reasons become sentence codes with parameters (rendered in the reader's language); the
# English sentences written before are kept as "text" parts.

from django.db import migrations, models


def sentences_to_parts(apps, schema_editor):
    Event = apps.get_model("conversations", "ConversationEvent")
    batch = []
    for event in Event.objects.exclude(reason="").only("pk", "reason").iterator(chunk_size=2000):
        event.reason_parts = [{"code": "text", "params": {"text": event.reason}}]
        batch.append(event)
        if len(batch) >= 2000:
            Event.objects.bulk_update(batch, ["reason_parts"])
            batch = []
    if batch:
        Event.objects.bulk_update(batch, ["reason_parts"])


class Migration(migrations.Migration):

    dependencies = [
        ("conversations", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversationevent",
            name="reason_parts",
            field=models.JSONField(
                blank=True, default=list,
                help_text="Why, as sentence codes and their parameters "
                "(apps.conversations.reasons).",
            ),
        ),
        migrations.RunPython(sentences_to_parts, migrations.RunPython.noop),
        migrations.RemoveField(model_name="conversationevent", name="reason"),
        migrations.AlterField(
            model_name="conversationevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("routed", "Routed to a team"), ("queued", "Queued"),
                    ("waiting", "Left in Waiting"), ("reserved", "Reserved for preferred agent"),
                    ("released", "Reservation released"), ("assigned", "Assigned"),
                    ("claimed", "Claimed"), ("transferred", "Transferred"), ("closed", "Closed"),
                ],
                max_length=16,
            ),
        ),
    ]
