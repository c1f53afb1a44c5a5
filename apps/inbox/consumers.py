"""The inbox websocket (/ws/inbox/): thin by design.

Authenticate (the middleware put the person in the scope), join the groups the routing
selectors allow, send the first counts, translate client messages to service calls, and
forward the coalesced batches of apps.inbox.realtime as api.md events. Domain errors are
mapped to ``{"type": "error", ...}`` once, here. It never writes to the database itself.
"""

import asyncio
import json
import logging
from collections import OrderedDict

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils.translation import gettext as _

from apps.accounts.models import Presence, is_person
from apps.core.errors import DomainError, InvalidInput
from apps.inbox import groups, presence, realtime
from apps.routing import selectors

SEEN_LIMIT = 2000  # recent (flush, conversation) and message keys, to drop group duplicates
CHOOSABLE_PRESENCE = (Presence.ONLINE, Presence.AWAY)
_grace_tasks: set = set()
logger = logging.getLogger(__name__)


class InboxConsumer(AsyncJsonWebsocketConsumer):
    user = None
    counts: dict | None = None

    async def connect(self):
        user = self.scope.get("user")
        if not is_person(user):
            await self.close()
            return
        self.user = user
        self.joined: list[str] = []
        self.seen: OrderedDict = OrderedDict()
        realtime.remember_loop(asyncio.get_running_loop())
        for group in await database_sync_to_async(groups.groups_for)(user):
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.append(group)
        await self.accept()
        # Counts after joining the groups: no change can fall between the two.
        self.counts = await database_sync_to_async(_opened)(user, self.channel_name)
        await self.send_json(realtime.queue_counts_event(self.counts))

    async def disconnect(self, code):
        if self.user is None:
            return
        # Presence first: it decides whether the agent goes offline; a channel layer that
        # fails to discard (groups expire by themselves) must not leave the agent online.
        remaining = await database_sync_to_async(presence.connection_closed)(
            self.user, self.channel_name
        )
        for group in self.joined:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:
                logger.warning("could not leave group %s", group, exc_info=True)
        if remaining == 0:
            task = asyncio.get_running_loop().create_task(_offline_after_grace(self.user.pk))
            _grace_tasks.add(task)
            task.add_done_callback(_grace_tasks.discard)

    # ----------------------------------------------------------------- client -> server

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            content = json.loads(text_data) if text_data else None
        except ValueError:
            content = None
        if not isinstance(content, dict):
            await self.send_json(realtime.error_event(_("Send a JSON object with a \"type\".")))
            return
        try:
            await self.receive_json(content)
        except DomainError as error:
            await self.send_json({"type": "error", **error.as_dict()})

    async def receive_json(self, content, **kwargs):
        kind = content.get("type")
        if kind == "ping":
            await database_sync_to_async(presence.heartbeat)(self.user, self.channel_name)
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

    # ----------------------------------------------------------------- server -> client

    def _first_time(self, key) -> bool:
        if key in self.seen:
            return False
        self.seen[key] = True
        if len(self.seen) > SEEN_LIMIT:
            self.seen.popitem(last=False)
        return True

    async def inbox_batch(self, event):
        """One coalesced flush for one of our groups (we may get the same flush through
        several groups: conversations and messages are forwarded once)."""
        flush = event["flush"]
        if event.get("regroup"):
            await self._regroup()
        for conversation in event.get("conversations", ()):
            if self._first_time((flush, "c", conversation["id"])):
                await self.send_json(realtime.conversation_updated_event(conversation))
        for item in event.get("messages", ()):
            if self._first_time(("m", item["message"]["id"])):
                await self.send_json(
                    realtime.message_created_event(item["conversation"], item["message"])
                )
        if "presence" in event:
            await self.send_json(realtime.presence_changed_event(event["presence"]))
        if "agents" in event and self._first_time((flush, "agents")):
            await self.send_json(realtime.agents_updated_event(event["agents"]))
        if "counts" in event and self._merge_counts(event["counts"]):
            await self.send_json(realtime.queue_counts_event(self.counts))

    async def _regroup(self):
        """The person joined or left a team: follow exactly the groups they may see now,
        and send counts that list their teams as they are."""
        wanted = await database_sync_to_async(groups.groups_for)(self.user)
        for group in wanted:
            if group not in self.joined:
                await self.channel_layer.group_add(group, self.channel_name)
        for group in self.joined:
            if group not in wanted:
                await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = list(wanted)
        self.counts = await database_sync_to_async(selectors.queue_counts_for)(self.user)
        await self.send_json(realtime.queue_counts_event(self.counts))

    def _merge_counts(self, part: dict) -> bool:
        """Merge absolute numbers of some scopes into the counts last sent; True if changed."""
        before = json.dumps(self.counts, sort_keys=True)
        for key in ("waiting", "mine", "reserved_for_me"):
            if key in part:
                self.counts[key] = part[key]
        teams = self.counts["teams"]
        for team in part.get("teams", ()):
            known = next((t for t in teams if t["id"] == team["id"]), None)
            if known is not None:
                known.update(team)
            elif self.user.is_supervisor:
                teams.append(dict(team))
                teams.sort(key=lambda t: (t["name"], t["id"]))
        return json.dumps(self.counts, sort_keys=True) != before


def _opened(user, channel_name: str) -> dict:
    """Presence and the first counts in one trip to the database thread."""
    presence.connection_opened(user, channel_name)
    return selectors.queue_counts_for(user)


async def _offline_after_grace(agent_id: int) -> None:
    await asyncio.sleep(settings.PRESENCE_GRACE_SECONDS)
    await database_sync_to_async(presence.settle_after_grace)(agent_id)
