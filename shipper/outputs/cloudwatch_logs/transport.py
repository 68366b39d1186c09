"""How requests reach CloudWatch Logs: a small Protocol, the AWS client, and an in-memory fake.

The output depends only on :class:`LogsTransport`, so its routing, stream
creation, partial failures and answer checks are unit-tested against
:class:`FakeLogs` without a network, and against moto through
:class:`AwsLogs`.  Both raise the service's errors as botocore's
``ClientError`` (``ResourceNotFoundException``...), which
:mod:`shipper.aws.errors` classifies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import orjson

from shipper.aws import AwsSettings
from shipper.aws.errors import service_error
from shipper.aws.rawbody import RawBodyClient, call_with_body

#: PutLogEvents parameters botocore validates before the real body replaces them.
_PLACEHOLDER = {"logEvents": [{"timestamp": 0, "message": "-"}]}


class LogsTransport(Protocol):
    """The CloudWatch Logs calls the output makes."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def create_log_group(self, group: str, group_class: str | None, tags: dict[str, str]) -> None: ...

    async def put_retention_policy(self, group: str, days: int) -> None: ...

    async def create_log_stream(self, group: str, stream: str) -> None: ...

    async def put_log_events(self, group: str, stream: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        """Send one PutLogEvents body; return the answer's JSON object or raise the service's error."""
        ...


class AwsLogs(RawBodyClient):
    """The calls through an aiobotocore ``logs`` client (SigV4, endpoints and errors stay botocore's)."""

    def __init__(self, aws: AwsSettings) -> None:
        super().__init__("logs", aws)

    async def create_log_group(self, group: str, group_class: str | None, tags: dict[str, str]) -> None:
        params: dict[str, Any] = {"logGroupName": group}
        if group_class:
            params["logGroupClass"] = group_class
        if tags:
            params["tags"] = tags
        await self.client.client.create_log_group(**params)

    async def put_retention_policy(self, group: str, days: int) -> None:
        await self.client.client.put_retention_policy(logGroupName=group, retentionInDays=days)

    async def create_log_stream(self, group: str, stream: str) -> None:
        await self.client.client.create_log_stream(logGroupName=group, logStreamName=stream)

    async def put_log_events(self, group: str, stream: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        placeholder = {"logGroupName": group, "logStreamName": stream, **_PLACEHOLDER}
        return await call_with_body(self.client.client, "put_log_events", body, placeholder, headers)


#: what a scripted call does instead of the service: raise this error, or answer this JSON object.
Scripted = BaseException | dict[str, Any]


class FakeLogs:
    """An in-memory CloudWatch Logs for unit tests: groups, streams and stored events.

    Like the service, a stream needs its group (``ResourceNotFoundException``)
    and a second create is ``ResourceAlreadyExistsException``.  ``script``
    plans what the next calls of an operation do instead (an error to raise,
    or an answer to return), e.g. ``fake.script("PutLogEvents", throttled)``.
    """

    def __init__(self, groups: tuple[str, ...] = ()) -> None:
        self.groups: dict[str, dict[str, list[dict[str, Any]]]] = {group: {} for group in groups}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.retention: dict[str, int] = {}
        self._script: dict[str, list[Scripted]] = {}
        self.answer: Callable[[dict[str, Any]], dict[str, Any]] = lambda request: {"nextSequenceToken": "0"}

    def script(self, operation: str, *steps: Scripted) -> None:
        self._script.setdefault(operation, []).extend(steps)

    def _planned(self, operation: str, request: dict[str, Any]) -> dict[str, Any] | None:
        self.calls.append((operation, request))
        steps = self._script.get(operation)
        if not steps:
            return None
        step = steps.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step

    def events(self, group: str, stream: str) -> list[dict[str, Any]]:
        return self.groups[group][stream]

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def create_log_group(self, group: str, group_class: str | None, tags: dict[str, str]) -> None:
        if self._planned("CreateLogGroup", {"logGroupName": group, "logGroupClass": group_class, "tags": tags}) is None:
            if group in self.groups:
                raise service_error("ResourceAlreadyExistsException")
            self.groups[group] = {}

    async def put_retention_policy(self, group: str, days: int) -> None:
        if self._planned("PutRetentionPolicy", {"logGroupName": group, "retentionInDays": days}) is None:
            self.retention[group] = days

    async def create_log_stream(self, group: str, stream: str) -> None:
        if self._planned("CreateLogStream", {"logGroupName": group, "logStreamName": stream}) is None:
            if group not in self.groups:
                raise service_error("ResourceNotFoundException", "The specified log group does not exist.")
            if stream in self.groups[group]:
                raise service_error("ResourceAlreadyExistsException")
            self.groups[group][stream] = []

    async def put_log_events(self, group: str, stream: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        request = orjson.loads(body)
        planned = self._planned("PutLogEvents", request)
        if planned is not None:
            return planned
        if stream not in self.groups.get(group, {}):
            raise service_error("ResourceNotFoundException", "The specified log stream does not exist.")
        self.groups[group][stream].extend(request["logEvents"])
        return self.answer(request)
