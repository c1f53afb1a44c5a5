"""From committed changes to websocket pushes: the announcement subscriber and the
coalescer. The event payloads are built in ``apps.inbox.events``, the shared pending list is
``apps.inbox.pending``, publishing from sync code is ``apps.inbox.publish``.

The subscriber (``on_announcement``, run after commit in whatever process made the change:
an ASGI worker, a Celery worker, a management command) only records what changed in a
shared pending list and arms one flush. With REDIS_URL the list and the "a flush is armed"
flag live in Redis, so every process coalesces into the same flush; embedded mode keeps
them in memory (one process). The flush runs at most every COUNTS_COALESCE_SECONDS: it
loads the current state of the changed conversations and messages, computes the absolute
counts of the dirty scopes in one aggregate query, and sends one ``inbox.batch`` message
per group. Each consumer merges the batch into what its client last saw and forwards
``conversation.updated`` / ``message.created`` / ``queue.counts`` events. A burst of 500
arrivals therefore costs each group a handful of channel-layer messages, not 500.

Where the flush runs depends on the process. An ASGI server process (a consumer remembered
its running loop) flushes on that loop, coalesced and throttled as above. A process with no
server loop (a Celery worker, a management command, a server before its first websocket)
flushes synchronously at commit time: with Redis it publishes with a plain synchronous
client, in the pub/sub layer's own wire format, so sockets held by any server process get
it; with the in-memory layer there is no socket to deliver to, so nothing is sent. No timer
thread, event loop or connection outlives a commit there, so such processes may fork (the
Celery prefork pool, the benchmarks) and exit at any time.
"""

import asyncio
import contextvars
import logging
import os
import time
import uuid
from collections import defaultdict

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db.models import Count, Q

from apps.accounts.models import User
from apps.conversations.events import ConversationsChanged, MessageCreated
from apps.conversations.models import Conversation, Message, Status
from apps.conversations.payloads import conversation_payload, message_payload
from apps.conversations.waits import attach_queue_info
from apps.inbox import groups
from apps.inbox.events import (  # noqa: F401  (the payload builders, used through realtime)
    ACCESS_TYPE,
    access_notice,
    agent_row_payload,
    agents_updated_event,
    conversation_updated_event,
    error_event,
    handed_over_event,
    live_paused_event,
    live_resumed_event,
    message_created_event,
    pong_event,
    presence_changed_event,
    queue_counts_event,
)
from apps.inbox.pending import pending_store
from apps.inbox.publish import sync_publisher
from apps.routing.events import HandedOver, Handover, PresenceChanged
from apps.teams.events import MembershipsChanged
from apps.teams.models import Team

logger = logging.getLogger(__name__)

BATCH_TYPE = "inbox.batch"  # handed to the sockets by apps.inbox.hub


# --------------------------------------------------------------------------- subscriber


def entries_for(announcement) -> list[dict]:
    """What an announcement makes dirty, as JSON-able entries of the pending list:
    ``conversation`` ids with the groups that saw them before or after, ``message`` ids,
    and the count scopes (waiting, teams, agents) and agent rows to recompute."""
    if isinstance(announcement, ConversationsChanged):
        entries = []
        for conversation_id, before, after in announcement.changes:
            placements = [p for p in (before, after) if p is not None]
            entries.append(
                {
                    "conversation": conversation_id,
                    "groups": sorted(set().union(*(groups.groups_seeing(p) for p in placements))),
                    "waiting": any(p.status == Status.WAITING for p in placements),
                    "teams": sorted({p.team_id for p in placements if p.team_id}),
                    "agents": sorted(
                        {p.assignee_id for p in placements if p.assignee_id}
                        | {p.preferred_agent_id for p in placements if p.preferred_agent_id}
                    ),
                    "loads": sorted({p.assignee_id for p in placements if p.assignee_id}),
                }
            )
        return entries
    if isinstance(announcement, MessageCreated):
        return [
            {
                "message": announcement.message_id,
                "conversation": announcement.conversation_id,
                "groups": sorted(groups.groups_seeing(announcement.placement)),
            }
        ]
    if isinstance(announcement, PresenceChanged):
        return [{"presence": announcement.agent_id, "loads": [announcement.agent_id]}]
    if isinstance(announcement, MembershipsChanged):
        return [{"regroup": agent_id} for agent_id in announcement.agent_ids]
    if isinstance(announcement, HandedOver):
        return [{"handover": handover_payload(h)} for h in announcement.handovers]
    return []


def handover_payload(handover: Handover) -> dict:
    return {
        "conversation": handover.conversation_id,
        "agent": handover.agent_id,
        "contact_name": handover.contact_name,
        "team": handover.team_id,
        "team_name": handover.team_name,
        "reply_seconds": handover.reply_seconds,
        "at": handover.at,
    }


def on_announcement(announcement) -> None:
    """Subscriber of apps.core.announce (runs after commit, in sync code)."""
    entries = entries_for(announcement)
    if entries:
        pending_store().push(entries)
        schedule_flush()


# --------------------------------------------------------------------------- scheduling

_server_loop: asyncio.AbstractEventLoop | None = None
_tasks: set = set()


def remember_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Consumers record their server's event loop: flushes scheduled from this process's
    sync threads run there (the in-memory layer only delivers on its own loop)."""
    global _server_loop
    _server_loop = loop


def _running_server_loop() -> asyncio.AbstractEventLoop | None:
    loop = _server_loop
    if loop is not None and loop.is_running() and not loop.is_closed():
        return loop
    return None


def _armed_ttl() -> float:
    # Long enough to cover one flush; short enough that a process that died while armed
    # only delays the next flush a little.
    return max(1.0, settings.COUNTS_COALESCE_SECONDS * 4)


def schedule_flush() -> None:
    """Arm one flush unless one is already armed (anywhere: the armed process's flush takes
    what was pushed before it). On a server loop the flush is throttled on the leading edge:
    a change after a quiet spell goes out at once; during a burst, at most one flush per
    COUNTS_COALESCE_SECONDS. Without a server loop it runs now, in this thread."""
    loop = _running_server_loop()
    if loop is None:
        if sync_publisher() is None:
            # The in-memory layer and no server loop here: no socket anywhere to tell.
            pending_store().take()
        elif pending_store().arm(_armed_ttl()):
            flush_now()
        return
    store = pending_store()
    if not store.arm(_armed_ttl()):
        return
    since_last = time.time() - store.last_flush()
    delay = max(0.0, settings.COUNTS_COALESCE_SECONDS - since_last)
    # A fresh context: the caller's (a request's sync thread) would make the flush's
    # sync_to_async believe it is nested in that request and refuse to run.
    loop.call_soon_threadsafe(_flush_later_on_loop, loop, delay, context=contextvars.Context())


def _flush_later_on_loop(loop: asyncio.AbstractEventLoop, delay: float) -> None:
    def start():
        task = loop.create_task(_logged(aflush()), context=contextvars.Context())
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)

    loop.call_later(delay, start, context=contextvars.Context())


async def _logged(flush) -> None:
    try:
        await flush
    except Exception:
        logger.exception("inbox flush failed")


def _forget_process_state() -> None:
    """In a forked child: nothing of the parent's is ours (its Redis sockets, its loop, a
    lock another of its threads may have held at fork time, what it had pending)."""
    global _server_loop
    _server_loop = None
    _tasks.clear()


os.register_at_fork(after_in_child=_forget_process_state)


# --------------------------------------------------------------------------- flushing


def _collect() -> dict[str, dict]:
    store = pending_store()
    # Disarm before taking: an entry pushed after this point arms the next flush.
    store.disarm()
    return build_batches(store.take())


def flush_now() -> int:
    """Flush the pending changes at once from sync code (never on the server loop's own
    thread); returns group messages sent."""
    publisher = sync_publisher()
    loop = _running_server_loop()
    if publisher is None and loop is None:
        pending_store().take()  # the in-memory layer with no server here: nobody to tell
        return 0
    batches = _collect()
    if not batches:
        return 0
    if publisher is not None:
        publisher.group_send_many(batches)
    else:
        asyncio.run_coroutine_threadsafe(_send_batches(batches), loop).result(timeout=30)
    return len(batches)


async def aflush() -> int:
    """Flush the pending changes at once from async code (tests call it to be
    deterministic; the armed timer calls it on the server loop)."""
    batches = await database_sync_to_async(_collect)()
    if batches:
        await _send_batches(batches)
    return len(batches)


async def _send_batches(batches: dict[str, dict]) -> None:
    layer = get_channel_layer()
    for group, message in batches.items():
        await layer.group_send(group, message)


def build_batches(entries: list[dict]) -> dict[str, dict]:
    """Turn pending entries into one ``inbox.batch`` message per group: the latest state of
    each changed conversation, the new messages, absolute counts of the dirty scopes and
    supervisors' agent rows. Five queries at most, whatever the number of entries."""
    if not entries:
        return {}
    conversation_groups: dict[int, set[str]] = defaultdict(set)
    message_groups: dict[int, set[str]] = defaultdict(set)
    waiting_dirty = False
    team_ids: set[int] = set()
    agent_ids: set[int] = set()
    load_ids: set[int] = set()
    presence_ids: set[int] = set()
    regroup_ids: set[int] = set()
    handovers: list[dict] = []
    for entry in entries:
        if "regroup" in entry:
            regroup_ids.add(entry["regroup"])
            continue
        if "handover" in entry:
            handovers.append(entry["handover"])
            continue
        if "message" in entry:
            message_groups[entry["message"]].update(entry["groups"])
        elif "conversation" in entry:
            conversation_groups[entry["conversation"]].update(entry["groups"])
            waiting_dirty |= entry["waiting"]
            team_ids.update(entry["teams"])
            agent_ids.update(entry["agents"])
        if "presence" in entry:
            presence_ids.add(entry["presence"])
        load_ids.update(entry.get("loads", ()))

    flush_id = uuid.uuid4().hex
    batches: dict[str, dict] = {}

    def batch(group: str) -> dict:
        if group not in batches:
            # The group it was sent to: a socket that left the group since ignores it.
            batches[group] = {"type": BATCH_TYPE, "flush": flush_id, "group": group}
        return batches[group]

    supervisors = groups.supervisors_group()
    for handover in handovers:
        batch(groups.agent_group(handover["agent"])).setdefault("handovers", []).append(handover)
    for agent_id in regroup_ids:
        # Their teams changed: each connection joins and leaves groups and recounts.
        batch(groups.agent_group(agent_id))["regroup"] = True

    if conversation_groups:
        changed = list(
            Conversation.objects.filter(pk__in=list(conversation_groups)).select_related(
                "contact", "team", "assignee", "preferred_agent", "last_message"
            )
        )
        attach_queue_info(changed)
        for conversation in changed:
            payload = conversation_payload(conversation)
            for group in conversation_groups[conversation.pk] | {supervisors}:
                batch(group).setdefault("conversations", []).append(payload)

    if message_groups:
        for message in Message.objects.filter(pk__in=list(message_groups)).select_related(
            "author"
        ):
            item = {"conversation": message.conversation_id, "message": message_payload(message)}
            for group in message_groups[message.pk] | {supervisors}:
                batch(group).setdefault("messages", []).append(item)

    if waiting_dirty or team_ids or agent_ids:
        counts = scope_counts(waiting=waiting_dirty, team_ids=team_ids, agent_ids=agent_ids)
        if waiting_dirty:
            for group in (groups.waiting_group(), supervisors):
                batch(group).setdefault("counts", {})["waiting"] = counts["waiting"]
        for team in counts["teams"]:
            for group in (groups.team_group(team["id"]), supervisors):
                batch(group).setdefault("counts", {}).setdefault("teams", []).append(team)
        for agent_id, mine in counts["agents"].items():
            batch(groups.agent_group(agent_id)).setdefault("counts", {}).update(mine)

    if load_ids or presence_ids:
        rows = list(
            User.objects.filter(pk__in=load_ids | presence_ids).values(
                "id", "username", "name", "presence", "open_count", "capacity"
            )
        )
        batch(supervisors)["agents"] = [agent_row_payload(row) for row in rows]
        for row in rows:
            if row["id"] in presence_ids:
                batch(groups.agent_group(row["id"]))["presence"] = row["presence"]
    return batches


def scope_counts(*, waiting: bool, team_ids: set[int], agent_ids: set[int]) -> dict:
    """Absolute counts of the dirty scopes: one grouped aggregate over the open
    conversations (plus the team names)."""
    condition = Q(pk__in=[])
    if waiting:
        condition |= Q(status=Status.WAITING)
    if team_ids:
        condition |= Q(status=Status.QUEUED, team_id__in=team_ids)
    if agent_ids:
        condition |= Q(status=Status.ASSIGNED, assignee_id__in=agent_ids)
        condition |= Q(status=Status.RESERVED, preferred_agent_id__in=agent_ids)
    rows = (
        Conversation.objects.filter(condition)
        .values("status", "team_id", "assignee_id", "preferred_agent_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    waiting_count = 0
    queued: dict[int, int] = defaultdict(int)
    per_agent = {agent_id: {"mine": 0, "reserved_for_me": 0} for agent_id in agent_ids}
    for row in rows:
        status, n = row["status"], row["n"]
        if status == Status.WAITING:
            waiting_count += n
        elif status == Status.QUEUED:
            queued[row["team_id"]] += n
        elif status == Status.ASSIGNED and row["assignee_id"] in per_agent:
            per_agent[row["assignee_id"]]["mine"] += n
        elif status == Status.RESERVED and row["preferred_agent_id"] in per_agent:
            per_agent[row["preferred_agent_id"]]["reserved_for_me"] += n
    teams = [
        {"id": team_id, "name": name, "queued": queued.get(team_id, 0)}
        for team_id, name in Team.objects.filter(pk__in=team_ids).values_list("id", "name")
    ] if team_ids else []
    return {"waiting": waiting_count, "teams": teams, "agents": per_agent}
