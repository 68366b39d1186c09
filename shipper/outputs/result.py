"""What one flush did: the one result type every output returns and the engine consumes.

A flush sends a batch as one or more requests, and each record ends in one
of three states:

- **delivered**: everything not listed below;
- **retry**: the records to send again later (throttling, 5xx, a connection
  that broke), with the reason to log; the engine retries only these, so
  nothing already accepted is sent twice;
- **dropped**: records that will never be accepted (validation errors, a
  mapping conflict, a record the output cannot encode), counted per reason.
  The engine counts them in ``fluentbit_output_dropped_records_total`` and
  ``shipper_output_dropped_records_total{reason}``, logs each reason at most
  once a minute, and never retries them.

A reason is ``"category: detail"``: the category (the text before the first
``": "``) labels the metric, so it must come from a small fixed set; the
detail is only logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shipper.errors import DeliveryError, RetryableError
from shipper.events import Event

#: reason categories used by more than one output.
UNENCODABLE = "unencodable"
REJECTED = "rejected"


def reason_category(reason: str) -> str:
    """The metric label of a drop reason: its text before the first ``": "``."""
    return reason.split(": ", 1)[0]


@dataclass(slots=True)
class FlushResult:
    """The outcome of one ``Output.flush``; records not retried or dropped were delivered."""

    retry: list[Event] = field(default_factory=list)
    retry_reason: str = ""
    #: reason -> number of records dropped for good for that reason.
    dropped: dict[str, int] = field(default_factory=dict)

    @classmethod
    def ok(cls) -> FlushResult:
        """Everything was delivered."""
        return cls()

    @property
    def dropped_count(self) -> int:
        return sum(self.dropped.values())

    def add_retry(self, events: list[Event], reason: str) -> None:
        """``events`` failed in a way that may succeed later; ``reason`` says why."""
        if not events:
            return
        self.retry.extend(events)
        self.retry_reason = f"{self.retry_reason}; {reason}" if self.retry_reason else reason

    def add_dropped(self, reason: str, count: int) -> None:
        """``count`` records will never be accepted, for ``reason`` (``category: detail``)."""
        if count > 0:
            self.dropped[reason] = self.dropped.get(reason, 0) + count

    def add_error(self, error: DeliveryError, events: list[Event]) -> None:
        """A request failed with an already classified error; ``events`` share its fate."""
        if isinstance(error, RetryableError):
            self.add_retry(events, str(error))
        else:
            self.add_dropped(f"{REJECTED}: {error}", len(events))

    def merge(self, other: FlushResult) -> FlushResult:
        """Add ``other``'s records to this result (and return it, for chaining)."""
        self.add_retry(other.retry, other.retry_reason)
        for reason, count in other.dropped.items():
            self.add_dropped(reason, count)
        return self
