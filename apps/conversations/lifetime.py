"""Conversations alive during a period: arrived before its end and not closed before its
start. On PostgreSQL the question is a range overlap that the GiST index over the lifetime
(migration 0010) answers by the period asked; elsewhere a plain filter."""

from datetime import datetime

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

from apps.conversations.models import Conversation

# The expression of the index, letter for letter (an upper bound below the lower one, which
# no conversation should have, is clamped rather than allowed to break a write).
LIFETIME_SQL = (
    "tstzrange(created_at, CASE WHEN closed_at IS NULL THEN NULL "
    "ELSE GREATEST(closed_at, created_at) END, '[]')"
)


def alive_during(start: datetime, end: datetime) -> QuerySet[Conversation]:
    """Conversations with created_at < end and (closed_at >= start, or still open)."""
    if connection.vendor == "postgresql":
        overlaps = RawSQL(
            f"{LIFETIME_SQL} && tstzrange(%s, %s, '[)')", (start, end),
            output_field=BooleanField(),
        )
        return Conversation.objects.filter(overlaps)
    return Conversation.objects.filter(
        Q(closed_at__gte=start) | Q(closed_at__isnull=True), created_at__lt=end
    )
