"""The "away" an agent chose is kept in the database: a restart of Redis (here: the cache
emptied) or of the server does not turn them online when they open the inbox again, whether
they chose it in the inbox (the websocket) or through the API."""

import pytest
from django.core.cache import cache

from apps.accounts.models import Presence, User
from apps.inbox import presence
from tests.api.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def now(agent):
    return User.objects.get(pk=agent.pk).presence


@pytest.mark.parametrize("where", ["inbox", "api"])
def test_away_outlives_a_redis_restart(where):
    agent = UserFactory(presence=Presence.OFFLINE)
    presence.register(agent.pk, "tab-1")
    presence.connection_opened(agent, "tab-1")
    assert now(agent) == Presence.ONLINE
    if where == "inbox":
        presence.choose(agent, Presence.AWAY)
    else:
        answer = client_for(agent).put("/api/v1/me/presence", {"status": "away"},
                                       format="json")
        assert answer.status_code == 200
    assert now(agent) == Presence.AWAY

    cache.clear()  # Redis restarted: every connection and anything kept there is gone
    assert presence.settle_after_grace(agent.pk)
    assert now(agent) == Presence.OFFLINE
    presence.register(agent.pk, "tab-2")
    presence.connection_opened(agent, "tab-2")
    assert now(agent) == Presence.AWAY

    # Choosing online is kept the same way.
    presence.choose(agent, Presence.ONLINE)
    cache.clear()
    assert presence.settle_after_grace(agent.pk)
    presence.register(agent.pk, "tab-3")
    presence.connection_opened(agent, "tab-3")
    assert now(agent) == Presence.ONLINE


def test_a_supervisor_setting_someone_away_is_not_their_choice():
    from apps.routing import services
    from tests.factories import SupervisorFactory

    agent = UserFactory(presence=Presence.ONLINE)
    services.set_presence(agent=agent, status=Presence.AWAY, actor=SupervisorFactory())
    assert not User.objects.get(pk=agent.pk).chose_away
