"""Reads of the outbound webhooks, each in a fixed number of queries."""

from django.db.models import QuerySet

from apps.webhooks.models import Delivery

MAX_LISTED = 200


def latest_deliveries(integration_id: int, *, limit: int = 50, status: str | None = None,
                      before: int | None = None) -> QuerySet[Delivery]:
    """An integration's latest deliveries, newest first (one query). ``before``: only those
    older than that row (the next page of a long list)."""
    rows = Delivery.objects.filter(integration_id=integration_id)
    if status:
        rows = rows.filter(status=status)
    if before is not None:
        rows = rows.filter(pk__lt=before)
    return rows.defer("body").order_by("-id")[: max(1, min(limit, MAX_LISTED))]
