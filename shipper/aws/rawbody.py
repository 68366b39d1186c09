"""Send a JSON request body we encoded ourselves through an aiobotocore client.

botocore validates and serialises parameters with per-field Python calls,
several microseconds per CloudWatch event or Firehose record.  The outputs
build their bodies per batch with orjson instead (DESIGN.md section 4) and
hand them over here: the call goes through botocore with a tiny placeholder
parameter set, and a ``before-call`` hook swaps in the real body (and extra
headers) before signing, so SigV4, endpoints, timeouts and error parsing stay
botocore's.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

_OVERRIDE: ContextVar[tuple[bytes, dict[str, str]] | None] = ContextVar("shipper_aws_raw_body", default=None)


def _swap_body(params: dict[str, Any], **_: Any) -> None:
    override = _OVERRIDE.get()
    if override is not None:
        body, headers = override
        params["body"] = body
        params["headers"].update(headers)


def install(client: Any) -> None:
    """Let :func:`call_with_body` work on ``client``; call once after opening it."""
    client.meta.events.register("before-call", _swap_body)


async def call_with_body(
    client: Any, operation: str, body: bytes, placeholder: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Call ``operation`` (snake_case) sending ``body`` instead of ``placeholder``'s serialisation.

    ``placeholder`` must be valid parameters for the operation (they are
    validated, then discarded).  The override is task-local, so concurrent
    calls on one client do not mix bodies.
    """
    token = _OVERRIDE.set((body, headers or {}))
    try:
        return await getattr(client, operation)(**placeholder)
    finally:
        _OVERRIDE.reset(token)
