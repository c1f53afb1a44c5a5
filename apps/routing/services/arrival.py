"""A new conversation: opened and routed at once (routing.md section 1).

First the preferential rule (section 4): an automatic rule whose agent is online assigns or
reserves the conversation and stops there; a queue rule stars it. Then the team (the bot's,
else the default team, else Waiting) and the team's distribution.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from apps.accounts.models import IntegrationClient, Presence, User
from apps.conversations.models import (
    ActorKind,
    Conversation,
    EventKind,
    InboundReceipt,
    Message,
    Status,
)
from apps.conversations.reasons import Part, part
from apps.core.inserts import Ref, write_together
from apps.organizations.models import Contact, PreferentialRule, RuleType
from apps.organizations.selectors import preferential_rule_for
from apps.routing.decisions import (
    Candidate,
    Levels,
    RuleOutcome,
    decide_auto_rule,
    describe_requirements,
)
from apps.routing.services.history import Actor, record_event
from apps.routing.services.ladder_clock import skill_names
from apps.routing.services.load import take_and_touch
from apps.routing.services.placing import place_in_team
from apps.routing.services.requirements import (
    arrival_requirements,
    last_agent_of,
    write_requirements,
)
from apps.routing.services.time_rules import DeadlineKind, expect, reply_due, reservation_limit
from apps.teams import config_cache
from apps.teams.hours import state_of
from apps.teams.models import Team
from apps.teams.selectors import default_team

ARRIVAL_KINDS = {
    Status.ASSIGNED: EventKind.ASSIGNED,
    Status.RESERVED: EventKind.RESERVED,
    Status.QUEUED: EventKind.QUEUED,
    Status.WAITING: EventKind.WAITING,
}


@dataclass
class Outcome:
    reason: Part | list[Part]
    decided: bool  # assigned or reserved by the rule: routing stops here


def open_conversation(
    *, contact: Contact, channel: str, team: Team | None = None, actor: Actor = None,
    message: Message | None = None, receipt: InboundReceipt | None = None,
    requirements: Levels | None = None,
) -> Conversation:
    """Open and route a new conversation. Runs inside the caller's transaction (intake);
    raises IntegrityError if the contact already has an open one. Opened by an integration,
    it belongs to that integration (which may read it and receives its webhooks).

    The intake hands over the first ``message`` (and its channel ``receipt``) unsaved, and
    the contact unsaved when it is new: they are written with the conversation and its
    first event in one statement (``write_together``). ``requirements``: the skills the
    channel named ({skill id: minimum level}); the contact's organization may add its own
    (the higher minimum wins)."""
    now = timezone.now()
    conversation = Conversation(
        contact=contact, channel=channel, status=Status.WAITING, queued_at=now,
        last_activity_at=now,
        integration=actor if isinstance(actor, IntegrationClient) else None,
    )
    target_team, team_reason = _target_team(team)
    target_team, after_hours = after_hours_target(target_team, now=now)
    reasons: list[Part] = []
    data: dict = {}
    decided_by: str | None = None  # an automatic decision names itself in the history

    rule = preferential_rule_for(contact)
    if rule is None:
        reasons.append(part("no_rule"))
    else:
        source = rule_source(rule, contact)
        data["rule"] = {"id": rule.pk, "type": rule.type, "source": source}
        outcome = apply_preferential_rule(
            conversation, rule, source=source, team=target_team, now=now
        )
        reasons.extend(outcome.reason if isinstance(outcome.reason, list) else [outcome.reason])
        if outcome.decided:
            decided_by = ActorKind.PREFERENTIAL_RULE

    needs = arrival_requirements(contact, requirements)
    conversation.has_requirements = bool(needs)
    if needs:
        reasons.append(part(
            "requires", requirements=describe_requirements(
                {s: level for s, (level, _source) in needs.items()},
                skill_names({s: level for s, (level, _source) in needs.items()}),
            ),
        ))
    if decided_by is None:
        reasons.append(team_reason)
        if after_hours is not None:
            reasons.append(after_hours)
        placed = place_in_team(
            conversation, target_team, now=now,
            requirements={s: level for s, (level, _source) in needs.items()},
            last_agent_id=last_agent_of(contact, target_team, now=now),
        )
        reasons.append(placed.reason)
        if placed.auto_assigned_to:
            decided_by = (
                ActorKind.STICKY if placed.by == "last_agent" else ActorKind.DISTRIBUTION
            )
    elif after_hours is not None:
        reasons.append(after_hours)  # where a reservation goes if it is released
    def write(event):
        rows, refs = [conversation, event], [Ref(event, "conversation_id", conversation)]
        if contact.pk is None:
            rows.insert(0, contact)
            refs.append(Ref(conversation, "contact_id", contact))
        if message is not None:
            rows.append(message)
            refs += [Ref(message, "conversation_id", conversation),
                     Ref(conversation, "last_message_id", message)]
            if receipt is not None:
                rows.append(receipt)
                refs.append(Ref(receipt, "message_id", message))
                if contact.pk is None:
                    refs.append(Ref(receipt, "contact_id", contact))
        write_together(rows, refs)

    record_event(
        conversation, kind=ARRIVAL_KINDS[conversation.status], before=None, actor=actor,
        reason=reasons, actor_kind=decided_by, data=data, write=write,
    )
    write_requirements(conversation.pk, needs)
    return conversation


def after_hours_target(team: Team | None, *, now) -> tuple[Team | None, Part | None]:
    """A closed team whose administrator named an after-hours team sends its new
    conversations there (one step: the after-hours team takes them whatever its own
    hours). Returns the team to use and why, if it changed."""
    if team is None or team.after_hours_team_id is None:
        return team, None
    schedule = config_cache.schedule(team)
    state = state_of(schedule, now)
    if state.open:
        return team, None
    after = Team.objects.get(pk=team.after_hours_team_id)
    if state.opens_at is None:
        return after, part("team_closed_no_opening", team=team.name, after=after.name)
    opens = timezone.localtime(state.opens_at, schedule.zone)
    return after, part(
        "team_closed_after_hours", team=team.name, after=after.name,
        opens=opens.strftime("%Y-%m-%d %H:%M") + f" ({team.timezone})",
    )


def _target_team(team: Team | None) -> tuple[Team | None, Part]:
    if team is not None:
        return team, part("bot_chose_team", team=team.name)
    default = default_team()
    if default is None:
        return None, part("no_default_team")
    return default, part("default_team", team=default.name)


def rule_source(rule: PreferentialRule, contact: Contact) -> Part:
    """Where the rule that applies to ``contact`` sits: on the contact, on its node, or
    inherited from a node above."""
    if rule.contact_id:
        return part("source_contact", contact=str(contact))
    if rule.organization_id == contact.organization_id:
        return part("source_organization", organization=rule.organization.name)
    return part(
        "source_inherited", organization=rule.organization.name,
        node=contact.organization.name,
    )


def apply_preferential_rule(
    conversation: Conversation, rule: PreferentialRule, *, source: Part, team: Team | None, now
) -> Outcome:
    """Star the conversation for the rule's agent and, for an automatic rule whose agent is
    online, assign it to them (free capacity) or reserve it for them (at their limit). The
    conversation is changed in memory; the caller saves it."""
    agent = rule.agent
    conversation.preferred_agent = agent
    conversation.preferred_type = rule.type
    if rule.type == RuleType.QUEUE:
        return Outcome(
            part("queue_rule_starred", source=source, agent=agent.display_name), decided=False
        )
    # Lock the agent's row, then decide on it: a concurrent presence change or assignment
    # waits for us (or we for it), so a reservation is never made for an agent who already
    # left and the take below cannot find them full.
    current = User.objects.select_for_update().only(
        "presence", "capacity", "open_count", "is_active"
    ).get(pk=agent.pk)
    limit = reservation_limit(rule)
    decision = decide_auto_rule(
        Candidate(agent.pk, agent.display_name, current.capacity, current.open_count),
        online=current.presence == Presence.ONLINE and current.is_active,
        wait_limit=limit,
    )
    taken = None
    if decision == RuleOutcome.ASSIGN:
        taken = take_and_touch(agent.pk, team.pk if team is not None else None, now)
    if taken is not None:
        conversation.status = Status.ASSIGNED
        conversation.team = team
        conversation.assignee = taken
        conversation.auto_assigned = True
        conversation.assigned_limit = taken.capacity
        conversation.assigned_at = now
        conversation.reply_due_at = reply_due(team, now)
        expect(DeadlineKind.REPLY, conversation.reply_due_at)
        return Outcome(
            part("auto_rule_assigned", source=source, agent=agent.display_name), decided=True
        )
    if decision == RuleOutcome.BUSY_NO_WAIT:
        return Outcome(
            part(
                "auto_rule_busy_no_wait", source=source, agent=agent.display_name,
                load=current.open_count, capacity=current.capacity,
            ),
            decided=False,
        )
    if decision in (RuleOutcome.RESERVE, RuleOutcome.ASSIGN):
        conversation.status = Status.RESERVED
        conversation.team = team
        reserved = part(
            "auto_rule_reserved", source=source, agent=agent.display_name,
            load=current.open_count, capacity=current.capacity,
        )
        if limit is None:
            return Outcome(reserved, decided=True)
        conversation.reserved_until = now + timedelta(seconds=limit)
        expect(DeadlineKind.RESERVATION, conversation.reserved_until)
        return Outcome([reserved, part("reservation_limit", limit=limit)], decided=True)
    return Outcome(
        part(
            "auto_rule_not_online", source=source, agent=agent.display_name,
            presence=current.presence,
        ),
        decided=False,
    )
