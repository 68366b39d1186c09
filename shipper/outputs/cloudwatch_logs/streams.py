"""The log groups and streams one cloudwatch_logs output sends to: made to exist once, on first use.

Like Fluent Bit, CreateLogStream comes first and a missing group is created
(with ``auto_create_group``, its class, tags and retention) only when the
stream call says so.  Concurrent flushes that need the same stream or group
share one creation.  What exists is remembered, up to a bound: past
:data:`MAX_REMEMBERED` names (templates over churning pods) the memory starts
over, which costs one CreateLogStream answered "already exists" per stream.
A stream deleted behind our back is forgotten and created again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from shipper.aws import error_code
from shipper.errors import PermanentError
from shipper.outputs.cloudwatch_logs.transport import LogsTransport

#: remembered streams/groups before the memory starts over.
MAX_REMEMBERED = 20_000

#: a (log group, log stream) pair.
Destination = tuple[str, str]


@dataclass
class NewGroups:
    """How groups this output creates are made (``auto_create_group`` and its companions)."""

    create: bool = False
    group_class: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    retention_days: int = 0


class Streams:
    """Makes sure each destination's group and stream exist before events are sent to it."""

    def __init__(self, transport: LogsTransport, groups: NewGroups, log: logging.Logger) -> None:
        self.transport = transport
        self.groups = groups
        self.log = log
        self._streams: set[Destination] = set()
        self._groups: set[str] = set()
        self._creating: dict[tuple[str, Any], asyncio.Future[None]] = {}

    async def ensure(self, dest: Destination) -> None:
        """Create the stream (and the group if allowed) once; concurrent callers share the work."""
        if dest not in self._streams:
            await self._once(("stream", dest), lambda: self._create_stream(dest))

    def forget(self, dest: Destination) -> None:
        """The stream (or its group) was deleted behind our back: the next :meth:`ensure` creates it again."""
        self._streams.discard(dest)
        self._groups.discard(dest[0])

    async def _once(self, key: tuple[str, Any], work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` unless the same key is already in flight, in which case wait for that one."""
        pending = self._creating.get(key)
        if pending is None:
            pending = self._creating[key] = asyncio.ensure_future(work())
            pending.add_done_callback(lambda _: self._creating.pop(key, None))
        await asyncio.shield(pending)

    async def _create_stream(self, dest: Destination) -> None:
        group, stream = dest
        try:
            await self.transport.create_log_stream(group, stream)
        except Exception as exc:
            code = error_code(exc)
            if code == "ResourceNotFoundException" and self.groups.create:
                if group not in self._groups:
                    await self._once(("group", group), lambda: self._create_group(group))
                await self._create_stream_again(dest)
            elif code == "ResourceNotFoundException":
                raise PermanentError(
                    f"log group {group!r} does not exist; create it or set auto_create_group on"
                ) from exc
            elif code != "ResourceAlreadyExistsException":
                raise
        _remember(self._streams, dest)

    async def _create_stream_again(self, dest: Destination) -> None:
        try:
            await self.transport.create_log_stream(*dest)
        except Exception as exc:
            if error_code(exc) != "ResourceAlreadyExistsException":
                raise

    async def _create_group(self, group: str) -> None:
        try:
            await self.transport.create_log_group(group, self.groups.group_class, self.groups.tags)
        except Exception as exc:
            if error_code(exc) != "ResourceAlreadyExistsException":
                raise
        else:
            self.log.info("created log group %s", group)
            if self.groups.retention_days:
                await self.transport.put_retention_policy(group, self.groups.retention_days)
        _remember(self._groups, group)


def _remember(names: set[Any], name: Any) -> None:
    if len(names) >= MAX_REMEMBERED:
        names.clear()
    names.add(name)
