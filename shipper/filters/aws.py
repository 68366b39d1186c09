"""The ``aws`` filter: EC2 instance metadata (IMDS) on every record.

Metadata is fetched once, in the background, through the IMDSv2 token flow
(a session token from ``PUT /latest/api/token``, refreshed before it expires
and after a 401) or plain IMDSv1 GETs, then added to every record of every
chunk from one prepared dict: no request, await or log per record.  While
IMDS cannot be reached, records pass without the keys (counted in
``shipper_aws_metadata_unavailable_records_total``), the failure is logged,
and the fetch is retried every ``retry_interval_s``; it is never fatal.

In dry-run IMDS is not asked and records pass unchanged.  The endpoint is
``http://169.254.169.254``, or ``AWS_EC2_METADATA_SERVICE_ENDPOINT``
when set (the variable the AWS SDKs read).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import aiohttp
import orjson

from shipper.errors import ConfigError
from shipper.events import Event
from shipper.options import Option, Settings
from shipper.plugin import Context, Filter
from shipper.registry import register

DEFAULT_ENDPOINT = "http://169.254.169.254"
TOKEN_TTL = 21600
#: how long the first chunks wait for the first fetch before passing without metadata.
FIRST_FETCH_WAIT = 2.0
REQUEST_TIMEOUT = 2.0
UNAVAILABLE_METRIC = "shipper_aws_metadata_unavailable_records_total"

#: record key -> (option, IMDS path), in Fluent Bit's order.
FIELDS = (
    ("az", "az", "/latest/meta-data/placement/availability-zone"),
    ("ec2_instance_id", "ec2_instance_id", "/latest/meta-data/instance-id"),
    ("ec2_instance_type", "ec2_instance_type", "/latest/meta-data/instance-type"),
    ("private_ip", "private_ip", "/latest/meta-data/local-ipv4"),
    ("vpc_id", "vpc_id", ""),
    ("ami_id", "ami_id", "/latest/meta-data/ami-id"),
    ("account_id", "account_id", ""),
    ("hostname", "hostname", "/latest/meta-data/hostname"),
)


class ImdsError(Exception):
    """IMDS could not answer (connection, timeout, unexpected status)."""


class ImdsClient:
    """GETs from IMDS, with a v2 session token kept fresh."""

    def __init__(self, endpoint: str, use_v2: bool) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.use_v2 = use_v2
        self._token: str | None = None
        self._token_expires = 0.0
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT))
        return self._session

    async def _request(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, str]:
        try:
            async with self._open().request(method, self.endpoint + path, headers=headers) as resp:
                return resp.status, await resp.text()
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ImdsError(f"{method} {self.endpoint}{path}: {type(exc).__name__}: {exc}") from None

    async def _session_token(self) -> str:
        if self._token is None or time.monotonic() >= self._token_expires:
            status, body = await self._request(
                "PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": str(TOKEN_TTL)}
            )
            if status != 200 or not body:
                raise ImdsError(f"IMDSv2 token request answered HTTP {status}")
            self._token, self._token_expires = body.strip(), time.monotonic() + TOKEN_TTL - 60
        return self._token

    async def get(self, path: str) -> str | None:
        """The text at ``path``; None for 404 (the instance has no such item)."""
        for attempt in (1, 2):
            headers = {"X-aws-ec2-metadata-token": await self._session_token()} if self.use_v2 else {}
            status, body = await self._request("GET", path, headers)
            if status == 401 and self.use_v2 and attempt == 1:
                self._token = None  # expired or revoked: get a new one and try again
                continue
            break
        if status == 404:
            return None
        if status != 200:
            raise ImdsError(f"GET {path} answered HTTP {status}")
        return body.strip()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


@register
class AwsFilter(Filter):
    name = "aws"
    summary = "add EC2 instance metadata (az, instance id, ... and tags) from IMDS"
    options = (
        Option("imds_version", default="v2", choices=("v1", "v2"), help="IMDSv2 (session token) or IMDSv1"),
        Option("az", "bool", default="true", help="availability zone"),
        Option("ec2_instance_id", "bool", default="true", help="instance id"),
        Option("ec2_instance_type", "bool", default="false", help="instance type"),
        Option("private_ip", "bool", default="false", help="private IPv4 address"),
        Option("vpc_id", "bool", default="false", help="VPC id of the primary interface"),
        Option("ami_id", "bool", default="false", help="image id"),
        Option("account_id", "bool", default="false", help="account id (instance identity document)"),
        Option("hostname", "bool", default="false", help="private DNS host name"),
        Option("tags_enabled", "bool", default="false", help="add the instance's tags (needs instance-metadata-tags)"),
        Option("tags_include", "list", help="only these tag keys"),
        Option("tags_exclude", "list", help="all tag keys but these"),
        Option("retry_interval_s", "int", default=300, help="seconds between attempts while IMDS fails"),
    )

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        if settings["tags_include"] and settings["tags_exclude"]:
            raise ConfigError("aws: tags_include and tags_exclude cannot both be set", settings.where("tags_exclude"))
        self.wanted = [(key, path) for key, option, path in FIELDS if settings[option]]
        self.retry_interval = max(0, settings["retry_interval_s"])
        endpoint = os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or DEFAULT_ENDPOINT
        self.client = ImdsClient(endpoint, settings["imds_version"] == "v2")
        self.metadata: dict[str, Any] | None = None
        self._fetch: asyncio.Task[None] | None = None
        self._last_attempt = float("-inf")
        self._waited = False

    async def start(self) -> None:
        if self.context.dry_run is not None:
            # a warning: dry-run shows warnings only, and a user must see why records lack az and instance id
            self.log.warning("aws: dry-run: IMDS is not asked; records get no EC2 metadata")
            return
        self._start_fetch()

    async def stop(self) -> None:
        if self._fetch is not None:
            self._fetch.cancel()
            await asyncio.gather(self._fetch, return_exceptions=True)
        await self.client.close()

    def _start_fetch(self) -> None:
        self._last_attempt = time.monotonic()
        self._fetch = asyncio.get_running_loop().create_task(self._fetch_all())

    async def _fetch_all(self) -> None:
        try:
            self.metadata = await self._read_metadata()
            self.log.info("aws: EC2 metadata retrieved (%s)", ", ".join(self.metadata) or "no keys")
        except ImdsError as exc:
            self.log.warning(
                "aws: cannot read EC2 instance metadata (%s); records pass without it, retrying in %ss",
                exc, self.retry_interval,
            )
        except Exception:  # an unforeseen answer must not kill the filter; report it and retry later
            self.log.exception("aws: unexpected error reading EC2 instance metadata; retrying in %ss", self.retry_interval)

    async def _read_metadata(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, path in self.wanted:
            if key == "vpc_id":
                mac = await self.client.get("/latest/meta-data/mac")
                value = await self.client.get(f"/latest/meta-data/network/interfaces/macs/{mac}/vpc-id") if mac else None
            elif key == "account_id":
                document = await self.client.get("/latest/dynamic/instance-identity/document")
                value = self._account_id(document)
            else:
                value = await self.client.get(path)
            if value is None:
                raise ImdsError(f"IMDS has no {key}")
            out[key] = value
        if self.settings["tags_enabled"]:
            out.update(await self._read_tags())
        return out

    @staticmethod
    def _account_id(document: str | None) -> str | None:
        try:
            value = orjson.loads(document or "").get("accountId")
        except (orjson.JSONDecodeError, AttributeError):
            raise ImdsError("instance identity document is not a JSON object") from None
        return value if isinstance(value, str) else None

    async def _read_tags(self) -> dict[str, str]:
        listing = await self.client.get("/latest/meta-data/tags/instance")
        if listing is None:
            self.log.warning("aws: tags_enabled is on but the instance does not expose tags in IMDS "
                             "(enable instance-metadata-tags); no tags are added")
            return {}
        include, exclude = self.settings["tags_include"] or [], self.settings["tags_exclude"] or []
        tags: dict[str, str] = {}
        for key in listing.split("\n"):
            key = key.strip()
            if not key or (include and key not in include) or key in exclude:
                continue
            value = await self.client.get(f"/latest/meta-data/tags/instance/{key}")
            if value is not None:
                tags[key] = value
        return tags

    async def process(self, tag: str, events: list[Event]) -> list[Event]:
        if self.context.dry_run is not None:
            return events
        if self.metadata is None:
            await self._await_metadata()
        metadata = self.metadata
        if metadata is None:
            self.count(UNAVAILABLE_METRIC, len(events))
            return events
        for _, record in events:
            record.update(metadata)
        return events

    async def _await_metadata(self) -> None:
        """Start a retry when due; only the first chunks wait (briefly) for an answer."""
        if self._fetch is None or self._fetch.done():
            if time.monotonic() - self._last_attempt < self.retry_interval:
                return
            self._start_fetch()
        if not self._waited:
            assert self._fetch is not None
            try:
                await asyncio.wait_for(asyncio.shield(self._fetch), FIRST_FETCH_WAIT)
            except TimeoutError:
                self._waited = True
