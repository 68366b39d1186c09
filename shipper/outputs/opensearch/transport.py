"""HTTP for the opensearch output: one keep-alive pool, TLS, gzip, basic auth and SigV4.

The output depends only on :class:`OpenSearchTransport` (post a bulk body,
get the status and body back), so its splitting and per-item judgement are
unit-tested against :class:`FakeBulk` without a network, and against the
fake server of ``tests/servers/opensearch.py`` through :class:`BulkTransport`.

Every bulk request is a ``POST`` of NDJSON bytes.  With ``AWS_Auth`` the
request is signed with botocore's SigV4 signer over the exact bytes sent
(after gzip), and carries ``x-amz-content-sha256``, which OpenSearch
Serverless (``aoss``) requires.  Credentials come from :mod:`shipper.aws`
(default chain, ``AWS_Role_ARN`` assumed with refreshing credentials).

Large bodies are compressed in a worker thread (zlib releases the GIL), so a
5 MiB body does not stall the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ssl
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from yarl import URL

from shipper import __version__
from shipper.aws import AwsSettings, create_session, frozen_credentials

#: gzip level: 1 keeps CPU low (JSON logs still shrink 5-10x); Fluent Bit uses zlib's default (6).
GZIP_LEVEL = 1
#: bodies at least this large are compressed off the event loop.
_THREAD_COMPRESS_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """Fluent Bit's ``tls.*`` options for one output."""

    enabled: bool = False
    verify: bool = True
    ca_file: str | None = None
    ca_path: str | None = None
    crt_file: str | None = None
    key_file: str | None = None
    key_passwd: str | None = None
    vhost: str | None = None

    def context(self) -> ssl.SSLContext | None:
        """The client SSL context (reads certificate files: call it at start, not at check)."""
        if not self.enabled:
            return None
        context = ssl.create_default_context(cafile=self.ca_file, capath=self.ca_path)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.crt_file:
            context.load_cert_chain(self.crt_file, self.key_file, password=self.key_passwd)
        return context


class SigV4Signer:
    """Signs bulk requests for Amazon OpenSearch Service (``es``) or Serverless (``aoss``)."""

    def __init__(self, aws: AwsSettings, service: str) -> None:
        self.region = aws.region
        self.service = service
        self._session = create_session(aws)

    async def headers(self, url: str, body: bytes, signed: dict[str, str]) -> dict[str, str]:
        """The SigV4 headers (``Authorization``, ``X-Amz-Date``, token, payload hash) for this request.

        ``signed`` are request headers to include in the signature besides ``host``.
        """
        credentials = await frozen_credentials(self._session)
        headers = dict(signed)
        headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
        request = AWSRequest(method="POST", url=url, data=body, headers=headers)
        SigV4Auth(credentials, self.service, self.region).add_auth(request)
        return {k: v for k, v in request.headers.items() if k not in signed}


def gzip_bytes(body: bytes) -> bytes:
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    return compressor.compress(body) + compressor.flush()


class OpenSearchTransport(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def post(self, body: bytes) -> tuple[int, bytes]:
        """Send one bulk body; return the HTTP status and the whole response body.

        Raises aiohttp/OS/timeout errors, and whatever the credential chain
        raises when signing; the caller decides what is retryable.
        """
        ...


class FakeBulk:
    """An in-memory ``_bulk`` peer for unit tests: stores documents, answers per item.

    ``item_status(call, position) -> status`` decides each item's status
    (201 stores it); ``answers`` are whole answers ``(status, body)`` given
    to the next calls instead, ``errors`` raised by them.
    """

    def __init__(self, item_status: Callable[[int, int], int] | None = None) -> None:
        self.item_status = item_status or (lambda call, position: 201)
        self.bodies: list[bytes] = []
        self.stored: list[dict[str, Any]] = []
        self.answers: list[tuple[int, bytes]] = []
        self.errors: list[BaseException] = []

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def post(self, body: bytes) -> tuple[int, bytes]:
        call = len(self.bodies)
        self.bodies.append(body)
        if self.errors:
            raise self.errors.pop(0)
        if self.answers:
            return self.answers.pop(0)
        lines = body.splitlines()
        items = []
        for position, (action, source) in enumerate(zip(lines[::2], lines[1::2], strict=True)):
            operation = next(iter(orjson.loads(action)))
            status = self.item_status(call, position)
            if status < 300:
                self.stored.append(orjson.loads(source))
            error = {} if status < 300 else {"error": {"type": "fake_exception", "reason": "refused by the fake"}}
            items.append({operation: {"_index": "fake", "status": status, **error}})
        return 200, orjson.dumps({"took": 1, "errors": any(s.get("error") for i in items for s in i.values()), "items": items})


class BulkTransport:
    """POSTs bulk bodies to one URL over a pooled aiohttp session."""

    def __init__(
        self,
        *,
        url: str,
        tls: TlsSettings,
        gzip: bool,
        basic_auth: tuple[str, str] | None,
        signer: SigV4Signer | None,
        connect_timeout: float,
        read_timeout: float,
        keepalive: bool,
        keepalive_idle_timeout: float,
        max_connections: int,
    ) -> None:
        self.url = url
        self._url = URL(url, encoded=True)
        self._tls = tls
        self._gzip = gzip
        self._signer = signer
        self._timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout, sock_read=read_timeout)
        self._keepalive = keepalive
        self._idle = keepalive_idle_timeout
        self._max_connections = max_connections
        self._headers = {"Content-Type": "application/x-ndjson", "User-Agent": f"shipper/{__version__}"}
        if gzip:
            self._headers["Content-Encoding"] = "gzip"
        if basic_auth is not None:
            token = base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        context = self._tls.context()
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            ssl=context if context is not None else False,
            force_close=not self._keepalive,
            keepalive_timeout=self._idle if self._keepalive else None,
        )
        self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def post(self, body: bytes) -> tuple[int, bytes]:
        """See :meth:`OpenSearchTransport.post`."""
        if self._session is None:
            raise RuntimeError("opensearch transport used before start()")
        if self._gzip:
            body = await asyncio.to_thread(gzip_bytes, body) if len(body) >= _THREAD_COMPRESS_BYTES else gzip_bytes(body)
        headers = self._headers
        if self._signer is not None:
            signed = {k: v for k, v in headers.items() if k in ("Content-Type", "Content-Encoding")}
            headers = {**headers, **await self._signer.headers(self.url, body, signed)}
        extra: dict[str, Any] = {"server_hostname": self._tls.vhost} if self._tls.vhost else {}
        async with self._session.post(self._url, data=body, headers=headers, **extra) as response:
            return response.status, await response.read()
