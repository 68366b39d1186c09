"""What one flush of an AWS output did with its requests, told to the engine the way it expects.

An output sends a chunk as several requests.  When one fails, the events of
that request and of the ones not yet sent share its fate: a retryable failure
puts them in ``RetryableError(events=...)`` so the engine retries only those
(nothing already delivered is sent twice); a permanent one drops them
(counted).  If everything was dropped, ``PermanentError`` lets the engine
count and report the whole chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from shipper.aws.errors import classify
from shipper.errors import PermanentError, RetryableError
from shipper.events import Event


@dataclass(slots=True)
class FlushOutcome:
    retry: list[Event] = field(default_factory=list)
    dropped: int = 0
    errors: list[str] = field(default_factory=list)

    def failed(self, exc: BaseException, what: str, events: list[Event]) -> None:
        """A request failed with ``exc``; ``events`` are its events and those of later requests."""
        error = classify(exc, what)
        self.errors.append(str(error))
        if isinstance(error, RetryableError):
            self.retry.extend(events)
        else:
            self.dropped += len(events)

    def merge(self, other: FlushOutcome) -> None:
        self.retry.extend(other.retry)
        self.dropped += other.dropped
        self.errors.extend(other.errors)

    @property
    def message(self) -> str:
        return "; ".join(self.errors)

    def settle(self, total: int, on_dropped: Callable[[int, str], None]) -> None:
        """Tell the engine: raise, or return normally when everything else was delivered.

        ``total`` is the number of events in the flushed chunk.  Events dropped
        from a chunk that was otherwise delivered (or is being retried) are
        handed to ``on_dropped(count, reason)`` to be counted and reported.
        """
        if self.dropped and self.dropped == total and not self.retry:
            raise PermanentError(self.message)  # the engine counts and reports the whole chunk
        if self.dropped:
            on_dropped(self.dropped, self.message)
        if self.retry:
            raise RetryableError(self.message, events=self.retry)
