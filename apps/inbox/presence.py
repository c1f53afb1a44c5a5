"""Presence from live connections, across tabs and processes, with no in-process state.

Each open websocket registers its channel name in the Django cache under its agent (a Redis
sorted set scored by expiry in production, a dict in the embedded locmem cache), and in one
set of every open socket (``open_socket_count``, the websocket gauge of /metrics, right
across processes). Heartbeats (pings) push the expiry forward; a process that dies leaves
entries that expire by themselves, and services.sweep_stale_presence catches the presence.
All presence changes go through services.set_presence (coming online lets distribution run;
leaving releases reservations).

- Opening a connection makes an offline agent online, unless they chose away (the choice is
  kept on the person's row, ``User.chose_away``, so neither a new tab, nor a reconnect, nor
  a restart of Redis or of the server overrides it).
- When the last connection closes, nothing happens for PRESENCE_GRACE_SECONDS; then, if no
  connection came back (a reload reconnects well within it), the agent becomes offline.
"""

import threading
import time

from django.conf import settings
from django.core.cache import cache

from apps.accounts.models import ChangeCause, Presence, User
from apps.routing import services

_local_lock = threading.Lock()


def _key(agent_id: int) -> str:
    return f"atende:inbox:connections:{int(agent_id)}"


ALL_SOCKETS_KEY = "atende:inbox:connections:all"


def _ttl() -> int:
    return int(settings.PRESENCE_TIMEOUT)


def _redis_client():
    """The Redis client behind the Django cache when it is Redis, else None (locmem)."""
    backend = getattr(cache, "_cache", None)
    get_client = getattr(backend, "get_client", None)
    if get_client is None or not settings.REDIS_URL:
        return None
    return get_client(write=True)


def _touch(agent_id: int, channel_name: str | None, *, remove: bool = False) -> int:
    """Add, refresh or remove one connection (under its agent and in the set of all
    sockets); drop expired ones; return how many the agent has."""
    now = time.time()
    expires = now + _ttl()
    client = _redis_client()
    if client is not None:
        key = cache.make_key(_key(agent_id))
        every = cache.make_key(ALL_SOCKETS_KEY)
        pipe = client.pipeline(transaction=True)
        if channel_name is not None:
            if remove:
                pipe.zrem(every, channel_name)
            else:
                pipe.zadd(every, {channel_name: expires})
                pipe.expire(every, _ttl() * 2)
        pipe.zremrangebyscore(key, "-inf", now)
        if channel_name is not None:
            if remove:
                pipe.zrem(key, channel_name)
            else:
                pipe.zadd(key, {channel_name: expires})
                pipe.expire(key, _ttl() * 2)
        pipe.zcard(key)
        return int(pipe.execute()[-1])
    with _local_lock:
        if channel_name is not None:
            _set_local(ALL_SOCKETS_KEY, channel_name, None if remove else expires, now)
        return _set_local(_key(agent_id), channel_name, None if remove else expires, now)


def _set_local(key: str, channel_name: str | None, expires: float | None, now: float) -> int:
    """The locmem cache's stand-in for a sorted set: ``expires`` None removes."""
    connections = {name: until for name, until in (cache.get(key) or {}).items() if until > now}
    if channel_name is not None:
        if expires is None:
            connections.pop(channel_name, None)
        else:
            connections[channel_name] = expires
    cache.set(key, connections, timeout=_ttl() * 2)
    return len(connections)


def open_socket_count() -> int:
    """Inbox websockets open now, in every server process (one Redis round trip)."""
    now = time.time()
    client = _redis_client()
    if client is not None:
        every = cache.make_key(ALL_SOCKETS_KEY)
        pipe = client.pipeline(transaction=True)
        pipe.zremrangebyscore(every, "-inf", now)
        pipe.zcard(every)
        return int(pipe.execute()[-1])
    with _local_lock:
        return _set_local(ALL_SOCKETS_KEY, None, None, now)


def register(agent_id: int, channel_name: str) -> int:
    return _touch(agent_id, channel_name)


def unregister(agent_id: int, channel_name: str) -> int:
    return _touch(agent_id, channel_name, remove=True)


def connection_count(agent_id: int) -> int:
    return _touch(agent_id, None)


def chose_away(agent_id: int) -> bool:
    return User.objects.filter(pk=agent_id, chose_away=True).exists()


def connection_opened(user: User, channel_name: str) -> None:
    """The connection (registered already) is open: presence follows it."""
    row = User.objects.filter(pk=user.pk).values_list("presence", "chose_away").first()
    current, away = row if row else (None, False)
    if current == Presence.OFFLINE:
        wanted = Presence.AWAY if away else Presence.ONLINE
        services.set_presence(
            agent=user, status=wanted, actor=user, cause=ChangeCause.CONNECTED
        )
    else:
        user.presence = current
        services.record_heartbeat(agent=user)


def heartbeat(user: User, channel_name: str) -> None:
    register(user.pk, channel_name)
    services.record_heartbeat(agent=user)


def choose(user: User, status: str) -> None:
    """The person switched online/away: applied, and remembered, by the service."""
    services.set_presence(agent=user, status=status, actor=user, cause=ChangeCause.CHOSE)


def connection_closed(user: User, channel_name: str) -> int:
    """Returns how many connections the agent still has (any process)."""
    return unregister(user.pk, channel_name)


def settle_after_grace(agent_id: int) -> bool:
    """Called PRESENCE_GRACE_SECONDS after an agent's last connection closed: offline if
    none came back. Returns whether the agent was set offline."""
    if connection_count(agent_id) > 0:
        return False
    agent = User.objects.filter(pk=agent_id).first()
    if agent is None or agent.presence == Presence.OFFLINE:
        return False
    services.set_presence(
        agent=agent, status=Presence.OFFLINE, cause=ChangeCause.DISCONNECTED
    )
    if connection_count(agent_id) > 0:
        # A connection opened while we were setting offline (and saw the agent still
        # online, so it left presence alone): it is here, so it is not offline.
        wanted = Presence.AWAY if chose_away(agent_id) else Presence.ONLINE
        services.set_presence(
            agent=agent, status=wanted, actor=agent, cause=ChangeCause.CONNECTED
        )
        return False
    return True
