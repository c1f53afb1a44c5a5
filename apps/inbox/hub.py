"""This process's fan-out of the live inbox: one channel-layer membership per group, one
frame per batch, the same bytes written to every local socket of the group.

The cost of a push used to be sockets x changes: every socket was a member of its groups in
the channel layer, so each batch became one channel-layer message per socket (deserialized
per socket), one consumer handler per socket behind a thread hop, and the same JSON built
and serialized per socket (docs/performance.md, "The live push at the size of a floor").

Now the server process holds one ``Hub`` (created lazily in its running loop, never
inherited across a fork): it is the only member of each group in the channel layer, joined
when the first local socket of the group opens and left when the last one closes. With the
Redis pub/sub layer that is one subscription per group per process, so a batch reaches each
process once. The hub turns it into frames once (``Frames``: the JSON text of every event,
and the merged counts memoised by what a socket had before) and offers it to each local
socket of the group, in the order the sockets joined; each socket keeps only what is its
own: which flush items it has already forwarded (a socket in several groups gets the same
flush more than once), its counts as last sent, its credential and groups.

A socket's push runs inline, with no task or thread hop, as long as it does not have to
wait (the server's send only waits when the client's buffer is full, and a regroup or an
access check reads the database): the first time it would wait, it continues in a task of
its own and later batches queue behind it, so one slow client never delays the others and
every socket still gets its batches in order.

Redis going away (production mode): the hub's watcher asks Redis every WATCH_SECONDS
whether it answers. When it stops answering, every local socket is told that live updates
are paused (``live.paused``) and stays open; sockets that open meanwhile are turned away
with 1013 (try again later). When Redis answers again and a probe sent through the channel
layer comes back to the hub (the subscriptions are restored), every socket is told that
live updates resumed (``live.resumed``), registers again and gets fresh counts: what changed
meanwhile was never announced, so the client reloads what it shows.
"""

import asyncio
import json
import logging
import os
from collections import deque

from channels.layers import get_channel_layer

from apps.inbox.events import (
    ACCESS_TYPE,
    agents_updated_event,
    conversation_updated_event,
    handed_over_event,
    message_created_event,
    presence_changed_event,
    queue_counts_event,
)

logger = logging.getLogger(__name__)

BATCH_TYPE = "inbox.batch"
PROBE_TYPE = "inbox.probe"  # the hub's own channel, to itself: the subscriptions work
PAUSED, RESUMED = "live.paused", "live.resumed"  # offered to every socket of the process
WATCH_SECONDS = 1.0
PAUSE_AFTER = 2  # pings in a row that fail (a loaded machine may be slow to answer one)
REDIS_TIMEOUT = 5.0  # a subscribe, a ping or a probe that takes longer: Redis is away


def dumps(event: dict) -> str:
    # The same separators as channels' send_json (json.dumps' defaults): the same bytes.
    return json.dumps(event)


def counts_key(counts: dict) -> str:
    """What identifies a socket's counts (sockets with equal counts share one merge)."""
    return json.dumps(counts, sort_keys=True)


def merge_counts(counts: dict, part: dict, *, supervisor: bool) -> dict:
    """``counts`` with the absolute numbers of some scopes replaced (a new object: counts
    are shared between sockets and never changed in place)."""
    merged = {key: value for key, value in counts.items() if key != "teams"}
    for key in ("waiting", "mine", "reserved_for_me"):
        if key in part:
            merged[key] = part[key]
    teams = [dict(team) for team in counts["teams"]]
    for team in part.get("teams", ()):
        known = next((t for t in teams if t["id"] == team["id"]), None)
        if known is not None:
            known.update(team)
        elif supervisor:
            teams.append(dict(team))
            teams.sort(key=lambda t: (t["name"], t["id"]))
    merged["teams"] = teams
    return merged


class Frames:
    """One batch as its sockets receive it, built once per process (lazily, in part)."""

    def __init__(self, event: dict):
        self.event = event
        self.flush = event["flush"]
        self.regroup = bool(event.get("regroup"))
        self.conversations = [
            (conversation["id"], dumps(conversation_updated_event(conversation)))
            for conversation in event.get("conversations", ())
        ]
        self.messages = [
            (item["message"]["id"],
             dumps(message_created_event(item["conversation"], item["message"])))
            for item in event.get("messages", ())
        ]
        self.handovers = [
            ((h["conversation"], h["at"]), dumps(handed_over_event(h)))
            for h in event.get("handovers", ())
        ]
        self.presence = (
            dumps(presence_changed_event(event["presence"])) if "presence" in event else None
        )
        self.agents = dumps(agents_updated_event(event["agents"])) if "agents" in event else None
        self.counts_part = event.get("counts")
        self._merged: dict[tuple[str, bool], tuple[dict, str, str | None]] = {}

    def counts_after(self, key: str, counts: dict, *, supervisor: bool):
        """(counts, their key, the queue.counts frame or None when nothing changed) for a
        socket whose counts were ``counts`` (``key``): computed once per distinct state."""
        memo = (key, supervisor)
        if memo not in self._merged:
            merged = merge_counts(counts, self.counts_part, supervisor=supervisor)
            merged_key = counts_key(merged)
            if merged_key == key:
                self._merged[memo] = (counts, key, None)
            else:
                self._merged[memo] = (merged, merged_key, dumps(queue_counts_event(merged)))
        return self._merged[memo]


# ----------------------------------------------------------------- running without waiting


async def _finish(coro, yielded):
    """Carry on, in a task, a coroutine that ``run_eagerly`` stepped until it had to wait."""
    while True:
        try:
            if yielded is None:
                await asyncio.sleep(0)
                result = None
            else:
                # What a task does with a future its coroutine yields (the coroutine's
                # await marked it as waited on; awaiting it here marks it again).
                yielded._asyncio_future_blocking = False
                result = await yielded
        except BaseException as error:  # handed to the coroutine, as a task would
            try:
                yielded = coro.throw(error)
            except StopIteration:
                return
            continue
        try:
            yielded = coro.send(result)
        except StopIteration:
            return


def run_eagerly(coro):
    """Run ``coro`` now, in this call, up to its first real wait: None if it finished (the
    usual case: a socket write), else an awaitable that finishes it. Its errors are raised
    here or by that awaitable."""
    try:
        yielded = coro.send(None)
    except StopIteration:
        return None
    return _finish(coro, yielded)


class Outbox:
    """A socket's side of the hub: batches offered in order, pushed inline until one has to
    wait, then queued behind it in one task (``push`` is the socket's coroutine function)."""

    def __init__(self, push):
        self._push = push
        self._behind: deque | None = None
        self._task: asyncio.Task | None = None

    def offer(self, *args, eager: bool = True) -> None:
        """``eager=False`` for what reads the database (a regroup, an access check): it
        starts in a task of its own at once (timeouts and the like see their own task)."""
        if self._behind is not None:
            self._behind.append(args)
            return
        try:
            waiting = run_eagerly(self._push(*args)) if eager else self._push(*args)
        except Exception:
            logger.exception("inbox push failed")
            return
        if waiting is not None:
            self._behind = deque()
            self._task = asyncio.ensure_future(self._drain(waiting))

    async def _drain(self, waiting) -> None:
        try:
            await waiting
            while self._behind:
                await self._push(*self._behind.popleft())
        except Exception:
            logger.exception("inbox push failed")
        finally:
            self._behind = None
            self._task = None

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()


# ----------------------------------------------------------------------------- the hub


class Hub:
    """The fan-out of one server process (one event loop)."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.layer = get_channel_layer()
        self.channel: str | None = None
        # group -> its local sockets (a dict: ordered, so sockets get batches in join order)
        self.members: dict[str, dict] = {}
        self.subscribed: set[str] = set()
        self.lock = asyncio.Lock()
        self.task: asyncio.Task | None = None
        self.watcher: asyncio.Task | None = None
        self.paused = False
        self._probe: asyncio.Future | None = None
        self._redis = None

    async def _ensure_channel(self) -> str:
        if self.channel is None:
            self.channel = await asyncio.wait_for(
                self.layer.new_channel("inbox-hub."), REDIS_TIMEOUT
            )
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._receive())
        if self.watcher is None and _redis_url():
            self.watcher = self.loop.create_task(self._watch())
        return self.channel

    async def join(self, group: str, socket) -> None:
        """Deliver ``group``'s batches to ``socket`` from now on. Returns once the process
        is subscribed to the group: a change published afterwards reaches the socket."""
        self.members.setdefault(group, {})[socket] = None
        async with self.lock:
            if group not in self.subscribed and self.members.get(group):
                channel = await self._ensure_channel()
                await asyncio.wait_for(self.layer.group_add(group, channel), REDIS_TIMEOUT)
                self.subscribed.add(group)

    async def leave(self, group: str, socket) -> None:
        sockets = self.members.get(group)
        if sockets is not None:
            sockets.pop(socket, None)
            if not sockets:
                del self.members[group]
        async with self.lock:
            if group in self.subscribed and group not in self.members:
                self.subscribed.discard(group)
                await asyncio.wait_for(
                    self.layer.group_discard(group, self.channel), REDIS_TIMEOUT
                )

    async def _receive(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("the inbox hub could not receive", exc_info=True)
                await asyncio.sleep(1)
                continue
            self.deliver(message)

    # ------------------------------------------------------------- Redis going away

    async def _watch(self) -> None:
        failed = 0
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            try:
                up = await self._redis_answers()
                failed = 0 if up else failed + 1
                if failed >= PAUSE_AFTER and not self.paused:
                    self.paused = True
                    logger.warning("Redis does not answer: live updates paused")
                    self._tell_everyone(PAUSED)
                elif up and self.paused and await self._probe_comes_back():
                    self.paused = False
                    logger.warning("Redis answers again: live updates resumed")
                    self._tell_everyone(RESUMED)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("the inbox hub's watcher failed")

    async def _redis_answers(self) -> bool:
        import redis.asyncio as aioredis

        if self._redis is None:
            self._redis = aioredis.Redis.from_url(
                _redis_url(), socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
            )
        try:
            return bool(await asyncio.wait_for(self._redis.ping(), REDIS_TIMEOUT))
        except (OSError, aioredis.RedisError):  # a TimeoutError is an OSError
            return False

    async def _probe_comes_back(self) -> bool:
        """Whether a message sent to the hub's own channel arrives: the channel layer's
        subscriptions (restored by its client after a reconnect) work again."""
        if self.channel is None:
            return True
        self._probe = self.loop.create_future()
        try:
            await asyncio.wait_for(
                self.layer.send(self.channel, {"type": PROBE_TYPE}), REDIS_TIMEOUT
            )
            await asyncio.wait_for(asyncio.shield(self._probe), REDIS_TIMEOUT)
            return True
        except Exception:  # a timeout, a Redis error: not back yet
            return False
        finally:
            self._probe = None

    def _tell_everyone(self, what: str) -> None:
        everyone = {}
        for sockets in self.members.values():
            everyone.update(sockets)
        for socket in everyone:
            socket.outbox.offer(None, what, eager=what == PAUSED)

    def deliver(self, message: dict) -> None:
        """Offer one channel-layer message to the local sockets of its group."""
        group = message.get("group")
        kind = message.get("type")
        if kind == PROBE_TYPE:
            if self._probe is not None and not self._probe.done():
                self._probe.set_result(True)
            return
        sockets = list(self.members.get(group, ()))
        if not sockets:
            return
        if kind == BATCH_TYPE:
            frames = Frames(message)
            for socket in sockets:
                socket.outbox.offer(group, frames, eager=not frames.regroup)
        elif kind == ACCESS_TYPE:
            for socket in sockets:
                socket.outbox.offer(group, message, eager=False)
        else:
            logger.warning("the inbox hub got a message it does not know: %r", kind)


def _redis_url() -> str:
    from django.conf import settings

    return settings.REDIS_URL


_hub: Hub | None = None


def hub() -> Hub:
    """This process's hub, for the running loop (created on first use)."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop:
        _hub = Hub(loop)
    return _hub


def _forget_process_state() -> None:
    """In a forked child: the parent's hub, loop and subscriptions are not ours."""
    global _hub
    _hub = None


os.register_at_fork(after_in_child=_forget_process_state)
