"""Error types shared by the configuration reader, the engine and the plugins.

Configuration errors always carry where they come from (file and line) because
``shipper check`` must point users at the exact place to fix.  Delivery errors
tell the engine whether a failed flush may be retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shipper.events import Event


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a configuration file (``line`` is 1-based; 0 means "whole file")."""

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


class ConfigError(Exception):
    """One problem in a configuration, reported as ``file:line: message``."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ConfigErrors(Exception):
    """Every problem found in one configuration; ``check`` prints them all at once."""

    def __init__(self, errors: list[ConfigError], warnings: list[ConfigError] | None = None) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors
        #: the config's warnings, printed with the errors: an unset ${VAR} is often why an option is empty
        self.warnings = warnings or []


class DeliveryError(Exception):
    """Base of the errors an output's ``flush`` raises."""


class RetryableError(DeliveryError):
    """The flush may succeed later (throttling, 5xx, timeouts, connection errors).

    ``events`` narrows the retry to the records that actually failed, so a
    partial failure (Firehose ``FailedPutCount``, OpenSearch per-item 429) is
    retried without re-sending what was already accepted.
    """

    def __init__(self, message: str, events: list[Event] | None = None) -> None:
        super().__init__(message)
        self.events = events


class PermanentError(DeliveryError):
    """The destination will never accept these records (validation, access denied).

    The engine counts them as dropped, logs the reason and acknowledges them so
    the input can move on.
    """
