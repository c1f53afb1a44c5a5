"""Sending the outbox: claim with a lease, send outside any transaction, record the outcome.

One run serves one integration (``run_deliveries``), holding that integration's run slot so
that a slow receiver occupies at most one worker at a time, whatever the number of events
waiting for it; a run stops after ``WEBHOOK_RUN_SECONDS`` and hands over to a fresh task,
so other integrations' runs get their turn on a shared worker.

- **Claim**: a conditional UPDATE sets a lease (token and deadline) on up to
  ``WEBHOOK_BATCH_SIZE`` due deliveries whose lease is free or expired, each the oldest
  undelivered event of its conversation (a later event waits while an earlier one is
  retried), oldest first, skipping rows another worker is claiming.
- **Send**: with httpx, no database transaction open, to an address checked just now
  (apps.webhooks.targets), signed, 10 s timeout, no redirects; only a short excerpt of a
  failing answer is kept.
- **Outcome**: written only while the lease on the row is still ours. A worker killed
  before it wrote the outcome leaves the lease to expire; the delivery is then sent again
  with the same id (a receiver sees a repeat only after such a timeout).
- **Retries**: growing delays with jitter (the first within 5 s), for at least
  ``WEBHOOK_RETRY_HOURS``; a failed attempt after that gives up. An integration whose
  attempts keep failing is held back as a whole (a circuit breaker): after
  ``BREAKER_THRESHOLD`` consecutive failures it is tried again only at growing intervals,
  one delivery at a time, until an attempt succeeds.
"""

import logging
import random
import time
import uuid
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, F, Min, OuterRef, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from apps.accounts.models import IntegrationClient
from apps.webhooks import dispatch
from apps.webhooks.models import OPEN_STATUSES, Delivery, DeliveryStatus
from apps.webhooks.sending import Outcome, http_client, send

FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 3600.0
BREAKER_THRESHOLD = 3
MAX_BREAKER_SECONDS = 300.0
LEASE_MARGIN_SECONDS = 5.0
RUN_SLOT_KEY = "atende:webhooks:run:{}"

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- timing


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: 5 s doubling up to an
    hour, each drawn between half and all of it (jitter, so failing deliveries spread)."""
    ceiling = min(FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1), MAX_RETRY_SECONDS)
    return random.uniform(ceiling / 2, ceiling)


def breaker_delay(failures: int) -> float:
    """How long a failing integration is held back after ``failures`` consecutive ones."""
    steps = failures - BREAKER_THRESHOLD + 1
    ceiling = min(FIRST_RETRY_SECONDS * 2 ** max(0, steps - 1), MAX_BREAKER_SECONDS)
    return random.uniform(ceiling / 2, ceiling)


def lease_seconds(batch: int) -> float:
    return settings.WEBHOOK_TIMEOUT_SECONDS * batch + LEASE_MARGIN_SECONDS


# --------------------------------------------------------------------------- which are due


def _receiving(integration_id: int | None = None):
    """Integrations Atende calls now: active, not revoked, with a URL."""
    rows = IntegrationClient.objects.filter(active=True, revoked_at__isnull=True).exclude(
        webhook_url=""
    )
    return rows if integration_id is None else rows.filter(pk=integration_id)


def _heads(integration_id: int):
    """The integration's undelivered deliveries that no earlier one of the same conversation
    holds back."""
    earlier = Delivery.objects.filter(
        conversation_id=OuterRef("conversation_id"), status__in=OPEN_STATUSES,
        pk__lt=OuterRef("pk"),
    )
    return Delivery.objects.filter(
        ~Exists(earlier), integration_id=integration_id, status__in=OPEN_STATUSES
    )


def _lease_free(now: datetime) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lt=now)


def claim(integration_id: int, *, limit: int, now: datetime) -> list[Delivery]:
    """Lease up to ``limit`` due heads (see the module's docstring)."""
    token = uuid.uuid4()
    with transaction.atomic():
        # Lock first, then update what we locked: an UPDATE around a SKIP LOCKED subquery
        # may re-run it on a concurrently changed row and leave rows locked but unclaimed.
        due = list(
            _heads(integration_id)
            .filter(_lease_free(now), next_attempt_at__lte=now)
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if not due:
            return []
        claimed = Delivery.objects.filter(_lease_free(now), pk__in=due).update(
            lease_token=token,
            lease_until=now + timedelta(seconds=lease_seconds(limit)),
            attempts=F("attempts") + 1,
            last_attempt_at=now,
        )
    if not claimed:
        return []
    return list(Delivery.objects.filter(lease_token=token).order_by("pk"))


def next_due_at(integration_id: int) -> datetime | None:
    """When something of this integration can next be attempted (None: nothing pending, or
    the integration is not receiving)."""
    integration = _receiving(integration_id).only("webhook_retry_at").first()
    if integration is None:
        return None
    moment = _heads(integration_id).aggregate(
        at=Min(Greatest("next_attempt_at", Coalesce("lease_until", "next_attempt_at")))
    )["at"]
    if moment is not None and integration.webhook_retry_at is not None:
        moment = max(moment, integration.webhook_retry_at)
    return moment


# --------------------------------------------------------------------------- outcomes


def record_delivered(
    deliveries: list[Delivery], *, now: datetime, failures_before: int | None = None
) -> int:
    """Mark delivered what was sent, where the lease is still ours (one UPDATE for a batch:
    all of one claim share its lease token). ``failures_before``: the integration's
    consecutive failures as the caller knows them (reset only if there were any)."""
    if not deliveries:
        return 0
    written = Delivery.objects.filter(
        pk__in=[d.pk for d in deliveries], lease_token=deliveries[0].lease_token
    ).update(
        status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None,
        last_error="", lease_token=None, lease_until=None,
    )
    if failures_before is None or failures_before > 0:
        IntegrationClient.objects.filter(
            pk=deliveries[0].integration_id, webhook_failures__gt=0
        ).update(webhook_failures=0, webhook_failing_since=None, webhook_retry_at=None)
    return written


def record_outcome(
    delivery: Delivery, outcome: Outcome, *, now: datetime, failures_before: int | None = None
) -> bool:
    """Write what happened, if the lease is still ours. Returns whether it was written."""
    if outcome.delivered:
        return bool(record_delivered([delivery], now=now, failures_before=failures_before))
    give_up = now >= delivery.created_at + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    written = Delivery.objects.filter(pk=delivery.pk, lease_token=delivery.lease_token).update(
        status=DeliveryStatus.GAVE_UP if give_up else DeliveryStatus.FAILING,
        next_attempt_at=None if give_up else now + timedelta(
            seconds=retry_delay(delivery.attempts)
        ),
        last_error=outcome.error[: Delivery._meta.get_field("last_error").max_length],
        lease_token=None, lease_until=None,
    )
    _count_failure(delivery.integration_id, now=now)
    return bool(written)


def _count_failure(integration_id: int, *, now: datetime) -> None:
    rows = IntegrationClient.objects.filter(pk=integration_id)
    rows.update(
        webhook_failures=F("webhook_failures") + 1,
        webhook_failing_since=Coalesce("webhook_failing_since", now),
    )
    failures = rows.values_list("webhook_failures", flat=True).first() or 0
    if failures >= BREAKER_THRESHOLD:
        rows.update(webhook_retry_at=now + timedelta(seconds=breaker_delay(failures)))


def release(deliveries: list[Delivery]) -> None:
    """Give back claimed deliveries that were not attempted (the attempt is not counted)."""
    for delivery in deliveries:
        Delivery.objects.filter(pk=delivery.pk, lease_token=delivery.lease_token).update(
            lease_token=None, lease_until=None, attempts=F("attempts") - 1
        )


# --------------------------------------------------------------------------- runs


def _held_back(integration: IntegrationClient, now: datetime) -> bool:
    return integration.webhook_retry_at is not None and integration.webhook_retry_at > now


def _run_batches(integration_id: int, client: httpx.Client, *, until: float) -> int:
    sent = 0
    while time.monotonic() < until:
        integration = _receiving(integration_id).first()
        now = timezone.now()
        if integration is None or _held_back(integration, now):
            break
        failures = integration.webhook_failures
        batch = claim(
            integration_id, now=now,
            limit=1 if failures >= BREAKER_THRESHOLD else settings.WEBHOOK_BATCH_SIZE,
        )
        if not batch:
            break
        delivered: list[Delivery] = []
        known_failures = failures
        try:
            for index, delivery in enumerate(batch):
                outcome = send(client, integration, delivery)
                sent += 1
                if outcome.delivered:
                    delivered.append(delivery)
                    failures = 0
                    continue
                # Successes before a failure are written first: the count of consecutive
                # failures stays true.
                record_delivered(delivered, now=timezone.now(), failures_before=known_failures)
                delivered = []
                record_outcome(delivery, outcome, now=timezone.now())
                failures += 1
                known_failures = failures  # as the integration's row now says
                if failures >= BREAKER_THRESHOLD:
                    release(batch[index + 1:])  # the breaker trips: the rest waits with it
                    return sent
        finally:
            # The heads of distinct conversations: one write for the batch's successes.
            record_delivered(delivered, now=timezone.now(), failures_before=known_failures)
    return sent


def _take_slot(key: str, seconds: float) -> bool:
    try:
        return cache.add(key, 1, timeout=int(seconds) + 1)
    except Exception as error:  # no cache (Redis down): leases still keep sends apart
        logger.warning("webhook run slot unavailable (%s): running without it", error)
        return True


def _free_slot(key: str) -> None:
    try:
        cache.delete(key)
    except Exception as error:
        logger.warning("webhook run slot not freed (%s): it expires by itself", error)


def run_deliveries(*, integration_id: int) -> int:
    """Send what is due for one integration, for at most ``WEBHOOK_RUN_SECONDS``, then have
    the rest picked up (a follow-up run or the sweep). Returns how many attempts it made.
    While another run of the same integration holds its slot this one returns at once: that
    run sends everything due, including what was written meanwhile (it looks again after
    freeing the slot)."""
    slot = RUN_SLOT_KEY.format(integration_id)
    budget = settings.WEBHOOK_RUN_SECONDS
    attempts = 0
    while True:
        if not _take_slot(slot, budget + lease_seconds(settings.WEBHOOK_BATCH_SIZE)):
            dispatch.wake_later(integration_id, dispatch.WAKE_WITHIN_SECONDS)
            return attempts
        until = time.monotonic() + budget
        try:
            made = _run_batches(integration_id, http_client(), until=until)
        finally:
            _free_slot(slot)
        attempts += made
        due = next_due_at(integration_id)
        if due is None:
            return attempts
        wait = (due - timezone.now()).total_seconds()
        if wait > 0 or made == 0 or time.monotonic() >= until:
            # A retry later, rows another worker is claiming, or our time is up: a fresh run
            # takes it (the slot is free again, so nothing written meanwhile is stranded).
            dispatch.wake_later(integration_id, max(wait, 0.5 if made == 0 else 0.0))
            return attempts


def run_all_due() -> float | None:
    """Embedded mode: one pass over every receiving integration with pending deliveries.
    Returns the seconds until the next one is due (None: nothing pending)."""
    soonest = None
    integration_ids = (
        Delivery.objects.filter(
            status__in=OPEN_STATUSES, integration__in=_receiving()
        ).values_list("integration_id", flat=True).distinct()
    )
    for integration_id in list(integration_ids):
        run_deliveries(integration_id=integration_id)
        due = next_due_at(integration_id)
        if due is not None:
            wait = max(0.0, (due - timezone.now()).total_seconds())
            soonest = wait if soonest is None else min(soonest, wait)
    return soonest


def sweep_deliveries() -> dict:
    """The periodic safety net (celery beat): kick every integration that has something due
    (its task was lost, Redis was down, a worker died holding a lease), and forget finished
    deliveries older than ``WEBHOOK_KEEP_DAYS``."""
    now = timezone.now()
    receiving = _receiving().filter(
        Q(webhook_retry_at__isnull=True) | Q(webhook_retry_at__lte=now)
    )
    due = list(
        Delivery.objects.filter(
            _lease_free(now), status__in=OPEN_STATUSES, next_attempt_at__lte=now,
            integration__in=receiving,
        ).values_list("integration_id", flat=True).distinct()
    )
    if due:
        dispatch.kick(due)
    cutoff = now - timedelta(days=settings.WEBHOOK_KEEP_DAYS)
    old = Delivery.objects.filter(created_at__lt=cutoff).exclude(status__in=OPEN_STATUSES)
    forgotten, _by_model = Delivery.objects.filter(
        pk__in=list(old.values_list("pk", flat=True)[:10_000])
    ).delete()
    return {"kicked": len(due), "forgotten": forgotten}
