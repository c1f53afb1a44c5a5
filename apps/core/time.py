"""How moments are written in payloads."""

from datetime import datetime

from django.utils import timezone


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with a zone, as DRF writes it (UTC as ``Z``)."""
    if moment is None:
        return None
    value = timezone.localtime(moment).isoformat()
    return value[:-6] + "Z" if value.endswith("+00:00") else value
