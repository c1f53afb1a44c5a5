"""From committed changes to websocket pushes: the announcement subscriber, the coalescer
and the one payload builder of every event type.

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
import json
import logging
import os
import threading
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
from apps.inbox import groups
from apps.routing.events import HandedOver, Handover, PresenceChanged
from apps.routing.waits import attach_queue_info
from apps.teams.events import MembershipsChanged
from apps.teams.models import Team

logger = logging.getLogger(__name__)

BATCH_TYPE = "inbox.batch"  # handled by InboxConsumer.inbox_batch
ACCESS_TYPE = "inbox.access"  # handled by InboxConsumer.inbox_access (apps.inbox.access)
PENDING_KEY = "atende:inbox:pending"
ARMED_KEY = "atende:inbox:flush-armed"
LAST_FLUSH_KEY = "atende:inbox:last-flush"


# --------------------------------------------------------------------------- payloads


def agent_row_payload(row: dict) -> dict:
    """One agent of the supervisor view: presence and load."""
    return {
        "id": row["id"],
        "username": row["username"],
        "name": row["name"] or row["username"],
        "presence": row["presence"],
        "open_count": row["open_count"],
        "capacity": row["capacity"],
    }


def queue_counts_event(counts: dict) -> dict:
    return {"type": "queue.counts", "counts": counts}


def conversation_updated_event(conversation: dict) -> dict:
    return {"type": "conversation.updated", "conversation": conversation}


def message_created_event(conversation_id: int, message: dict) -> dict:
    return {"type": "message.created", "conversation": conversation_id, "message": message}


def presence_changed_event(status: str) -> dict:
    """The person's own presence changed (another tab, the API, the sweep)."""
    return {"type": "presence.changed", "status": status}


def agents_updated_event(agents: list[dict]) -> dict:
    """Supervisors only: agents whose presence or load changed."""
    return {"type": "agents.updated", "agents": agents}


def handed_over_event(handover: dict) -> dict:
    """To the agent a conversation was taken from because they did not reply in time
    (routing.md 8.2): which one, with whom, where it went and after how long."""
    return {"type": "conversation.handed_over", **handover}


def pong_event() -> dict:
    return {"type": "pong"}


def error_event(detail: str, **extra) -> dict:
    return {"type": "error", "detail": detail, **extra}


def access_notice(*, session_hash: str | None, token_ids) -> dict:
    """To a person's own group: check again who you are (close if your session or token is
    named here)."""
    return {"type": ACCESS_TYPE, "session": session_hash, "tokens": list(token_ids)}


# --------------------------------------------------------------------------- pending store


class _LocalStore:
    """Embedded mode: one process, so the pending list lives in memory."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: list[dict] = []
        self._armed_until = 0.0
        self._last_flush = 0.0

    def push(self, entries: list[dict]) -> None:
        with self._lock:
            self._entries.extend(entries)

    def arm(self, ttl: float) -> bool:
        with self._lock:
            now = time.monotonic()
            if self._armed_until > now:
                return False
            self._armed_until = now + ttl
            return True

    def disarm(self) -> None:
        with self._lock:
            self._armed_until = 0.0
            self._last_flush = time.time()

    def last_flush(self) -> float:
        return self._last_flush

    def take(self) -> list[dict]:
        with self._lock:
            entries, self._entries = self._entries, []
        return entries


class _RedisStore:
    """Production: every process pushes to one Redis list and shares one armed flag."""

    def __init__(self, url: str):
        import redis

        self._redis = redis.Redis.from_url(url)

    def push(self, entries: list[dict]) -> None:
        self._redis.rpush(PENDING_KEY, *(json.dumps(e) for e in entries))

    def arm(self, ttl: float) -> bool:
        return bool(self._redis.set(ARMED_KEY, "1", nx=True, px=int(ttl * 1000)))

    def disarm(self) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(ARMED_KEY)
        pipe.set(LAST_FLUSH_KEY, repr(time.time()), ex=60)
        pipe.execute()

    def last_flush(self) -> float:
        raw = self._redis.get(LAST_FLUSH_KEY)
        return float(raw) if raw else 0.0

    def take(self) -> list[dict]:
        pipe = self._redis.pipeline(transaction=True)
        pipe.lrange(PENDING_KEY, 0, -1)
        pipe.delete(PENDING_KEY)
        raw, _deleted = pipe.execute()
        return [json.loads(item) for item in raw]


_store = None
_store_lock = threading.Lock()


def pending_store():
    global _store
    with _store_lock:
        if _store is None:
            _store = _RedisStore(settings.REDIS_URL) if settings.REDIS_URL else _LocalStore()
        return _store


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
        if _sync_publisher() is None:
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


# --------------------------------------------------------------------------- sync publishing


class _SyncGroupPublisher:
    """``group_send`` of channels_redis' RedisPubSubChannelLayer from sync code: the same
    channel names, shards and serializer (the layer's own helpers), published with a plain
    synchronous Redis client per shard, opened on first use."""

    def __init__(self, layer):
        from channels_redis.pubsub import RedisPubSubLoopLayer

        self._layer = layer
        # Built only for its naming and sharding: it opens nothing until used on a loop.
        self._naming = RedisPubSubLoopLayer(*layer._args, **layer._kwargs, channel_layer=layer)
        self._clients: dict[int, object] = {}

    def _client(self, shard):
        key = id(shard)
        if key not in self._clients:
            self._clients[key] = _sync_redis_client(shard.host)
        return self._clients[key]

    def group_send_many(self, messages: dict[str, dict]) -> None:
        """Publish each group's message; one round trip per shard."""
        pipelines = {}
        for group, message in messages.items():
            channel = self._naming._get_group_channel_name(group)
            shard = self._naming._get_shard(channel)
            if id(shard) not in pipelines:
                pipelines[id(shard)] = self._client(shard).pipeline(transaction=False)
            pipelines[id(shard)].publish(channel, self._layer.serialize(message))
        for pipe in pipelines.values():
            pipe.execute()


def _sync_redis_client(host: dict):
    """A synchronous twin of channels_redis.utils.create_pool for one host entry."""
    import redis

    host = dict(host)
    if "address" in host:
        return redis.Redis.from_url(host.pop("address"), **host)
    master_name = host.pop("master_name", None)
    if master_name is not None:
        from redis.sentinel import Sentinel

        sentinels = host.pop("sentinels")
        sentinel = Sentinel(sentinels, sentinel_kwargs=host.pop("sentinel_kwargs", None))
        return sentinel.master_for(master_name, **host)
    return redis.Redis(**host)


_publisher = None
_publisher_lock = threading.Lock()


def _sync_publisher() -> _SyncGroupPublisher | None:
    """This process's publisher for the configured layer, or None for the in-memory layer
    (it only reaches sockets of this process, on its server loop)."""
    global _publisher
    from channels.layers import InMemoryChannelLayer
    from channels_redis.pubsub import RedisPubSubChannelLayer

    with _publisher_lock:
        if _publisher is None:
            layer = get_channel_layer()
            if isinstance(layer, InMemoryChannelLayer):
                return None
            if not isinstance(layer, RedisPubSubChannelLayer):
                raise TypeError(
                    f"the live inbox publishes from sync code through "
                    f"RedisPubSubChannelLayer or InMemoryChannelLayer, not {type(layer)!r}"
                )
            _publisher = _SyncGroupPublisher(layer)
        return _publisher


def _forget_process_state() -> None:
    """In a forked child: nothing of the parent's is ours (its Redis sockets, its loop, a
    lock another of its threads may have held at fork time, what it had pending)."""
    global _store, _store_lock, _publisher, _publisher_lock, _server_loop
    _store, _store_lock = None, threading.Lock()
    _publisher, _publisher_lock = None, threading.Lock()
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
    publisher = _sync_publisher()
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
