"""aiobotocore sessions and clients for one output instance, with assumed-role credentials.

Credentials come from botocore's default chain (environment, shared files and
``profile``, IRSA web identity, ECS/EKS Pod Identity container credentials,
IMDSv2), led by ``credentials_endpoint`` (the Go cloudwatch plugin's option: an
HTTP endpoint answering in the container-credentials JSON form) when set.  With ``role_arn`` those become the source credentials of an STS
AssumeRole whose result refreshes itself before it expires, like Fluent Bit's
``role_arn``/``external_id``/``sts_endpoint``.
"""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.credentials import (
    AioAssumeRoleCredentialFetcher,
    AioContainerProvider,
    AioDeferredRefreshableCredentials,
)
from aiobotocore.session import AioSession
from botocore.credentials import CredentialProvider, ReadOnlyCredentials
from botocore.exceptions import NoCredentialsError

from shipper import __version__
from shipper.aws.settings import AwsSettings


class _FixedProvider(CredentialProvider):
    """A credential-chain link that always answers with the given (refreshing) credentials."""

    METHOD = "shipper-assume-role"
    CANONICAL_NAME = "shipper-assume-role"

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._credentials = credentials

    async def load(self) -> Any:  # aiobotocore awaits provider.load()
        return self._credentials


class _SessionCredentials:
    """Source credentials for AssumeRole, resolved only when the role credentials refresh."""

    def __init__(self, session: AioSession) -> None:
        self._session = session

    async def get_frozen_credentials(self) -> ReadOnlyCredentials:
        return await frozen_credentials(self._session)


def client_config(aws: AwsSettings) -> AioConfig:
    """Timeouts, pool size and user agent; botocore's retries are off because the engine retries."""
    agent = f"shipper/{__version__}" + (f" {aws.user_agent_extra}" if aws.user_agent_extra else "")
    return AioConfig(
        region_name=aws.region,
        connect_timeout=aws.connect_timeout,
        read_timeout=aws.read_timeout,
        retries={"total_max_attempts": 1, "mode": "standard"},
        max_pool_connections=aws.max_connections,
        user_agent_extra=agent,
        connector_args={"keepalive_timeout": aws.keepalive_idle, "force_close": not aws.keepalive},
    )


def _base_session(aws: AwsSettings) -> AioSession:
    """The default chain (and ``profile``), led by ``credentials_endpoint`` when one is set."""
    session = AioSession(profile=aws.profile) if aws.profile else AioSession()
    if aws.credentials_endpoint:
        provider = AioContainerProvider(environ={AioContainerProvider.ENV_VAR_FULL: aws.credentials_endpoint})
        session.get_component("credential_provider").providers.insert(0, provider)
    return session


def create_session(aws: AwsSettings) -> AioSession:
    """A session on the default credential chain (and ``profile``); no I/O happens here."""
    session = _base_session(aws)
    if aws.role_arn:
        source = _base_session(aws)
        credentials = AioDeferredRefreshableCredentials(
            refresh_using=_assume_role_fetcher(source, aws).fetch_credentials, method="assume-role"
        )
        session.get_component("credential_provider").providers.insert(0, _FixedProvider(credentials))
    return session


def _assume_role_fetcher(source: AioSession, aws: AwsSettings) -> Any:
    """Refreshes ``role_arn`` credentials from the source session, through ``sts_endpoint``."""

    def client_creator(service: str, **kwargs: Any) -> Any:
        return source.create_client(
            service,
            region_name=aws.region,
            endpoint_url=aws.sts_endpoint_url(),
            verify=aws.verify,
            config=client_config(aws),
            **kwargs,
        )

    extra: dict[str, Any] = {"RoleSessionName": f"shipper-{int(time.time())}"}
    if aws.external_id:
        extra["ExternalId"] = aws.external_id
    return AioAssumeRoleCredentialFetcher(client_creator, _SessionCredentials(source), aws.role_arn, extra_args=extra)


class AwsClient:
    """One aiobotocore client of one service for one output instance.

    ``await open()`` in the output's ``start``, use ``.client``, ``await close()``
    in ``stop``.  Opening makes no network call: credentials resolve on the first request.
    """

    def __init__(self, service: str, aws: AwsSettings, extra_config: AioConfig | None = None) -> None:
        self.service = service
        self.aws = aws
        #: service-specific client settings merged over :func:`client_config` (S3 addressing style).
        self.extra_config = extra_config
        self.session = create_session(aws)
        self._stack: AsyncExitStack | None = None
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            raise RuntimeError(f"{self.service} client used before open()")
        return self._client

    async def open(self) -> Any:
        if self._client is None:
            stack = AsyncExitStack()
            self._client = await stack.enter_async_context(
                self.session.create_client(
                    self.service,
                    region_name=self.aws.region,
                    endpoint_url=self.aws.endpoint_url(),
                    verify=self.aws.verify,
                    config=self._config(),
                )
            )
            self._stack = stack
        return self._client

    def _config(self) -> AioConfig:
        config = client_config(self.aws)
        return config.merge(self.extra_config) if self.extra_config is not None else config

    async def close(self) -> None:
        if self._stack is not None:
            stack, self._stack, self._client = self._stack, None, None
            await stack.aclose()

    async def frozen_credentials(self) -> ReadOnlyCredentials:
        """See :func:`frozen_credentials`."""
        return await frozen_credentials(self.session)


async def frozen_credentials(session: AioSession) -> ReadOnlyCredentials:
    """Current credentials (refreshed when near expiry) for signing a request by hand (SigV4).

    Raises botocore's NoCredentialsError when the chain finds none; pass it to
    :func:`shipper.aws.errors.classify` (it is retryable: IMDS may come up later).
    """
    credentials = await session.get_credentials()
    if credentials is None:
        raise NoCredentialsError()
    return await credentials.get_frozen_credentials()
