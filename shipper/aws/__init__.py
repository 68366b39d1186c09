"""AWS plumbing shared by every AWS output (cloudwatch_logs, kinesis_firehose, opensearch ``AWS_Auth``).

API
---
``AwsSettings`` (:mod:`shipper.aws.settings`)
    Frozen dataclass: ``region``, ``endpoint`` (a URL, or a host used with ``port``), ``port``,
    ``profile``, ``role_arn``, ``external_id``, ``sts_endpoint``, ``connect_timeout``,
    ``read_timeout``, ``tls`` (None = pick), ``verify`` (bool or CA bundle path),
    ``user_agent_extra``, ``max_connections``, ``keepalive``, ``keepalive_idle``.
    ``AwsSettings.from_settings(settings)`` reads :data:`AWS_OPTIONS` + ``net.connect_timeout``,
    ``net.keepalive*`` + ``tls``/``tls.verify``/``tls.ca_file`` of an
    output whose option table includes them; other outputs construct it directly.
    ``endpoint_url(endpoint, port, tls)`` turns Fluent Bit's ``endpoint``/``port`` into a URL.

``AwsClient(service, aws)`` (:mod:`shipper.aws.session`)
    One aiobotocore client per output instance: ``await open()`` in ``start``, ``.client`` for
    calls, ``await close()`` in ``stop``.  Botocore's own retries are off (the engine retries);
    connect/read timeouts bound every call.  ``.session`` is the underlying ``AioSession``.

``create_session(aws)`` / ``frozen_credentials(session)``
    A session on botocore's default credential chain (env, shared files/profile, IRSA web
    identity, ECS/EKS Pod Identity, IMDSv2); with ``role_arn`` it answers with AssumeRole
    credentials (``external_id``, ``sts_endpoint``) that refresh before expiry.
    ``await frozen_credentials(session)`` returns botocore ``ReadOnlyCredentials`` for signing a
    request by hand, e.g. ``botocore.auth.SigV4Auth(creds, "es", region).add_auth(request)``.

``classify(exc, what)`` / ``is_retryable(exc)`` / ``describe(exc)`` (:mod:`shipper.aws.errors`)
    Map botocore/aiohttp exceptions to :class:`~shipper.errors.RetryableError` (throttling, 5xx,
    429, timeouts, connection errors, expired/missing credentials) or
    :class:`~shipper.errors.PermanentError` (validation, access denied, other 4xx).
    ``error_code(exc)`` gives the AWS error code of a ClientError.

``install(client)`` / ``await call_with_body(client, op, body, placeholder, headers)`` (:mod:`shipper.aws.rawbody`)
    Send a JSON body encoded by us (orjson, per batch) through botocore's signing and error
    parsing, skipping its per-field validation and serialisation.  Returns the service's own JSON
    object; a 2xx whose body is not one raises ``UnexpectedAnswer`` (retryable).

``service_error(code, message, status)`` (:mod:`shipper.aws.errors`)
    The ``ClientError`` botocore raises for an AWS error answer, for the in-memory fakes of each
    output's ``transport.py``.
"""

from shipper.aws.errors import classify, describe, error_code, is_retryable
from shipper.aws.session import AwsClient, create_session, frozen_credentials
from shipper.aws.settings import AWS_OPTIONS, AwsSettings, endpoint_url

__all__ = [
    "AWS_OPTIONS",
    "AwsClient",
    "AwsSettings",
    "classify",
    "create_session",
    "describe",
    "endpoint_url",
    "error_code",
    "frozen_credentials",
    "is_retryable",
]
