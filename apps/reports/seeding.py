"""A realistic history, fast (``manage.py seed_history``): teams and agents, then day after
day of conversations with their history events and messages, the agents' shifts in the
history of people, and ratings. Deterministic for a seed. Rows go in with COPY on
PostgreSQL (bulk_create elsewhere), ids reserved from the tables' sequences in blocks.

A day: arrivals between 08:00 and 20:00 in the team's zone, busier at 10:00 and 15:00,
fewer at weekends; 6% give up before anyone answers; the rest wait (exponential, a
minute on average), get a first reply, are handled for about eight minutes; 4% are
transferred to a colleague, 2% handed over for want of a reply first; 20% are rated.
Agents work eight-hour shifts (from 08:00 or 12:00) with a half-hour break away.
"""

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from apps.accounts.models import AgentChange, Presence, Role, User
from apps.conversations.models import Conversation, ConversationEvent, Message
from apps.organizations.models import Contact
from apps.teams.models import DistributionMode, Membership, Team

ZONES = ("America/Sao_Paulo", "America/Sao_Paulo", "America/Sao_Paulo", "Europe/Lisbon")
SCORES = (1, 2, 3, 4, 5)
SCORE_WEIGHTS = (5, 5, 10, 30, 50)
HOURLY = [0] * 8 + [4, 7, 10, 9, 6, 7, 9, 10, 8, 6, 4, 3] + [0] * 4  # 08:00-20:00
BATCH = 20_000

CONVERSATION_COLUMNS = (
    "id", "contact_id", "channel", "status", "team_id", "assignee_id", "auto_assigned",
    "preferred_type", "created_at", "updated_at", "queued_at", "assigned_at", "closed_at",
    "last_activity_at", "rating_score", "rating_comment", "rated_at", "first_reply_at",
    "first_reply_by_id", "handed_at", "ladder_step", "has_requirements", "served_step",
)
EVENT_COLUMNS = (
    "conversation_id", "at", "kind", "actor_kind", "actor_id", "from_status", "to_status",
    "from_team_id", "to_team_id", "from_assignee_id", "to_assignee_id", "reason_parts", "data",
)
MESSAGE_COLUMNS = ("conversation_id", "sender_kind", "author_id", "body", "created_at")
CONTACT_COLUMNS = ("id", "name", "email", "phone", "external_id", "created_at")
CHANGE_COLUMNS = ("agent_id", "at", "kind", "before", "after", "cause")


@dataclass
class Crew:
    teams: list[tuple[int, str]]  # (id, zone)
    members: dict[int, list[int]]  # team -> agent ids


def moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class Writer:
    """Rows of one table, written in batches: COPY on PostgreSQL, bulk_create elsewhere."""

    def __init__(self, model, columns):
        self.model, self.columns, self.rows, self.count = model, columns, [], 0
        self.json = [n for n, c in enumerate(columns)
                     if model._meta.get_field(c).get_internal_type() == "JSONField"]

    def add(self, row):
        self.rows.append(row)

    def flush(self):
        if not self.rows:
            return
        if connection.vendor == "postgresql":
            table = self.model._meta.db_table
            names = ", ".join(self.model._meta.get_field(c).column for c in self.columns)
            with connection.cursor() as cursor, cursor.connection.cursor().copy(
                f"COPY {table} ({names}) FROM STDIN"
            ) as copy:
                if self.json:
                    from psycopg.types.json import Jsonb

                    for row in self.rows:
                        row = list(row)
                        for n in self.json:
                            row[n] = None if row[n] is None else Jsonb(row[n])
                        copy.write_row(row)
                else:
                    for row in self.rows:
                        copy.write_row(row)
        else:
            # The history's own times, not "now": auto_now_add is off for this insert.
            stamped = [f for f in self.model._meta.concrete_fields
                       if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False)]
            saved = [(f, f.auto_now, f.auto_now_add) for f in stamped]
            for field in stamped:
                field.auto_now = field.auto_now_add = False
            try:
                self.model.objects.bulk_create(
                    [self.model(**dict(zip(self.columns, row, strict=True)))
                     for row in self.rows],
                    batch_size=500,
                )
            finally:
                for field, auto_now, auto_now_add in saved:
                    field.auto_now, field.auto_now_add = auto_now, auto_now_add
        self.count += len(self.rows)
        self.rows = []


def reserve_ids(model, count: int) -> int:
    """The first of ``count`` consecutive ids nobody else will be given."""
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"GREATEST(nextval(pg_get_serial_sequence('{table}', 'id')), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table})) + %s - 1)", [count])
            return cursor.fetchone()[0] - count + 1
    last = model.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return last + 1


def make_crew(*, teams: int, agents: int) -> Crew:
    """The seed's teams and agents (found again when the history is extended)."""
    found = list(Team.objects.filter(name__startswith="Histórico ").order_by("id"))
    if len(found) < teams:
        Team.objects.bulk_create(
            Team(name=f"Histórico {n + 1:02d}", timezone=ZONES[n % len(ZONES)],
                 distribution_mode=DistributionMode.MANUAL, answer_target_seconds=60)
            for n in range(len(found), teams))
        found = list(Team.objects.filter(name__startswith="Histórico ").order_by("id"))
    found = found[:teams]
    people = list(User.objects.filter(username__startswith="historico-").order_by("id"))
    if len(people) < agents:
        User.objects.bulk_create(
            User(username=f"historico-{n + 1:04d}", name=f"Agente {n + 1}", role=Role.AGENT,
                 capacity=5, presence=Presence.OFFLINE, password="!")
            for n in range(len(people), agents))
        people = list(User.objects.filter(username__startswith="historico-").order_by("id"))
    people = people[:agents]
    members = {team.pk: [] for team in found}
    for n, person in enumerate(people):
        members[found[n % len(found)].pk].append(person.pk)
    Membership.objects.bulk_create(
        [Membership(team_id=team, agent_id=agent)
         for team, ids in members.items() for agent in ids],
        ignore_conflicts=True,
    )
    return Crew(teams=[(team.pk, team.timezone) for team in found], members=members)


def seed_history(*, conversations: int, teams: int, agents: int, days: int, seed: int,
                 end: date, now: datetime, progress=None) -> dict:
    """Write ``conversations`` over the ``days`` days before ``end`` (exclusive)."""
    rng = random.Random(seed)
    with transaction.atomic():
        crew = make_crew(teams=teams, agents=max(agents, teams))
    weights = [1 / (n + 1) ** 0.5 for n in range(len(crew.teams))]
    day_weights = [0.4 if (end - timedelta(days=d + 1)).weekday() >= 5 else 1.0
                   for d in range(days)]
    per_weight = conversations / sum(day_weights)
    first_conversation = reserve_ids(Conversation, conversations + 10)
    contacts_wanted = max(1, conversations // 3)
    first_contact = reserve_ids(Contact, contacts_wanted + conversations // 50 + 10)
    writers = {
        "contacts": Writer(Contact, CONTACT_COLUMNS),
        "conversations": Writer(Conversation, CONVERSATION_COLUMNS),
        "events": Writer(ConversationEvent, EVENT_COLUMNS),
        "messages": Writer(Message, MESSAGE_COLUMNS),
        "changes": Writer(AgentChange, CHANGE_COLUMNS),
    }
    made = {"contacts": 0}
    for n in range(contacts_wanted):
        writers["contacts"].add((first_contact + n, f"Cliente {first_contact + n}", "", "",
                                 f"hist:{seed}:{first_contact + n}", now))
    made["contacts"] = contacts_wanted
    next_id = first_conversation
    remaining = conversations
    fresh_contact = first_contact + contacts_wanted
    for d in range(days):
        day = end - timedelta(days=days - d)
        count = remaining if d == days - 1 else min(remaining, round(per_weight * day_weights[
            days - d - 1]))
        remaining -= count
        for team_n, (team_id, zone) in enumerate(crew.teams):
            share = round(count * weights[team_n] / sum(weights))
            midnight = datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).timestamp()
            for agent_id in crew.members[team_id]:
                _shift(writers["changes"], agent_id, midnight, rng, now.timestamp())
            for _ in range(share):
                if next_id >= first_conversation + conversations + 10:
                    break
                hour = rng.choices(range(24), HOURLY)[0]
                arrival = midnight + hour * 3600 + rng.random() * 3600
                if arrival > now.timestamp() - 60:
                    continue
                contact = first_contact + rng.randrange(contacts_wanted)
                if arrival > now.timestamp() - 6 * 3600:  # may still be open: its own contact
                    writers["contacts"].add((fresh_contact, f"Cliente {fresh_contact}", "", "",
                                             f"hist:{seed}:{fresh_contact}", now))
                    contact, fresh_contact = fresh_contact, fresh_contact + 1
                    made["contacts"] += 1
                _conversation(writers, next_id, contact, team_id, crew.members[team_id],
                              arrival, rng, now.timestamp())
                next_id += 1
            if sum(len(w.rows) for w in writers.values()) > BATCH:
                _flush(writers)
        if progress:
            progress(d + 1, days)
    _flush(writers)
    _loads()
    return {name: writer.count for name, writer in writers.items()}


def _flush(writers):
    """Every table's rows, parents first, in one transaction (foreign keys are checked at
    its end)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The rows are made consistent here: the per-row foreign-key triggers (most of
            # a COPY's cost) are skipped for this transaction where the role allows it.
            with connection.cursor() as cursor:
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                if cursor.fetchone()[0]:
                    cursor.execute("SET LOCAL session_replication_role = replica")
        for writer in writers.values():
            writer.flush()


def _shift(changes: Writer, agent_id: int, midnight: float, rng: random.Random, now: float):
    start = midnight + (8 if agent_id % 2 else 12) * 3600 + rng.randrange(-600, 600)
    steps = ((0, "offline", "online", "connected"), (4 * 3600, "online", "away", "chose"),
             (4.5 * 3600, "away", "online", "chose"), (8 * 3600, "online", "offline",
                                                        "disconnected"))
    for offset, before, after, cause in steps:
        if start + offset < now:
            changes.add((agent_id, moment(start + offset), "presence", before, after, cause))


def _conversation(writers, pk, contact, team_id, members, arrival, rng, now):
    queued = {"code": "team_manual", "params": {"team": team_id}}
    events, messages = writers["events"], writers["messages"]
    events.add((pk, moment(arrival), "queued", "system", None, "", "queued", None, team_id,
                None, None, [queued], {}))
    messages.add((pk, "contact", None, "Olá, preciso de ajuda", moment(arrival)))
    if rng.random() < 0.06:  # gave up before anyone answered
        closed = arrival + rng.expovariate(1 / 180)
        status, closed_at = ("closed", closed) if closed < now else ("queued", None)
        writers["conversations"].add((
            pk, contact, "whatsapp", status, team_id, None, False, "", moment(arrival),
            moment(closed_at or arrival), moment(arrival), None,
            moment(closed_at) if closed_at else None, moment(closed_at or arrival), None, "",
            None, None, None, None, 0, False, None))
        if closed_at:
            events.add((pk, moment(closed), "closed", "system", None, "queued", "closed", team_id,
                        team_id, None, None, [], {}))
        return
    wait = rng.expovariate(1 / 45)
    if rng.random() < 0.02:  # handed over for want of a reply, then taken again
        wait += 60 + rng.expovariate(1 / 30)
        events.add((pk, moment(arrival + wait - 30), "handed_over", "time_rule", None,
                    "assigned", "queued", team_id, team_id, members[0], None, [], {}))
    assigned = arrival + wait
    agent = rng.choice(members)
    events.add((pk, moment(assigned), "claimed", "agent", agent, "queued", "assigned", team_id,
                team_id, None, agent, [], {}))
    reply = assigned + rng.expovariate(1 / 20)
    closed = reply + math.exp(rng.gauss(math.log(420), 0.6))
    if rng.random() < 0.04 and len(members) > 1:  # handed to a colleague
        other = rng.choice([m for m in members if m != agent])
        moved = reply + (closed - reply) / 2
        events.add((pk, moment(moved), "transferred", "agent", agent, "assigned", "assigned",
                    team_id, team_id, agent, other, [], {}))
        final, handed = other, moved
    else:
        final, handed = agent, None
    if reply < now:
        messages.add((pk, "agent", agent, "Bom dia! Como posso ajudar?", moment(reply)))
    open_now = closed >= now
    rated = not open_now and rng.random() < 0.2
    rated_at = closed + 60 + rng.random() * 600 if rated else None
    if rated_at is not None and rated_at >= now:
        rated, rated_at = False, None
    score = rng.choices(SCORES, SCORE_WEIGHTS)[0] if rated else None
    writers["conversations"].add((
        pk, contact, "whatsapp", "assigned" if open_now else "closed", team_id, final, False, "",
        moment(arrival), moment(min(closed, now)), moment(arrival),
        moment(handed or assigned),
        None if open_now else moment(closed), moment(min(closed, now)), score,
        "" if not rated else "Obrigado", moment(rated_at) if rated else None,
        moment(reply) if reply < now else None, agent if reply < now else None,
        moment(handed) if handed else None, 0, False, 0 if reply < now else None))
    if not open_now:
        events.add((pk, moment(closed), "closed", "agent", final, "assigned", "closed", team_id,
                    team_id, final, final, [], {}))
    if rated:
        events.add((pk, moment(rated_at), "rated", "customer", None, "closed", "closed",
                    team_id, team_id, final, final, [], {"score": score}))


def _loads():
    """Each seeded agent's load counter: their open assigned conversations."""
    from django.db.models import Count, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    counts = (Conversation.objects.filter(assignee_id=OuterRef("pk"), status="assigned")
              .order_by().values("assignee_id").annotate(n=Count("id")).values("n"))
    User.objects.filter(username__startswith="historico-").update(
        open_count=Coalesce(Subquery(counts), 0))
