"""The customer's websocket (/webchat/<key>/ws): thin by design.

On connect: the key must name an active web chat, the Origin must be one of its allowed
origins and the key's and the address's open sockets must be under their limits; if not,
the socket is accepted only to say why (``{"type": "refused", "code", "detail"}``) and is
closed with 4403 (4429 for a limit), having changed nothing. Then ``welcome`` carries the
chat's look and choices; the client's ``hello`` says who the customer is (a visitor token
this chat signed, or an identity with its HMAC), and the consumer answers with
``session`` and the whole ``state`` of the customer's conversation.

Client messages: ``hello``, ``identify``, ``send`` ``{body, choice?, name?, email?}``,
``rate`` ``{conversation, score, comment?}``. Server events: ``welcome``, ``session``,
``state``, ``status`` (where the conversation stands: position, estimate, team open, who is
answering), ``message``, ``sent``, ``error``, ``refused``. Reads and writes are
apps.webchat.customer's; notices arrive from apps.webchat.push.
"""

import asyncio
import json
import logging
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from apps.conversations.models import Status
from apps.core.errors import DomainError, InvalidInput
from apps.core.limits import JsonTooDeep, loads_bounded_json
from apps.webchat import customer as chat
from apps.webchat import identity, limits, push
from apps.webchat.errors import BadIdentity, OriginRefused, TooMany
from apps.webchat.origins import origin_allowed, origin_of

REFUSED = 4403
TOO_MANY = 4429
MAX_CLIENT_MESSAGE_BYTES = 32 * 1024
QUEUE_SETTLE_SECONDS = 0.5  # queue notices within this long are read once
REFRESH_SECONDS = 30  # a waiting customer's estimate and team hours, read again this often
logger = logging.getLogger(__name__)


def _language(value) -> str:
    return "pt-br" if isinstance(value, str) and value.lower().startswith("pt") else "en"


class CustomerConsumer(AsyncJsonWebsocketConsumer):
    webchat = None
    customer = None
    refused = False
    counted = False
    view: dict | None = None
    last_message_id = 0
    joined: tuple = ()
    refresh_task = None
    settle_task = None

    async def connect(self):
        push.remember_loop(asyncio.get_running_loop())
        key = self.scope["url_route"]["kwargs"]["key"]
        self.address = (self.scope.get("client") or ["unknown"])[0]
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.language = _language((query.get("lang") or [""])[0])
        try:
            with translation.override(self.language):
                self.webchat = await database_sync_to_async(chat.chat_for_key)(key)
            if self.webchat.language:
                self.language = self.webchat.language
            with translation.override(self.language):
                if not origin_allowed(self.webchat, origin_of(self.scope)):
                    raise OriginRefused(_("This site may not use this web chat."))
                await database_sync_to_async(limits.open_connection)(
                    key=key, address=self.address
                )
            self.counted = True
        except DomainError as error:
            self.refused = True
            await self.accept()
            await self._refuse(error)
            return
        await self.accept()
        with translation.override(self.language):
            welcome = await database_sync_to_async(chat.config_payload)(self.webchat)
        await self.send_json({"type": "welcome", "language": self.language, **welcome})

    async def disconnect(self, code):
        for task in (self.refresh_task, self.settle_task):
            if task is not None:
                task.cancel()
        await self._join(())
        if self.counted:
            self.counted = False
            await database_sync_to_async(limits.close_connection)(
                key=self.webchat.public_key, address=self.address
            )

    async def _refuse(self, error: DomainError):
        await self.send_json({"type": "refused", "code": error.code, "detail": error.detail})
        await self.close(code=TOO_MANY if isinstance(error, TooMany) else REFUSED)

    # ----------------------------------------------------------------- client messages

    async def receive(self, text_data=None, bytes_data=None):
        if self.refused:
            return
        if not self._allowed_now():
            # A socket that floods (hello after hello, garbage) is told and closed: each
            # message costs the server reads.
            with translation.override(self.language):
                await self._refuse(TooMany(_("Too many messages: wait a moment before "
                                             "writing again.")))
            self.refused = True
            return
        with translation.override(self.language):
            await self._receive(text_data)

    def _allowed_now(self) -> bool:
        """A token bucket per socket: WS_MESSAGES_PER_SECOND with a WS_MESSAGE_BURST, as for
        the inbox's sockets."""
        now = time.monotonic()
        burst = float(settings.WS_MESSAGE_BURST)
        allowance = getattr(self, "allowance", burst)
        since = now - getattr(self, "allowance_at", now)
        self.allowance = min(burst, allowance + since * settings.WS_MESSAGES_PER_SECOND)
        self.allowance_at = now
        if self.allowance < 1:
            return False
        self.allowance -= 1
        return True

    async def _receive(self, text_data):
        if text_data is None or len(text_data.encode()) > MAX_CLIENT_MESSAGE_BYTES:
            await self._error(InvalidInput(_("Send text messages of at most 32 KB.")))
            return
        try:
            content = loads_bounded_json(text_data)
        except (ValueError, JsonTooDeep):
            await self._error(InvalidInput(_("Send JSON messages.")))
            return
        if not isinstance(content, dict):
            await self._error(InvalidInput(_("Send JSON objects.")))
            return
        handler = {
            "hello": self._hello, "identify": self._identify, "send": self._send,
            "rate": self._rate,
        }.get(content.get("type"))
        if handler is None or (self.customer is None and handler not in (self._hello,)):
            await self._error(InvalidInput(_("Say hello first, then send, rate or identify.")))
            return
        try:
            await handler(content)
        except DomainError as error:
            await self._error(error, request=content.get("id"))

    async def _error(self, error: DomainError, request=None):
        await self.send_json({"type": "error", "code": error.code, "detail": error.detail,
                              "request": request, **error.extra})

    async def _hello(self, content):
        if "language" in content and not self.webchat.language:
            self.language = _language(content["language"])
        customer = None
        if content.get("identity"):
            customer = await self._identified(content["identity"])
        if customer is None:
            token = content.get("visitor")
            try:
                customer = identity.visitor(self.webchat, token) if token else None
            except BadIdentity:
                customer = None  # a token of another chat or tampered: a new visitor
            customer = customer or identity.new_visitor(self.webchat)
        await self._become(customer)

    async def _identify(self, content):
        customer = await self._identified(content.get("identity"))
        if customer is not None:
            await self._become(customer)

    async def _identified(self, given):
        try:
            return await database_sync_to_async(identity.identified)(self.webchat, given)
        except BadIdentity as error:
            await self.send_json({"type": "refused", "code": error.code, "detail": error.detail})
            return None

    async def _become(self, customer):
        self.customer = customer
        await self.send_json({
            "type": "session", "visitor": customer.visitor, "identified": customer.identified,
            "name": customer.name,
        })
        await self._send_state()

    async def _send(self, content):
        body = content.get("body")
        if limits.message_too_long(body):
            raise InvalidInput(
                _("A message has at most %(max)s characters.")
                % {"max": settings.WEBCHAT_MAX_MESSAGE_CHARS},
                field="body",
            )
        opening = self.view is None or self.view["status"] in ("none", Status.CLOSED)
        message = await database_sync_to_async(self._write)(content, opening)
        await self.send_json({"type": "sent", "request": content.get("id"), "message": message})
        if opening:
            await self._send_state()

    def _write(self, content, opening: bool) -> dict:
        key = self.webchat.public_key
        if opening:
            limits.count_per_minute("conversation", key=key, address=self.address)
        limits.count_per_minute("message", key=key, address=self.address)
        _conversation, message, created = chat.send_message(
            webchat=self.webchat, customer=self.customer, body=content.get("body"),
            choice=content.get("choice"), name=content.get("name"), email=content.get("email"),
        )
        if created:  # the customer's other tabs follow the new conversation
            push.publish({push.customer_group(self.customer.external_id): {
                "type": push.NOTICE_TYPE, "what": "reload"}})
        return chat.message_view(message)

    async def _rate(self, content):
        status = await database_sync_to_async(chat.rate)(
            webchat=self.webchat, customer=self.customer,
            conversation_id=content.get("conversation"), score=content.get("score"),
            comment=content.get("comment"),
        )
        await self._send_status(status, force=True)

    # ----------------------------------------------------------------- what reaches it

    async def webchat_notice(self, event):
        what = event.get("what")
        if self.customer is None:
            return
        if what == "message":
            await self._send_new_messages()
        elif what in ("status", "reload"):  # reload: another tab opened a conversation
            await self._refresh()
        elif what == "queue" and (self.settle_task is None or self.settle_task.done()):
            self.settle_task = asyncio.create_task(self._settle(time.monotonic()))

    async def _settle(self, noticed: float):
        """The queue moved: after a moment (more moves come together), the position from
        the team's queue as read after the notice, shared by this process's sockets."""
        await asyncio.sleep(QUEUE_SETTLE_SECONDS)
        view = self.view
        if view is None or view["status"] != Status.QUEUED or not view.get("team"):
            return
        await self._send_status(
            await database_sync_to_async(chat.requeued)(view, since=noticed)
        )

    async def _refresh(self):
        status = await database_sync_to_async(chat.current_status)(
            self.customer, since=time.monotonic()
        )
        if status["conversation"] != (self.view or {}).get("conversation"):
            await self._send_state()
            return
        await self._send_status(status)
        await self._send_new_messages()

    async def _send_state(self):
        view = await database_sync_to_async(chat.full_view)(self.customer)
        messages = view.pop("messages")
        self.last_message_id = messages[-1]["id"] if messages else 0
        self.view = view
        await self._follow(view)
        await self.send_json({"type": "state", **view, "messages": messages})

    async def _send_status(self, status: dict, force: bool = False):
        if status != self.view or force:
            self.view = status
            await self._follow(status)
            await self.send_json({"type": "status", **status})

    async def _send_new_messages(self):
        conversation = (self.view or {}).get("conversation")
        if conversation is None:
            return
        messages = await database_sync_to_async(chat.messages_after)(
            conversation, self.last_message_id
        )
        for message in messages:
            self.last_message_id = max(self.last_message_id, message["id"])
            await self.send_json({"type": "message", "message": message})

    async def _follow(self, view: dict):
        """Join the groups whose notices concern this customer now; refresh a waiting
        customer's estimate now and then (it drifts with the team's pace and presence)."""
        wanted = [push.customer_group(self.customer.external_id)]
        if view["conversation"] is not None:
            wanted.append(push.conversation_group(view["conversation"]))
        team_id = view.get("team")
        if view["status"] == Status.QUEUED and team_id:
            wanted.append(push.queue_group(team_id))
        await self._join(tuple(wanted))
        if view["status"] in (Status.QUEUED, Status.WAITING):
            if self.refresh_task is None or self.refresh_task.done():
                self.refresh_task = asyncio.create_task(self._refresh_now_and_then())
        elif self.refresh_task is not None:
            self.refresh_task.cancel()
            self.refresh_task = None

    async def _refresh_now_and_then(self):
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            await self._refresh()

    async def _join(self, wanted: tuple):
        for group in set(self.joined) - set(wanted):
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in set(wanted) - set(self.joined):
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined = wanted

    @classmethod
    async def encode_json(cls, content):
        return json.dumps(content, ensure_ascii=False)
