"""From committed changes to the customers' sockets.

The subscriber runs after each commit (apps.core.announce) and publishes small notices, ids
only, to channel-layer groups: a conversation's group (``webchat.c.<id>``: a message was
written, or it moved) for conversations that belong to an integration, and a team's queue
group (``webchat.t.<id>``) when a conversation leaves or moves within that team's queue, so
those behind it learn their new position. Each customer's consumer reads what the notice
means for its customer from the database (apps.webchat.customer) and sends only that.

With REDIS_URL the notices are published with the inbox's synchronous publisher (any
server process's sockets hear them); in embedded mode they go through the in-memory layer
on the server's loop, which a consumer remembers when it connects.
"""

import asyncio
import hashlib
import logging

from channels.layers import get_channel_layer

from apps.conversations.events import ConversationsChanged, MessageCreated
from apps.conversations.models import Status
from apps.inbox.publish import sync_publisher

logger = logging.getLogger(__name__)

NOTICE_TYPE = "webchat.notice"  # handled by CustomerConsumer.webchat_notice

_loop: asyncio.AbstractEventLoop | None = None


def conversation_group(conversation_id: int) -> str:
    return f"webchat.c.{conversation_id}"


def queue_group(team_id: int) -> str:
    return f"webchat.t.{team_id}"


def customer_group(external_id: str) -> str:
    """Every tab of one customer (the external id hashed: any text is allowed there)."""
    return "webchat.p." + hashlib.sha256(external_id.encode()).hexdigest()[:40]


def notices_for(announcement) -> dict[str, dict]:
    """The groups to tell about one announcement, with what to tell them."""
    notices: dict[str, dict] = {}
    if isinstance(announcement, MessageCreated):
        if announcement.placement.integration_id is not None:
            notices[conversation_group(announcement.conversation_id)] = {
                "type": NOTICE_TYPE, "what": "message", "message": announcement.message_id,
            }
    elif isinstance(announcement, ConversationsChanged):
        for conversation_id, before, after in announcement.changes:
            if (before and before.integration_id) or after.integration_id:
                notices[conversation_group(conversation_id)] = {
                    "type": NOTICE_TYPE, "what": "status",
                }
            if before is not None and before.status == Status.QUEUED and before.team_id and (
                after.status != Status.QUEUED or after.team_id != before.team_id
            ):
                notices[queue_group(before.team_id)] = {"type": NOTICE_TYPE, "what": "queue"}
    return notices


def on_announcement(announcement) -> None:
    notices = notices_for(announcement)
    if notices:
        publish(notices)


def remember_loop(loop: asyncio.AbstractEventLoop) -> None:
    global _loop
    _loop = loop


def publish(notices: dict[str, dict]) -> None:
    """Send each group its notice, from sync code, now (after the commit that caused it)."""
    publisher = sync_publisher()
    if publisher is not None:
        publisher.group_send_many(notices)
        return
    loop = _loop
    if loop is None or loop.is_closed() or not loop.is_running():
        return  # in-memory layer, no server loop here: no customer socket to tell
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        loop.create_task(_send(notices))
    else:
        asyncio.run_coroutine_threadsafe(_send(notices), loop)


async def _send(notices: dict[str, dict]) -> None:
    layer = get_channel_layer()
    for group, message in notices.items():
        try:
            await layer.group_send(group, message)
        except Exception:
            logger.exception("web chat notice to %s failed", group)
