"""An agent who came online or freed capacity gets the oldest conversations THEY can serve
(routing.md sections 2 and 9.3), up to their free capacity.

One indexed query finds them: queued in one of the agent's ``capacity`` teams, or in a
``capacity`` team's queue overflowed to a team of theirs (the ladder), not taken back from
them for not replying, with no requirement in force that they do not meet (a NOT EXISTS
over the conversation's requirements and the agent's levels), oldest first, locked with
SKIP LOCKED and limited to their room. The agent's row is locked first, so their load
cannot move meanwhile and no limit is exceeded.
"""

from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Presence, User
from apps.conversations.models import Conversation, Status
from apps.conversations.reasons import part
from apps.core.db import retry_on_deadlock
from apps.routing.decisions import BacklogAssignment
from apps.routing.services.applying import apply_backlog_plan
from apps.skills.models import ConversationOverflow
from apps.skills.selectors import unmet_by
from apps.teams.models import DistributionMode, Membership, Team


def servable_by(agent_id: int):
    """The queued conversations ``agent_id`` may be given automatically, oldest first."""
    teams = Membership.objects.filter(agent_id=agent_id).values("team_id")
    capacity_teams = Team.objects.filter(
        pk__in=teams, distribution_mode=DistributionMode.CAPACITY
    ).values("pk")
    overflowed = ConversationOverflow.objects.filter(team_id__in=teams).values(
        "conversation_id"
    )
    return (
        Conversation.objects.filter(status=Status.QUEUED)
        .filter(
            Q(team_id__in=capacity_teams)
            | Q(pk__in=overflowed, team__distribution_mode=DistributionMode.CAPACITY)
        )
        .exclude(handed_over_from_id=agent_id)
        .filter(~unmet_by(agent_id))
        .order_by("queued_at", "id")
    )


@retry_on_deadlock
def give_agent_backlog(*, agent_id: int) -> int:
    """Give an online agent with room the oldest conversations they can serve. Returns
    how many."""
    with transaction.atomic():
        agent = (
            User.objects.select_for_update()
            .filter(pk=agent_id, is_active=True, presence=Presence.ONLINE)
            .first()
        )
        if agent is None or agent.open_count >= agent.capacity:
            return 0
        room = agent.capacity - agent.open_count
        rows = list(
            servable_by(agent_id)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", "team_id", "preferred_agent_id")[:room]
        )
        if not rows:
            return 0
        by_team: dict[int, list] = defaultdict(list)
        load = agent.open_count
        for pk, team_id, star in rows:
            by_team[team_id].append((pk, star, part(
                "backlog_for_agent", agent=agent.display_name, load=load,
                capacity=agent.capacity,
            )))
            load += 1
        now = timezone.now()
        for team in Team.objects.filter(pk__in=list(by_team)).order_by("pk"):
            items = by_team[team.pk]
            apply_backlog_plan(
                [BacklogAssignment(pk, agent.pk, reason) for pk, _star, reason in items],
                team=team, actor=None, now=now,
                preferred={pk: star for pk, star, _reason in items},
                limits={agent.pk: agent.capacity},
            )
        return len(rows)
