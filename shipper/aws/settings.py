"""Connection settings shared by every AWS output, and the options that set them.

Fluent Bit's AWS plugins share ``region``, ``endpoint``, ``port``, ``profile``,
``role_arn``, ``external_id`` and ``sts_endpoint``.  :class:`AwsSettings` holds
them in plain form so an output with other option names (opensearch's
``AWS_Region``, ``AWS_Role_ARN``...) can build one directly.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from shipper.errors import ConfigError
from shipper.options import Option, Settings

#: options every AWS output accepts, named as in Fluent Bit's cloudwatch_logs / kinesis_firehose.
AWS_OPTIONS = (
    Option("region", required=True, help="AWS region, e.g. us-east-1"),
    Option("endpoint", help="custom endpoint: a URL (http://127.0.0.1:4566) or a host name used with port"),
    Option("port", "int", help="port of a host-name endpoint"),
    Option("profile", help="shared config/credentials profile of the default credential chain"),
    Option("role_arn", help="IAM role to assume (with refreshing credentials) for every call"),
    Option("external_id", help="external ID given when assuming role_arn"),
    Option("sts_endpoint", help="custom STS endpoint used to assume role_arn"),
    Option("auto_retry_requests", "bool", default="on", ignored=True, help="accepted for compatibility; the engine retries"),
    Option("net.read_timeout", "duration", default="30", help="seconds to wait for a response before retrying"),
)

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
#: the form botocore accepts for a region name; anything else fails only when the client opens, at start.
_REGION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?")


@dataclass(frozen=True, slots=True)
class AwsSettings:
    """Everything needed to open an AWS client; see :mod:`shipper.aws`."""

    region: str
    endpoint: str | None = None
    port: int | None = None
    profile: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    sts_endpoint: str | None = None
    #: an HTTP endpoint serving credentials in the container-credentials form (the Go cloudwatch plugin's option).
    credentials_endpoint: str | None = None
    #: seconds to establish a connection / to wait for a response.
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    #: True/False forces https/http for a host-name endpoint; None picks (see :func:`endpoint_url`).
    tls: bool | None = None
    #: False disables certificate checks; a path is a CA bundle.
    verify: bool | str = True
    user_agent_extra: str | None = None
    #: size of the HTTP connection pool (bounded concurrency per output).
    max_connections: int = 10
    #: reuse connections (``net.keepalive``), closing idle ones after ``keepalive_idle`` seconds.
    keepalive: bool = True
    keepalive_idle: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings, user_agent_extra: str | None = None, max_connections: int = 10) -> AwsSettings:
        """Read :data:`AWS_OPTIONS`, ``net.connect_timeout`` and the TLS options of an output."""
        verify: bool | str = settings.get("tls.verify", True)
        if verify and settings.get("tls.ca_file"):
            verify = settings["tls.ca_file"]
        aws = cls(
            region=settings["region"],
            endpoint=settings.get("endpoint") or None,
            port=settings.get("port"),
            profile=settings.get("profile") or None,
            role_arn=settings.get("role_arn") or None,
            external_id=settings.get("external_id") or None,
            sts_endpoint=settings.get("sts_endpoint") or None,
            credentials_endpoint=settings.get("credentials_endpoint") or None,
            connect_timeout=settings.get("net.connect_timeout", 10.0),
            read_timeout=settings.get("net.read_timeout", 30.0),
            keepalive=settings.get("net.keepalive", True),
            keepalive_idle=settings.get("net.keepalive_idle_timeout", 30.0),
            tls=settings["tls"] if settings.is_set("tls") else None,
            verify=verify,
            user_agent_extra=user_agent_extra,
            max_connections=max_connections,
        )
        aws.validate(settings)
        return aws

    def validate(self, settings: Settings, prefix: str = "") -> None:
        """Refuse at ``check`` what botocore or STS would refuse only when the client opens, at start.

        ``prefix`` is how the output spells the options (opensearch: ``aws_region``),
        so the error points at the line the user wrote.
        """
        if not _REGION.fullmatch(self.region):
            where = settings.where(prefix + "region")
            raise ConfigError(f"{prefix}region {self.region!r} is not a region name such as us-east-1", where)
        if self.external_id is not None and not 2 <= len(self.external_id) <= 1224:
            raise ConfigError(
                f"{prefix}external_id must be 2 to 1224 characters (an STS limit)", settings.where(prefix + "external_id")
            )
        try:
            self.endpoint_url()
        except ValueError as exc:
            raise ConfigError(str(exc), settings.where(prefix + "endpoint")) from None
        try:
            self.sts_endpoint_url()
        except ValueError as exc:
            raise ConfigError(str(exc), settings.where(prefix + "sts_endpoint")) from None

    def endpoint_url(self) -> str | None:
        """The service endpoint URL, or None for the region's public endpoint."""
        return endpoint_url(self.endpoint, self.port, self.tls)

    def sts_endpoint_url(self) -> str | None:
        return endpoint_url(self.sts_endpoint, None, self.tls)


def endpoint_url(endpoint: str | None, port: int | None, tls: bool | None = None) -> str | None:
    """Turn Fluent Bit's ``endpoint`` (+ ``port``) into a URL botocore accepts.

    A value with a scheme is used as written.  A bare host uses https, as Fluent
    Bit always does, except for loopback hosts, where local emulators (moto,
    LocalStack) listen on plain HTTP; ``tls on/off`` overrides the choice.
    """
    if not endpoint:
        return None
    text = endpoint.strip()
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme not in ("http", "https"):
            raise ValueError(f"endpoint {endpoint!r}: scheme must be http or https")
        parts = urlsplit(text)
        if not parts.hostname or any(c.isspace() for c in text):
            raise ValueError(f"endpoint {endpoint!r} is not a URL with a host")
        if port is not None and parts.port is None:
            text = urlunsplit(parts._replace(netloc=f"{parts.netloc}:{port}"))
        return text
    host = text.rstrip("/")
    if port is not None:
        if port <= 0 or port > 65535:
            raise ValueError(f"port {port} is out of range")
        host = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
    if not host or any(c.isspace() for c in host):
        raise ValueError(f"endpoint {endpoint!r} is neither a URL nor a host name")
    secure = tls if tls is not None else not _is_loopback(text)
    return f"{'https' if secure else 'http'}://{host}"


def _is_loopback(host: str) -> bool:
    name = host.split("/", 1)[0].strip("[]")
    if name.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
