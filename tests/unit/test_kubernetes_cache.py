"""The metadata cache: single flight, TTL, negative cache, backoff, bounded wait, stale answers."""

from __future__ import annotations

import asyncio

import pytest

from shipper.filters.kubernetes.cache import MetaCache, NotFound, Unavailable
from tests.poll import wait_for_async


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Backend:
    """A fetch function whose answers the test scripts."""

    def __init__(self) -> None:
        self.calls = 0
        self.answer: object = {"v": 1}
        self.gate: asyncio.Event | None = None

    async def __call__(self, key: str) -> object:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


async def test_concurrent_lookups_share_one_request() -> None:
    backend = Backend()
    backend.gate = asyncio.Event()
    cache: MetaCache[str] = MetaCache(backend)
    waiters = [asyncio.create_task(cache.get("k", wait=5)) for _ in range(20)]
    await asyncio.sleep(0)
    backend.gate.set()
    results = await asyncio.gather(*waiters)
    assert backend.calls == 1 and all(r is results[0] for r in results)
    await cache.get("k", wait=5)
    assert backend.calls == 1


async def test_ttl_refresh_serves_the_old_value_meanwhile() -> None:
    clock, backend = Clock(), Backend()
    cache: MetaCache[str] = MetaCache(backend, ttl=10, clock=clock)
    first = await cache.get("k", wait=5)
    clock.now += 11
    backend.answer = {"v": 2}
    assert await cache.get("k", wait=5) is first  # stale answer, refresh started
    await wait_for_async(lambda: backend.calls == 2, 5, 0.001, "the refresh")
    assert await cache.get("k", wait=5) == {"v": 2} and backend.calls == 2


async def test_not_found_is_remembered_for_the_negative_ttl() -> None:
    clock, backend = Clock(), Backend()
    backend.answer = NotFound("404")
    cache: MetaCache[str] = MetaCache(backend, negative_ttl=60, clock=clock)
    for _ in range(3):
        with pytest.raises(NotFound):
            await cache.get("k", wait=5)
    assert backend.calls == 1
    clock.now += 61
    backend.answer = {"v": 1}
    assert await cache.get("k", wait=5) == {"v": 1} and backend.calls == 2


async def test_failures_back_off_exponentially_then_recover() -> None:
    clock, backend = Clock(), Backend()
    backend.answer = Unavailable("connection refused")
    cache: MetaCache[str] = MetaCache(backend, backoff_base=1, backoff_cap=4, clock=clock)
    with pytest.raises(Unavailable):
        await cache.get("k", wait=5)
    with pytest.raises(Unavailable, match="backing off"):
        await cache.get("k", wait=5)
    assert backend.calls == 1
    for expected_calls, pause in ((2, 1.01), (3, 2.01), (4, 4.01), (5, 4.01)):  # 1s, 2s, 4s, capped at 4s
        clock.now += pause
        with pytest.raises(Unavailable):
            await cache.get("k", wait=5)
        assert backend.calls == expected_calls
    clock.now += 4.01
    backend.answer = {"v": 1}
    assert await cache.get("k", wait=5) == {"v": 1}


async def test_a_slow_answer_is_waited_for_only_briefly_and_serves_later() -> None:
    backend = Backend()
    backend.gate = asyncio.Event()
    cache: MetaCache[str] = MetaCache(backend)
    with pytest.raises(Unavailable, match="still asking"):
        await cache.get("k", wait=0.01)
    backend.gate.set()
    assert await cache.get("k", wait=5) == {"v": 1} and backend.calls == 1


async def test_a_stale_value_survives_a_failed_refresh() -> None:
    clock, backend = Clock(), Backend()
    cache: MetaCache[str] = MetaCache(backend, ttl=10, clock=clock)
    await cache.get("k", wait=5)
    clock.now += 11
    backend.answer = Unavailable("down")
    assert await cache.get("k", wait=5) == {"v": 1}
    await wait_for_async(lambda: backend.calls == 2, 5, 0.001, "the failed refresh")
    assert await cache.get("k", wait=5) == {"v": 1}


async def test_close_cancels_requests_in_flight() -> None:
    backend = Backend()
    backend.gate = asyncio.Event()
    cache: MetaCache[str] = MetaCache(backend)
    with pytest.raises(Unavailable):
        await cache.get("k", wait=0.01)
    await cache.close()
    with pytest.raises(Unavailable):
        await cache.get("k", wait=0.01)  # a new request, also unanswered
    await cache.close()
