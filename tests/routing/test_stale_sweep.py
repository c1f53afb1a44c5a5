"""The presence sweep after a crash, and the record of each sweep (beat can die silently)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Presence, User
from apps.conversations.models import Status
from apps.organizations.models import RuleType
from apps.routing import selectors, services, tasks
from apps.teams.models import DistributionMode
from tests.factories import (
    AgentFactory,
    ContactFactory,
    OrganizationFactory,
    RuleFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db


def test_after_a_crash_every_stale_agent_is_offline_before_anything_is_handed_on(
    arrive, invariants_hold
):
    """Both agents' processes died a minute ago. Releasing the first one's reservations must
    not hand them to the second, who is just as gone."""
    acme = OrganizationFactory(name="Acme")
    busy = AgentFactory(capacity=0, name="Busy")
    gone = AgentFactory(capacity=5, name="Gone")
    fresh_team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[gone])
    RuleFactory(organization=acme, agent=busy, type=RuleType.AUTO)
    reserved = [
        arrive(team=fresh_team, contact=ContactFactory(organization=acme)) for _ in range(2)
    ]
    assert {c.status for c in reserved} == {Status.RESERVED}
    crashed_at = timezone.now() - timedelta(minutes=5)
    User.objects.filter(pk__in=[busy.pk, gone.pk]).update(last_heartbeat=crashed_at)

    assert services.sweep_stale_presence(timeout_seconds=120) == 2

    assert set(User.objects.values_list("presence", flat=True)) == {Presence.OFFLINE}
    for conversation in reserved:
        conversation.refresh_from_db()
        assert (conversation.status, conversation.assignee) == (Status.QUEUED, None)
    gone.refresh_from_db()
    assert gone.open_count == 0
    invariants_hold()


def test_each_sweep_records_when_it_ran():
    assert selectors.last_sweep_at() is None
    before = timezone.now()
    tasks.sweep.delay()
    first = selectors.last_sweep_at()
    assert first is not None and first >= before
    tasks.sweep.delay()
    assert selectors.last_sweep_at() >= first
