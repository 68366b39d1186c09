"""Acknowledgement tracking: a chunk is done when every output that took it is.

One :class:`Delivery` follows one chunk an input emitted.  The engine holds
it while filters run, every output that matched a piece of it takes a share,
and re-emitted copies (rewrite_tag) take shares of the same delivery, so the
input's offset moves only when every copy everywhere is delivered, rejected
for good, or given up on by ``Retry_Limit``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shipper.plugin import Ack, Input


class Delivery:
    """Pending-share counter for one emitted chunk.

    ``source`` is the input that emitted it (None for a chunk replayed from
    filesystem storage), ``ack`` what to acknowledge when it is done, and
    ``nbytes`` what it counts against the input's memory limit.
    """

    __slots__ = ("source", "ack", "nbytes", "pending", "born", "_on_done")

    def __init__(self, source: Input | None, ack: Ack | None, nbytes: int, on_done: Callable[[Delivery], None]) -> None:
        self.source = source
        self.ack = ack
        self.nbytes = nbytes
        self.pending = 1  # held by the engine until routing is finished
        self.born = time.monotonic()
        self._on_done = on_done

    def take(self, shares: int = 1) -> None:
        self.pending += shares

    def release(self) -> None:
        self.pending -= 1
        if self.pending == 0:
            self._on_done(self)
