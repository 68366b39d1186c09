"""Send a JSON request body we encoded ourselves through an aiobotocore client.

botocore validates and serialises parameters with per-field Python calls,
several microseconds per CloudWatch event or Firehose record.  The outputs
build their bodies per batch with orjson instead (docs/architecture.md, "Performance rules") and
hand them over here: the call goes through botocore with a tiny placeholder
parameter set, and a ``before-call`` hook swaps in the real body (and extra
headers) before signing, so SigV4, endpoints, timeouts and error parsing stay
botocore's.

The answer comes back as the service's own JSON object, not botocore's
parse of it: botocore keeps only the members it knows and turns a body that
is not JSON into ``{"message": ...}``, so a 2xx from a proxy or a captive
portal (an HTML page, some other JSON) would look like success.  A 2xx whose
body is not a JSON object raises :class:`UnexpectedAnswer` (retryable); each
output then checks the object against the operation's documented answer.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import orjson

from shipper.aws.session import AwsClient
from shipper.aws.settings import AwsSettings
from shipper.errors import RetryableError

_OVERRIDE: ContextVar[tuple[bytes, dict[str, str]] | None] = ContextVar("shipper_aws_raw_body", default=None)


def _swap_body(params: dict[str, Any], **_: Any) -> None:
    override = _OVERRIDE.get()
    if override is not None:
        body, headers = override
        params["body"] = body
        params["headers"].update(headers)


#: where the raw body of a 2xx answer travels from the before-parse hook to :func:`call_with_body`.
_RAW_ANSWER = "ShipperRawAnswer"
#: how much of an unexpected answer a message quotes.
_PREVIEW = 120


class UnexpectedAnswer(RetryableError):
    """A 2xx response whose body is not the service's documented answer (a proxy's page, other JSON)."""


def _keep_answer(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    if _OVERRIDE.get() is not None and 200 <= response_dict["status_code"] < 300:
        customized_response_dict[_RAW_ANSWER] = response_dict["body"]


def install(client: Any) -> None:
    """Let :func:`call_with_body` work on ``client``; call once after opening it."""
    client.meta.events.register("before-call", _swap_body)
    client.meta.events.register("before-parse", _keep_answer)


def unexpected(operation: str, what: str, body: bytes | str) -> UnexpectedAnswer:
    """The error for a 2xx answer that is ``what`` instead of the documented one, quoting its start."""
    text = body if isinstance(body, str) else body[:_PREVIEW].decode("utf-8", "replace")
    return UnexpectedAnswer(f"{operation}: HTTP 2xx but {what}, not the service's answer: {text[:_PREVIEW]!r}")


def json_answer(operation: str, body: bytes) -> dict[str, Any]:
    """The JSON object of a 2xx answer; :class:`UnexpectedAnswer` when it is anything else."""
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise unexpected(operation, "the body is not JSON", body) from None
    if not isinstance(answer, dict):
        raise unexpected(operation, "the body is not a JSON object", body)
    return answer


async def call_with_body(
    client: Any, operation: str, body: bytes, placeholder: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Call ``operation`` (snake_case) sending ``body`` instead of ``placeholder``'s serialisation.

    ``placeholder`` must be valid parameters for the operation (they are
    validated, then discarded).  The override is task-local, so concurrent
    calls on one client do not mix bodies.  Returns the answer's JSON object
    (see the module doc); errors are raised as botocore raises them.
    """
    token = _OVERRIDE.set((body, headers or {}))
    try:
        response = await getattr(client, operation)(**placeholder)
    finally:
        _OVERRIDE.reset(token)
    return json_answer(operation, response.get(_RAW_ANSWER, b""))


class RawBodyClient:
    """One output's client of one AWS service for :func:`call_with_body`; the outputs' transports build on it.

    ``await open()`` opens the aiobotocore client with the body hook installed
    (no network call: credentials resolve on the first request); ``close()``
    releases it.
    """

    def __init__(self, service: str, aws: AwsSettings) -> None:
        self.client = AwsClient(service, aws)

    async def open(self) -> None:
        install(await self.client.open())

    async def close(self) -> None:
        await self.client.close()
