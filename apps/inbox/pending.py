"""What changed and is not yet pushed: the live inbox's shared pending list and its "a flush
is armed" flag. With REDIS_URL both live in Redis, so every process coalesces into the same
flush; embedded mode keeps them in memory (one process)."""

import json
import os
import threading
import time

from django.conf import settings

PENDING_KEY = "atende:inbox:pending"
ARMED_KEY = "atende:inbox:flush-armed"
LAST_FLUSH_KEY = "atende:inbox:last-flush"


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


def _forget_process_state() -> None:
    """In a forked child: the parent's Redis socket and lock are not ours."""
    global _store, _store_lock
    _store, _store_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_process_state)
