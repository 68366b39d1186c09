"""A metadata cache that is kind to the API server.

- One entry per key (``(namespace, pod)`` or a namespace), kept for a TTL
  (0 = until evicted, Fluent Bit's default).
- Concurrent lookups of one key share one request (single flight).
- "Not found" answers are remembered for ``negative_ttl``.
- Failures (connection refused, 5xx, timeouts) are remembered with an
  exponential backoff, so a down API server sees one request per pod per
  backoff period instead of one per chunk (Fluent Bit re-asks for every chunk).
- A caller waits at most ``wait`` seconds; the request carries on in the
  background and serves later chunks.
- An expired entry is served while it is being refreshed, and kept if the
  refresh fails: during an API outage records keep their last known metadata.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)

_MISSING = object()


class NotFound(Exception):
    """The API server says the object does not exist (404)."""


class Unavailable(Exception):
    """The object could not be fetched now; try again later."""


class _Slot:
    __slots__ = ("value", "expires", "retry_at", "backoff", "task", "error")

    def __init__(self) -> None:
        self.value: Any = _MISSING
        self.expires = 0.0
        self.retry_at = 0.0
        self.backoff = 0.0
        self.task: asyncio.Task[None] | None = None
        self.error = ""


class MetaCache(Generic[K]):
    """Fetches through ``fetch(key)`` (which raises NotFound or Unavailable) and remembers the outcome."""

    def __init__(
        self,
        fetch: Callable[[K], Awaitable[Any]],
        ttl: float = 0.0,
        negative_ttl: float = 60.0,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        limit: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.limit = limit
        self.clock = clock
        self._slots: dict[K, _Slot] = {}

    async def get(self, key: K, wait: float) -> Any:
        """The cached or fetched value; raises NotFound, or Unavailable after ``wait`` seconds at most."""
        now = self.clock()
        slot = self._slots.get(key)
        if slot is None:
            slot = self._new_slot(key)
        value = slot.value
        if value is not _MISSING:
            if now < slot.expires:
                return self._unwrap(value)
            if not isinstance(value, NotFound):
                # stale but usable: refresh in the background, answer now
                if slot.task is None and now >= slot.retry_at:
                    self._start(key, slot)
                return value
        if slot.task is None:
            if now < slot.retry_at:
                raise Unavailable(f"backing off after: {slot.error}")
            self._start(key, slot)
        task = slot.task
        assert task is not None
        try:
            await asyncio.wait_for(asyncio.shield(task), wait)
        except TimeoutError:
            raise Unavailable(f"no answer within {wait:g}s (still asking)") from None
        if slot.error or slot.value is _MISSING:
            raise Unavailable(slot.error or "lookup cancelled")
        return self._unwrap(slot.value)

    def invalidate(self, key: K) -> None:
        """Make the next lookup of ``key`` ask again (its old value is served meanwhile)."""
        slot = self._slots.get(key)
        if slot is not None:
            slot.expires = 0.0

    def _new_slot(self, key: K) -> _Slot:
        if len(self._slots) >= self.limit:
            for old in list(self._slots)[: max(1, self.limit // 8)]:
                if self._slots[old].task is None:
                    del self._slots[old]
        slot = self._slots[key] = _Slot()
        return slot

    @staticmethod
    def _unwrap(value: Any) -> Any:
        if isinstance(value, NotFound):
            raise NotFound(*value.args)  # a fresh one: re-raising the stored one would grow its traceback
        return value

    def _start(self, key: K, slot: _Slot) -> None:
        slot.task = asyncio.get_running_loop().create_task(self._run(key, slot))

    async def _run(self, key: K, slot: _Slot) -> None:
        try:
            value = await self._fetch(key)
        except NotFound as exc:
            slot.value, slot.expires = exc, self.clock() + self.negative_ttl
            slot.backoff, slot.retry_at, slot.error = 0.0, 0.0, ""
        except Exception as exc:  # Unavailable, or anything unforeseen: never lose the task's outcome
            slot.error = str(exc) or type(exc).__name__
            slot.backoff = min(self.backoff_cap, slot.backoff * 2 if slot.backoff else self.backoff_base)
            slot.retry_at = self.clock() + slot.backoff
        else:
            slot.value = value
            slot.expires = self.clock() + self.ttl if self.ttl > 0 else float("inf")
            slot.backoff, slot.retry_at, slot.error = 0.0, 0.0, ""
        finally:
            slot.task = None

    async def close(self) -> None:
        """Cancel requests still in flight."""
        tasks = [s.task for s in self._slots.values() if s.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
