"""Where pod and namespace objects come from: API server, kubelet, or files.

Every source answers ``pod(namespace, name)`` and ``namespace(name)`` with
the decoded JSON object, or raises :class:`NotFound` (a 404, or no file) or
:class:`Unavailable` (anything that may work later).  Sources do no caching;
:mod:`shipper.filters.kubernetes.cache` sits in front of them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import orjson

from shipper.filters.kubernetes.cache import NotFound, Unavailable
from shipper.filters.kubernetes.podmeta import find_in_pod_list
from shipper.filters.kubernetes.token import BearerToken

#: a pod missing from the kubelet's ``/pods`` list re-reads it at most this often (seconds).
KUBELET_RELIST_INTERVAL = 1.0


class MetaSource(Protocol):
    async def pod(self, namespace: str, name: str) -> dict[str, Any]: ...

    async def namespace(self, name: str) -> dict[str, Any]: ...

    async def close(self) -> None: ...


def json_object(data: bytes, where: str) -> dict[str, Any]:
    """Decode an API object; anything but a JSON object is Unavailable (it may be fixed later)."""
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise Unavailable(f"{where}: not JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise Unavailable(f"{where}: not a JSON object")
    return obj


def client_ssl_context(
    verify: bool, ca_file: str | None, ca_path: str | None, verify_hostname: bool, log: logging.Logger
) -> ssl.SSLContext:
    """TLS to the API server: the cluster CA and nothing else, the host name checked unless turned off.

    Fluent Bit checks host names only when ``tls.verify_hostname`` is on (its
    default is off) and trusts the system CA store when the CA file is missing.
    A public CA has no say over who is ``kubernetes.default.svc``, so a missing
    CA file here means no trust at all: requests fail, and the error says why.
    """
    if not verify:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    cafile = ca_file if ca_file and os.path.exists(ca_file) else None
    capath = ca_path if ca_path and os.path.isdir(ca_path) else None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = verify_hostname
    if cafile or capath:
        ctx.load_verify_locations(cafile=cafile, capath=capath)
    else:
        log.error("kubernetes: CA file %s does not exist (and no Kube_CA_Path): the API server cannot be verified, "
                  "so no metadata is added; the system CA store is not used for the cluster. Set Kube_CA_File to "
                  "the cluster's CA, or tls.verify Off to skip verification", ca_file)
    return ctx


class HttpJson:
    """GETs JSON objects from one base URL with a bearer token, a timeout and a size cap.

    ``ssl_context`` is a factory called on the first request, so building the
    filter (``shipper check``) reads no CA files.
    """

    def __init__(
        self,
        base_url: str,
        token: BearerToken,
        ssl_context: Callable[[], ssl.SSLContext] | None,
        timeout: float,
        max_bytes: int,
        server_hostname: str | None,
        log: logging.Logger,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.ssl_context = ssl_context
        self.timeout = aiohttp.ClientTimeout(total=timeout if timeout > 0 else None)
        self.max_bytes = max_bytes
        self.server_hostname = server_hostname
        self.log = log
        self.requests = 0
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=8, ssl=self.ssl_context() if self.ssl_context else False)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self.timeout, headers={"User-Agent": "shipper", "Accept": "application/json"}
            )
        return self._session

    async def get(self, path: str) -> dict[str, Any]:
        """The JSON object at ``path``; a 401 re-reads the token and tries once more."""
        status, body = await self._request(path)
        if status == 401:
            self.token.invalidate()
            status, body = await self._request(path)
        if status == 200:
            return json_object(body, f"GET {path}")
        if status == 404:
            raise NotFound(f"GET {path}: 404 Not Found")
        hint = {401: " (check the service-account token)", 403: " (check the RBAC rules: get on pods/namespaces)"}
        raise Unavailable(f"GET {path}: HTTP {status}{hint.get(status, '')}")

    async def _request(self, path: str) -> tuple[int, bytes]:
        headers = {}
        auth = await self.token.authorization()
        if auth:
            headers["Authorization"] = auth
        self.requests += 1
        url = self.base_url + path
        try:
            async with self._open().get(url, headers=headers, server_hostname=self.server_hostname) as resp:
                if resp.status != 200:
                    return resp.status, b""
                return 200, await self._read_capped(resp, path)
        except Unavailable:
            raise
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise Unavailable(f"GET {url}: {type(exc).__name__}: {exc}") from None

    async def _read_capped(self, resp: aiohttp.ClientResponse, path: str) -> bytes:
        if not self.max_bytes:
            return await resp.read()
        parts: list[bytes] = []
        size = 0
        async for block in resp.content.iter_chunked(65536):
            size += len(block)
            if size > self.max_bytes:
                raise Unavailable(
                    f"GET {path}: answer is larger than Buffer_Size ({self.max_bytes} bytes); "
                    "raise Buffer_Size or set it to 0 (unlimited)"
                )
            parts.append(block)
        return b"".join(parts)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class ApiServerSource:
    """``GET /api/v1/namespaces/{ns}/pods/{pod}`` and ``GET /api/v1/namespaces/{ns}``."""

    def __init__(self, http: HttpJson) -> None:
        self.http = http

    async def pod(self, namespace: str, name: str) -> dict[str, Any]:
        return await self.http.get(f"/api/v1/namespaces/{namespace}/pods/{name}")

    async def namespace(self, name: str) -> dict[str, Any]:
        return await self.http.get(f"/api/v1/namespaces/{name}")

    async def close(self) -> None:
        await self.http.close()


class KubeletSource:
    """Pods from the node's kubelet ``GET /pods`` (one list serves every pod); namespaces from the API.

    The list is kept until a pod is missing from it; then it is read again
    (one request shared by every waiting lookup, at most once a second).  A
    pod missing from a list read after the question was asked does not exist.
    """

    def __init__(self, kubelet: HttpJson, api: ApiServerSource) -> None:
        self.kubelet = kubelet
        self.api = api
        self._list: dict[str, Any] | None = None
        self._listed_at = float("-inf")
        self._listing: asyncio.Task[dict[str, Any]] | None = None

    async def _pod_list(self, refresh: bool) -> dict[str, Any]:
        if self._list is not None and not refresh:
            return self._list
        if self._listing is None:
            self._listing = asyncio.get_running_loop().create_task(self.kubelet.get("/pods"))
            self._listing.add_done_callback(self._listed)
        return await asyncio.shield(self._listing)

    def _listed(self, task: asyncio.Task[dict[str, Any]]) -> None:
        self._listing = None
        if not task.cancelled() and task.exception() is None:
            self._list, self._listed_at = task.result(), time.monotonic()

    async def pod(self, namespace: str, name: str) -> dict[str, Any]:
        asked_at = time.monotonic()
        item = find_in_pod_list(await self._pod_list(refresh=self._list is None), namespace, name)
        if item is None and self._listed_at < asked_at:  # the list predates the question
            if asked_at - self._listed_at < KUBELET_RELIST_INTERVAL:
                raise Unavailable(f"pod {namespace}/{name} is not in the kubelet's /pods list yet")
            item = find_in_pod_list(await self._pod_list(refresh=True), namespace, name)
        if item is None:
            raise NotFound(f"pod {namespace}/{name} is not in the kubelet's /pods list")
        return item

    async def namespace(self, name: str) -> dict[str, Any]:
        return await self.api.namespace(name)

    async def close(self) -> None:
        if self._listing is not None:
            self._listing.cancel()
            await asyncio.gather(self._listing, return_exceptions=True)
        await self.kubelet.close()
        await self.api.close()


class DirectorySource:
    """Objects from files (``Kube_Meta_Preload_Cache_Dir``, dry-run ``--kube-meta-dir``).

    A pod is read from ``<ns>_<pod>.meta`` (Fluent Bit's name), ``<ns>-<pod>.meta``
    or ``<ns>-<pod>.json`` (the golden corpus' ``pods/`` directories); a
    namespace from ``<ns>.namespace_meta``.  A file may also hold a kubelet
    ``PodList``.  What no file has goes to ``fallback``, or is not found.
    """

    def __init__(self, directory: Path, fallback: MetaSource | None, log: logging.Logger) -> None:
        self.directory = directory
        self.fallback = fallback
        self.log = log

    def _load(self, names: tuple[str, ...]) -> dict[str, Any] | None:
        for name in names:
            path = self.directory / name
            try:
                data = path.read_bytes()
            except OSError:
                continue
            return json_object(data, str(path))
        return None

    async def pod(self, namespace: str, name: str) -> dict[str, Any]:
        obj = self._load((f"{namespace}_{name}.meta", f"{namespace}-{name}.meta", f"{namespace}-{name}.json"))
        if obj is not None and "items" in obj:
            obj = find_in_pod_list(obj, namespace, name)
        if obj is not None:
            return obj
        if self.fallback is not None:
            return await self.fallback.pod(namespace, name)
        raise NotFound(f"no file for pod {namespace}/{name} in {self.directory}")

    async def namespace(self, name: str) -> dict[str, Any]:
        obj = self._load((f"{name}.namespace_meta",))
        if obj is not None:
            return obj
        if self.fallback is not None:
            return await self.fallback.namespace(name)
        raise NotFound(f"no file for namespace {name} in {self.directory}")

    async def close(self) -> None:
        if self.fallback is not None:
            await self.fallback.close()
