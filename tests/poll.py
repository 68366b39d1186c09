"""Wait for a condition with a deadline, instead of sleeping a fixed time.

A fixed sleep is too short on a loaded machine (a flaky test) and longer than needed everywhere else (a
slow suite); polling the condition the test actually needs is neither. ``wait_for`` fails with a message
naming the condition, so a timeout reads as what did not happen.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


def eventually(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass; returns its last answer."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.2, what: str = "condition") -> None:
    """Poll ``predicate`` until true; AssertionError after ``timeout`` seconds."""
    if not eventually(predicate, timeout, interval):
        raise AssertionError(f"{what}: not met within {timeout:g}s")


async def wait_for_async(
    predicate: Callable[[], bool | Awaitable[bool]], timeout: float, interval: float = 0.05, what: str = "condition"
) -> None:
    """``wait_for`` inside an event loop: sleeps without blocking it; ``predicate`` may be a coroutine function."""
    deadline = time.monotonic() + timeout
    while True:
        answer = predicate()
        if inspect.isawaitable(answer):
            answer = await answer
        if answer:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not met within {timeout:g}s")
        await asyncio.sleep(interval)
