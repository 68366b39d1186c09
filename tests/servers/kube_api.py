"""A fake Kubernetes API server (and kubelet) for tests, on 127.0.0.1.

What it implements of the real protocol:

- ``GET /api/v1/namespaces/{ns}/pods/{pod}`` -> 200 with the Pod object, or
  404 with the real ``Status`` body (``"reason": "NotFound"``, ``"code": 404``);
- ``GET /api/v1/namespaces/{ns}`` -> the Namespace object: one that was added,
  else a minimal one (as a real cluster has) when any pod lives there, else 404;
- ``GET /pods`` (the kubelet's endpoint) -> a ``PodList`` of every pod;
- ``Authorization: Bearer <token>`` checked against the accepted tokens
  (401 with a ``Status`` body otherwise); no check when none are set;
- optional TLS with a CA and a server certificate for 127.0.0.1 generated on
  the spot (:func:`make_tls`).

Test controls: ``fail(status, times)`` answers the next requests with an
error Status, ``delay`` slows every answer, ``requests`` records every request
(method, path, Authorization header).  Nothing else of the API (watch, list
with selectors, resourceVersion, field managers, other resources) exists.

Golden cases 31–37 serve ``pods/<ns>-<pod>.json``: ``KubeApiServer(pods_dir=...)``
loads every ``*.json`` there, keyed by the object's own metadata namespace and
name.  Async tests use ``async with KubeApiServer(...) as api: api.url``;
synchronous ones (a shipper subprocess) use ``with KubeApiServer(...).in_thread() as api``.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from aiohttp import web


def status_body(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``Status`` object as the API server returns it with error codes."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def make_pod(
    namespace: str,
    name: str,
    containers: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    node: str = "node-a-1",
    pod_ip: str = "10.244.1.17",
    uid: str = "bdeda731-b873-c8c4-3033-0adf62006c47",
) -> dict[str, Any]:
    """A realistic Pod object; ``containers`` maps container name to image."""
    containers = containers or {"app": "registry.example.com/team/app:1.0"}
    metadata: dict[str, Any] = {
        "name": name,
        "generateName": name.rsplit("-", 1)[0] + "-",
        "namespace": namespace,
        "uid": uid,
        "resourceVersion": "48213",
        "creationTimestamp": "2024-03-05T09:00:00Z",
        "labels": labels if labels is not None else {"app": name.split("-")[0]},
    }
    if annotations is not None:
        metadata["annotations"] = annotations
    metadata["ownerReferences"] = [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": name.rsplit("-", 1)[0],
            "uid": "aedb3387-dcd9-5220-ba0d-72c650283aaf",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    statuses = []
    for i, (cname, image) in enumerate(containers.items()):
        digest = f"{i:02d}" * 32
        statuses.append(
            {
                "name": cname,
                "ready": True,
                "restartCount": 0,
                "image": image,
                "imageID": f"{image.rsplit(':', 1)[0]}@sha256:{digest}",
                "containerID": f"containerd://{f'{i + 10:02d}' * 32}",
                "started": True,
                "state": {"running": {"startedAt": "2024-03-05T09:00:05Z"}},
            }
        )
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": metadata,
        "spec": {
            "nodeName": node,
            "serviceAccountName": "default",
            "containers": [{"name": c, "image": img} for c, img in containers.items()],
        },
        "status": {
            "phase": "Running",
            "hostIP": "192.168.10.21",
            "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}],
            "containerStatuses": statuses,
        },
    }


@dataclass
class TlsFiles:
    """A CA and a server certificate for 127.0.0.1, as PEM files."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


def make_tls(directory: Path, hosts: tuple[str, ...] = ("localhost", "127.0.0.1")) -> TlsFiles:
    """Generate a throw-away CA and a certificate it signed for ``hosts`` (names or IP addresses)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shipper-test-ca")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([_alt_name(host) for host in hosts]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / "ca.crt", directory / "server.crt", directory / "server.key")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


def _alt_name(host: str) -> Any:
    from cryptography import x509

    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


@dataclass
class Request:
    method: str
    path: str
    authorization: str | None


class LocalServer:
    """An aiohttp peer on 127.0.0.1 and a free port; subclasses add ``routes``.

    ``async with Server() as s`` in async tests, ``with Server().in_thread() as s``
    when the code under test runs elsewhere (a shipper subprocess).
    """

    tls: TlsFiles | None = None
    port = 0
    _runner: web.AppRunner | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    async def start(self) -> Self:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.tls.server_context() if self.tls else None)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @contextmanager
    def in_thread(self) -> Iterator[Self]:
        """Serve from a background thread with its own event loop (for synchronous tests)."""
        loop = asyncio.new_event_loop()
        started = threading.Event()
        thread = threading.Thread(target=self._serve_forever, args=(loop, started), daemon=True)
        thread.start()
        if not started.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start")
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()

    def _serve_forever(self, loop: asyncio.AbstractEventLoop, started: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(self.start())
        started.set()
        loop.run_forever()


class KubeApiServer(LocalServer):
    """See the module docstring.  ``tokens`` are the accepted bearer tokens (empty: no check)."""

    def __init__(
        self,
        pods_dir: Path | str | None = None,
        tokens: set[str] | None = None,
        tls: TlsFiles | None = None,
    ) -> None:
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.tokens: set[str] = set(tokens or ())
        self.tls = tls
        self.delay = 0.0
        self.requests: list[Request] = []
        self._failures: list[int] = []
        if pods_dir is not None:
            for path in sorted(Path(pods_dir).glob("*.json")):
                self.add_pod(json.loads(path.read_text()))

    # -- content -------------------------------------------------------------------------------

    def add_pod(self, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        self.pods[(meta["namespace"], meta["name"])] = pod

    def add_namespace(self, name: str, labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None) -> None:
        metadata: dict[str, Any] = {"name": name, "uid": "6d1e2042-8013-449c-aa93-e7238391c45f"}
        metadata["labels"] = {"kubernetes.io/metadata.name": name, **(labels or {})}
        if annotations:
            metadata["annotations"] = annotations
        self.namespaces[name] = {
            "kind": "Namespace", "apiVersion": "v1", "metadata": metadata,
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"},
        }

    def fail(self, status: int = 500, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``status`` (a 5xx, 429, 403...)."""
        self._failures.extend([status] * times)

    def count(self, path_part: str = "") -> int:
        """How many requests had ``path_part`` in their path."""
        return sum(1 for r in self.requests if path_part in r.path)

    # -- serving -------------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/api/v1/namespaces/{ns}/pods/{pod}", self._get_pod)
        app.router.add_get("/api/v1/namespaces/{ns}", self._get_namespace)
        app.router.add_get("/pods", self._list_pods)

    # -- handlers ------------------------------------------------------------------------------

    async def _gate(self, request: web.Request) -> web.Response | None:
        """Record the request, then apply delay, injected failures and the token check."""
        auth = request.headers.get("Authorization")
        self.requests.append(Request(request.method, request.path, auth))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self._failures:
            code = self._failures.pop(0)
            reasons = {429: "TooManyRequests", 403: "Forbidden", 503: "ServiceUnavailable"}
            return web.json_response(status_body(code, reasons.get(code, "InternalError"), "injected failure"), status=code)
        if self.tokens and (auth is None or not auth.startswith("Bearer ") or auth[7:] not in self.tokens):
            return web.json_response(status_body(401, "Unauthorized", "Unauthorized"), status=401)
        return None

    async def _get_pod(self, request: web.Request) -> web.Response:
        if (early := await self._gate(request)) is not None:
            return early
        ns, name = request.match_info["ns"], request.match_info["pod"]
        pod = self.pods.get((ns, name))
        if pod is None:
            body = status_body(404, "NotFound", f'pods "{name}" not found', {"name": name, "kind": "pods"})
            return web.json_response(body, status=404)
        return web.json_response(pod)

    async def _get_namespace(self, request: web.Request) -> web.Response:
        if (early := await self._gate(request)) is not None:
            return early
        ns = request.match_info["ns"]
        if ns not in self.namespaces and any(key[0] == ns for key in self.pods):
            self.add_namespace(ns)
        obj = self.namespaces.get(ns)
        if obj is None:
            body = status_body(404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"})
            return web.json_response(body, status=404)
        return web.json_response(obj)

    async def _list_pods(self, request: web.Request) -> web.Response:
        if (early := await self._gate(request)) is not None:
            return early
        return web.json_response({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": list(self.pods.values())})
