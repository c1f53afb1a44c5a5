"""Publishing to websocket groups from synchronous code (a Celery worker, a management
command, a server before its first websocket): channels_redis' pub/sub wire format with a
plain synchronous Redis client, so sockets held by any server process get the message; no
event loop, thread or connection outlives the call's process state across a fork."""

import os
import threading

from channels.layers import get_channel_layer


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


def sync_publisher() -> _SyncGroupPublisher | None:
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
    """In a forked child: the parent's Redis sockets and lock are not ours."""
    global _publisher, _publisher_lock
    _publisher, _publisher_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_process_state)
