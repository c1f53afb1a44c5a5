"""The inbox websocket (/ws/inbox/): thin by design.

Authenticate (the middleware put the person and their credential in the scope), join the
groups the routing selectors allow, send the first counts, translate client messages to
service calls, and forward the coalesced batches of apps.inbox.realtime as api.md events.
Domain errors are mapped to ``{"type": "error", ...}`` once, here. It never writes to the
database itself.

Access can be taken away while the socket is open (apps.inbox.access): a notice makes it
close or regroup at once, and every heartbeat checks the credential again. Whatever ends
the socket (the client, a send that races the client's close, an error) the cleanup runs:
the connection leaves the presence registry and its groups.

Pushes come through this process's hub (apps.inbox.hub): the socket joins its groups
there, not in the channel layer, and the hub offers it each batch as frames built once for
all the process's sockets; the socket forwards what is new to it, in order.

Limits (settings): WS_MESSAGES_PER_SECOND with a WS_MESSAGE_BURST per socket (beyond it an
error, then the socket is closed with 4429), WS_MAX_MESSAGE_BYTES per message (1009,
unparsed), WS_MAX_SOCKETS_PER_PERSON across processes (4429).
"""

import asyncio
import logging
import time
import uuid
from collections import OrderedDict

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from apps.accounts.models import Presence, is_person
from apps.conversations import selectors
from apps.core.errors import DomainError, InvalidInput
from apps.core.limits import JsonTooDeep, loads_bounded_json
from apps.inbox import access, groups, presence, realtime
from apps.inbox.hub import PAUSED, RESUMED, Frames, Outbox, counts_key, hub
from apps.routing.errors import AccountDeactivated

SEEN_LIMIT = 2000  # recent (flush, conversation) and message keys, to drop group duplicates
CHOOSABLE_PRESENCE = (Presence.ONLINE, Presence.AWAY)
REDIS_AWAY = (RedisError, OSError)  # asyncio's TimeoutError is an OSError
TRY_AGAIN_LATER = 1013  # Redis is away: open again shortly
TOO_MANY = 4429  # too many messages from this socket, or sockets of this person
MESSAGE_TOO_BIG = 1009
RECHECK_EVERY_SECONDS = 10  # a heartbeat checks the credential again at most this often
_grace_tasks: set = set()
logger = logging.getLogger(__name__)


class InboxConsumer(AsyncJsonWebsocketConsumer):
    # No channel of its own in the channel layer: the process's hub is the member of the
    # groups and hands this socket its batches (apps.inbox.hub).
    channel_layer_alias = None
    user = None
    counts: dict | None = None
    counts_key = ""
    credential: access.Credential | None = None
    closing = False
    _cleaned = False

    async def __call__(self, scope, receive, send):
        async def guarded_send(message):
            try:
                await send(message)
            except OSError as error:
                # The client left while we were sending (uvicorn's ClientDisconnected):
                # stop here; the cleanup below runs as for any other end.
                raise StopConsumer from error

        # The name the presence registry knows this connection by (any process's).
        self.channel_name = f"inbox.{uuid.uuid4().hex}"
        self.outbox = Outbox(self._push)
        self.opened = asyncio.Event()  # set once the first queue.counts is sent
        try:
            await super().__call__(scope, receive, guarded_send)
        finally:
            self.outbox.cancel()
            await asyncio.shield(self._cleanup())

    async def connect(self):
        user = self.scope.get("user")
        credential = self.scope.get("credential")
        if self.scope.get("live_unavailable"):
            await self._turn_away()
            return
        if not is_person(user) or credential is None:
            await self.close()
            return
        self.joined: list[str] = []
        self.seen: OrderedDict = OrderedDict()
        self.allowance = float(settings.WS_MESSAGE_BURST)
        self.allowance_at = time.monotonic()
        self.over_limit = 0
        self.rechecked_at = 0.0
        realtime.remember_loop(asyncio.get_running_loop())
        if hub().paused:
            await self._turn_away()
            return
        try:
            held = await database_sync_to_async(presence.register)(user.pk, self.channel_name)
        except REDIS_AWAY:
            logger.warning("inbox socket turned away: Redis is away", exc_info=True)
            await self._turn_away()
            return
        if held > settings.WS_MAX_SOCKETS_PER_PERSON:
            await database_sync_to_async(presence.unregister)(user.pk, self.channel_name)
            await self.accept()
            await self.send_json(realtime.error_event(
                f"You already have {settings.WS_MAX_SOCKETS_PER_PERSON} inbox connections "
                f"open: close one first.", code="too_many_sockets",
            ))
            await self.close(code=TOO_MANY)
            return
        self.user = user
        self.credential = credential
        try:
            for group in await database_sync_to_async(groups.groups_for)(user):
                self.joined.append(group)
                await hub().join(group, self)
            # Presence and counts before the handshake completes: a page that asks for its
            # presence when its socket opens reads it as this connection made it (accepting
            # first let that read, under load, see "offline" and keep it). Counts after
            # joining the groups: no change can fall between the two.
            counts = await database_sync_to_async(_opened)(user, self.channel_name)
        except REDIS_AWAY:
            logger.warning("inbox socket turned away: Redis is away", exc_info=True)
            await self._turn_away()  # the cleanup (in __call__) leaves what was joined
            return
        self._set_counts(counts)
        await self.accept()
        await self.send_json(realtime.queue_counts_event(self.counts))
        self.opened.set()

    async def _turn_away(self):
        """Redis is away (live updates paused): a clear refusal, "try again later"."""
        await self.accept()
        await self.send_json(realtime.error_event(
            _("Live updates are paused for a moment: connect again shortly."),
            code="live_unavailable",
        ))
        await self._close(TRY_AGAIN_LATER)

    async def disconnect(self, code):
        await self._cleanup()

    async def _cleanup(self):
        """Runs once, however the socket ended."""
        if self.user is None or self._cleaned:
            return
        self._cleaned = True
        # Presence first: it decides whether the agent goes offline; a channel layer that
        # fails to discard (groups expire by themselves) must not leave the agent online.
        try:
            remaining = await database_sync_to_async(presence.connection_closed)(
                self.user, self.channel_name
            )
        except Exception:
            logger.exception("could not unregister connection %s", self.channel_name)
            remaining = None
        for group in self.joined:
            try:
                await hub().leave(group, self)
            except Exception:
                logger.warning("could not leave group %s", group, exc_info=True)
        if remaining == 0:
            task = asyncio.get_running_loop().create_task(_offline_after_grace(self.user.pk))
            _grace_tasks.add(task)
            task.add_done_callback(_grace_tasks.discard)

    async def _close(self, code: int) -> None:
        if not self.closing:
            self.closing = True
            await self.close(code=code)

    # ----------------------------------------------------------------- client -> server

    def _within_rate(self) -> bool:
        """A token bucket: WS_MESSAGES_PER_SECOND, up to WS_MESSAGE_BURST at once."""
        now = time.monotonic()
        self.allowance = min(
            float(settings.WS_MESSAGE_BURST),
            self.allowance + (now - self.allowance_at) * settings.WS_MESSAGES_PER_SECOND,
        )
        self.allowance_at = now
        if self.allowance >= 1:
            self.allowance -= 1
            self.over_limit = 0
            return True
        return False

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if self.closing or self.user is None:
            return
        if len(text_data or bytes_data or "") > settings.WS_MAX_MESSAGE_BYTES:
            await self._close(MESSAGE_TOO_BIG)
            return
        if not self._within_rate():
            self.over_limit += 1
            if self.over_limit == 1:
                await self.send_json(realtime.error_event(
                    "Too many messages: slow down.", code="rate_limited"
                ))
            elif self.over_limit > settings.WS_MESSAGE_BURST:
                await self._close(TOO_MANY)
            return
        try:
            content = loads_bounded_json(text_data) if text_data else None
        except JsonTooDeep as error:
            await self.send_json(realtime.error_event(str(error)))
            return
        except ValueError:
            content = None
        if not isinstance(content, dict):
            await self.send_json(realtime.error_event(_("Send a JSON object with a \"type\".")))
            return
        try:
            await self.receive_json(content)
        except AccountDeactivated:
            await self._close(access.ACCOUNT_DEACTIVATED)
        except DomainError as error:
            await self.send_json({"type": "error", **error.as_dict()})

    async def receive_json(self, content, **kwargs):
        kind = content.get("type")
        if kind == "ping":
            if time.time() - self.rechecked_at >= _recheck_every():
                self.rechecked_at = time.time()
                if not await self._recheck():
                    return
                try:
                    await database_sync_to_async(presence.heartbeat)(self.user, self.channel_name)
                except REDIS_AWAY:
                    # Redis is away: the socket stays (the hub says live updates are paused
                    # and registers it again when Redis is back).
                    logger.warning("heartbeat not recorded: Redis is away")
            await self.send_json(realtime.pong_event())
        elif kind == "presence.set":
            status = content.get("status")
            if status not in CHOOSABLE_PRESENCE:
                raise InvalidInput(
                    _("presence.set takes a \"status\" of \"online\" or \"away\"."),
                    field="status",
                )
            await database_sync_to_async(presence.choose)(self.user, status)
        else:
            raise InvalidInput(
                _("Unknown message type: send \"ping\" or \"presence.set\"."), field="type"
            )

    async def _recheck(self) -> bool:
        """Who is this socket now? Closes it (False) or follows the person's role and teams."""
        user, close_code = await database_sync_to_async(access.current_person)(self.credential)
        if close_code is not None:
            await self._close(close_code)
            return False
        role_changed = (user.role, user.is_superuser) != (self.user.role, self.user.is_superuser)
        self.user = user
        if role_changed:
            await self._regroup()
        return True

    # ----------------------------------------------------------------- server -> client

    def _first_time(self, key) -> bool:
        if key in self.seen:
            return False
        self.seen[key] = True
        if len(self.seen) > SEEN_LIMIT:
            self.seen.popitem(last=False)
        return True

    async def inbox_access(self, event):
        """What the person may do or see changed (apps.inbox.access): close, or regroup."""
        if self.closing or self.user is None:
            return
        if access.named_in(event, self.credential):
            await self._close(access.CREDENTIAL_GONE)
            return
        await self._recheck()

    async def _push(self, group: str, item) -> None:
        """What the hub offers this socket, in order: a batch's frames or an access notice
        of one of its groups (one it left since is ignored)."""
        if not self.opened.is_set():
            # Joined, but not accepted yet or the first counts not sent: pushes follow them.
            await self.opened.wait()
        if self.closing or self.user is None or (group is not None and group not in self.joined):
            return
        try:
            if isinstance(item, Frames):
                await self._forward(item)
            elif item == PAUSED:
                await self.send_json(realtime.live_paused_event())
            elif item == RESUMED:
                await self._resume()
            else:
                await self.inbox_access(item)
        except StopConsumer:
            pass  # the client left: its receive loop ends and the cleanup runs

    async def _send_text(self, frame: str) -> None:
        send = self.scope.get("server_send") or self.base_send
        try:
            await send({"type": "websocket.send", "text": frame})
        except OSError as error:  # the client left meanwhile (uvicorn's ClientDisconnected)
            raise StopConsumer from error

    async def _forward(self, frames: Frames) -> None:
        """One coalesced flush of one of our groups (we may get the same flush through
        several groups: conversations and messages are forwarded once)."""
        flush = frames.flush
        if frames.regroup:
            await self._regroup()
        for conversation_id, frame in frames.conversations:
            if self._first_time((flush, "c", conversation_id)):
                await self._send_text(frame)
        for message_id, frame in frames.messages:
            if self._first_time(("m", message_id)):
                await self._send_text(frame)
        for key, frame in frames.handovers:
            if self._first_time(("h", *key)):
                await self._send_text(frame)
        if frames.presence is not None:
            await self._send_text(frames.presence)
        if frames.agents is not None and self._first_time((flush, "agents")):
            await self._send_text(frames.agents)
        if frames.counts_part is not None and not self.closing:
            counts, key, frame = frames.counts_after(
                self.counts_key, self.counts, supervisor=self.user.is_supervisor
            )
            if frame is not None:
                self.counts, self.counts_key = counts, key
                await self._send_text(frame)

    async def _resume(self) -> None:
        """Redis is back: register again (a restarted Redis forgot the registry), then say
        so with fresh counts (what changed meanwhile was not pushed)."""
        try:
            await database_sync_to_async(presence.heartbeat)(self.user, self.channel_name)
        except REDIS_AWAY:
            logger.warning("could not register connection %s again", self.channel_name)
        self._set_counts(await database_sync_to_async(selectors.queue_counts_for)(self.user))
        await self.send_json(realtime.live_resumed_event())
        await self.send_json(realtime.queue_counts_event(self.counts))

    def _set_counts(self, counts: dict) -> None:
        self.counts, self.counts_key = counts, counts_key(counts)

    async def _regroup(self):
        """The person joined or left a team: follow exactly the groups they may see now,
        and send counts that list their teams as they are."""
        wanted = await database_sync_to_async(groups.groups_for)(self.user)
        before, self.joined = self.joined, list(wanted)
        for group in wanted:
            if group not in before:
                await hub().join(group, self)
        for group in before:
            if group not in wanted:
                await hub().leave(group, self)
        self._set_counts(await database_sync_to_async(selectors.queue_counts_for)(self.user))
        await self.send_json(realtime.queue_counts_event(self.counts))


def _recheck_every() -> float:
    # Heartbeats must also keep the registry entry (PRESENCE_TIMEOUT) from expiring.
    return min(RECHECK_EVERY_SECONDS, settings.PRESENCE_TIMEOUT / 4)


def _opened(user, channel_name: str) -> dict:
    """Presence and the first counts in one trip to the database thread."""
    presence.connection_opened(user, channel_name)
    return selectors.queue_counts_for(user)


async def _offline_after_grace(agent_id: int) -> None:
    await asyncio.sleep(settings.PRESENCE_GRACE_SECONDS)
    await database_sync_to_async(presence.settle_after_grace)(agent_id)
