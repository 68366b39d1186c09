"""Classify botocore and aiohttp failures into the engine's retryable/permanent errors.

The engine owns retries and backoff (docs/architecture.md, "The delivery contract"), so AWS clients are
created with botocore's own retries off and every failure is mapped here:
throttling, 5xx, timeouts, connection problems and expired or missing
credentials may succeed later; validation and access errors never will.
"""

from __future__ import annotations

import asyncio

import aiohttp
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError as BotoConnectionError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
)

from shipper.errors import DeliveryError, PermanentError, RetryableError

#: error codes that mean "slow down" or "try again" whatever the HTTP status.
RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "RequestThrottled",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "RequestTimeout",
        "RequestTimeoutException",
        "IDPCommunicationError",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "OperationAbortedException",
    }
)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError (``""`` for anything else)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def http_status(exc: BaseException) -> int:
    """The HTTP status of a ClientError (0 when there was no response)."""
    if isinstance(exc, ClientError):
        return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return 0


def is_retryable(exc: BaseException) -> bool:
    """True when the same request may succeed later."""
    if isinstance(exc, ClientError):
        status = http_status(exc)
        return error_code(exc) in RETRYABLE_CODES or status >= 500 or status == 429
    if isinstance(exc, (ParamValidationError, NoRegionError)):
        return False
    return isinstance(
        exc,
        (
            BotoConnectionError,
            HTTPClientError,
            NoCredentialsError,
            PartialCredentialsError,
            CredentialRetrievalError,
            aiohttp.ClientError,
            asyncio.TimeoutError,
            OSError,
        ),
    )


def describe(exc: BaseException) -> str:
    """A one-line reason for logs: ``Code (HTTP 400): message`` or the exception text."""
    if isinstance(exc, ClientError):
        message = exc.response.get("Error", {}).get("Message", "")
        return f"{error_code(exc)} (HTTP {http_status(exc)}): {message}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


def service_error(code: str, message: str = "fake", status: int = 400) -> ClientError:
    """The ``ClientError`` botocore raises for an AWS JSON error answer (for in-memory fakes of a service)."""
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "fake")


def classify(exc: BaseException, what: str) -> DeliveryError:
    """The engine error for a failed AWS call; ``what`` names the call (``PutLogEvents golden-group/s``)."""
    if isinstance(exc, DeliveryError):
        return exc
    message = f"{what}: {describe(exc)}"
    if isinstance(exc, (ClientError, BotoCoreError)) and not is_retryable(exc):
        return PermanentError(message)
    # Retryable, or unexpected: the engine's Retry_Limit bounds it either way.
    return RetryableError(message)
