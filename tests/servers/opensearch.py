"""A fake OpenSearch ``_bulk`` endpoint on 127.0.0.1 for tests and the golden compat suite.

What it implements of the real protocol:

- ``POST /_bulk``, ``POST /{index}/_bulk`` and any longer path ending in
  ``/_bulk`` or ``/_bulk/`` (a reverse-proxy ``Path``); the segment before
  ``_bulk`` is the default ``_index`` of actions that name none.  Query
  parameters (``pipeline``) are recorded, not acted on.  Other paths answer
  404, other methods 405.
- NDJSON parsing: action/metadata lines ``{"index"|"create"|"update"|"delete": {...}}``
  with ``_index``, ``_id`` (and ``_type``), followed by a source line (none for
  ``delete``); ``update`` sources are ``{"doc": ...}`` with optional
  ``"doc_as_upsert": true``.  A body not ending in a newline, a line that is
  not JSON, or an unknown action is a whole-request 400, as in OpenSearch.
  ``_type`` is accepted (OpenSearch 1.x / Elasticsearch 7) unless the server
  is built with ``reject_type=True`` (OpenSearch 2.x: whole-request 400).
- Per-item results in request order with ``_index``, ``_id``, ``_version``,
  ``result`` and ``status``: 201 created, 200 updated, 409
  ``version_conflict_engine_exception`` for ``create`` of an existing id, 404
  ``document_missing_exception`` for ``update`` of a missing document, 400
  ``invalid_index_name_exception`` for bad index names, and 400
  ``mapper_parsing_exception`` when a field's JSON kind (object, number,
  boolean, string) differs from what the index first saw for it (a crude
  dynamic mapping).  ``errors`` is true when any item failed.
- ``Content-Encoding: gzip`` request bodies; 413 when the received body is
  over ``max_content_length``.
- Optional basic auth (401 otherwise) and optional SigV4 verification: the
  signature is recomputed with botocore from the received method, path,
  query, signed headers and body bytes, and compared; ``service="aoss"``
  also requires ``x-amz-content-sha256`` to equal the body's SHA-256.
  Failures answer 403 like AWS.
- TLS when started with an ``ssl.SSLContext``; ``delay`` seconds before
  answering, to play a slow cluster.
- Fault injection: ``fail_requests(status, times)`` answers whole requests
  with that status; ``reply_raw(body, content_type, status, times)`` with any
  bytes (a proxy's HTML page with status 200); ``fail_items(status, times, error_type, match)`` fails
  individual items (e.g. 429 ``es_rejected_execution_exception``) before
  they are stored.

It stores documents per index (``documents[index][id]``), assigns random ids
to documents sent without one, and records every request (``requests``:
method, path, query, headers, raw and decoded body).  It does not implement
search, real mappings, refresh, routing, versioning beyond a counter, or
``filter_path``.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import re
import secrets
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

_BAD_INDEX_CHARS = re.compile(r'[\\/*?"<>| ,#:A-Z]')
_SIGV4_RE = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<headers>[^,]+),\s*Signature=(?P<signature>[0-9a-f]+)"
)


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw_body: bytes
    body: bytes


@dataclass
class ItemFault:
    """Fail up to ``times`` items matching ``match`` (action, source) with ``status``."""

    status: int
    times: int
    error_type: str
    match: Callable[[str, dict[str, Any] | None], bool] | None = None


@dataclass
class SigV4Expectation:
    access_key: str
    secret_key: str
    region: str
    service: str
    token: str | None = None


@dataclass
class FakeOpenSearch:
    """The server; use ``async with FakeOpenSearch() as server:`` or ``start()``/``stop()``."""

    basic_auth: tuple[str, str] | None = None
    sigv4: SigV4Expectation | None = None
    max_content_length: int = 100 * 1024 * 1024
    reject_type: bool = False
    #: seconds to wait before answering (a slow or hung cluster).
    delay: float = 0.0
    ssl_context: ssl.SSLContext | None = None
    documents: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._request_faults: list[int] = []
        self._canned: list[tuple[int, bytes, str]] = []
        self._item_faults: list[ItemFault] = []
        self._field_kinds: dict[str, dict[str, str]] = {}
        self._versions: dict[tuple[str, str], int] = {}
        self._runner: web.AppRunner | None = None

    # -- lifecycle -------------------------------------------------------------
    async def start(self) -> FakeOpenSearch:
        app = web.Application(client_max_size=self.max_content_length * 4)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, auto_decompress=False)  # keep the raw (signed) bytes
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, ssl_context=self.ssl_context)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenSearch:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- test controls ---------------------------------------------------------
    def fail_requests(self, status: int, times: int = 1) -> None:
        """Answer the next ``times`` bulk requests with ``status`` (nothing is stored)."""
        self._request_faults.extend([status] * times)

    def reply_raw(self, body: bytes, content_type: str, status: int = 200, times: int = 1) -> None:
        """Answer the next ``times`` bulk requests with these bytes (nothing is stored), as a proxy would."""
        self._canned.extend([(status, body, content_type)] * times)

    def fail_items(
        self,
        status: int,
        times: int = 1,
        error_type: str = "es_rejected_execution_exception",
        match: Callable[[str, dict[str, Any] | None], bool] | None = None,
    ) -> None:
        """Fail the next ``times`` items (that ``match(action, source)``) with ``status``."""
        self._item_faults.append(ItemFault(status, times, error_type, match))

    def all_documents(self) -> list[dict[str, Any]]:
        return [doc for index in self.documents.values() for doc in index.values()]

    @property
    def bulk_bodies(self) -> list[bytes]:
        """Decoded bodies of every bulk request received, in order."""
        return [r.body for r in self.requests]

    # -- HTTP ------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path
        if not (path.endswith("/_bulk") or path.endswith("/_bulk/")):
            return _error(404, "no_handler_found_exception", f"no handler found for uri [{path}]")
        if request.method not in ("POST", "PUT"):
            return _error(405, "method_not_allowed", f"method [{request.method}] not allowed")
        length = request.content_length
        if length is not None and length > self.max_content_length:
            return web.Response(status=413, text="Request Entity Too Large")
        raw = await request.read()
        if len(raw) > self.max_content_length:
            return web.Response(status=413, text="Request Entity Too Large")
        denied = self._authenticate(request, raw)
        if denied is not None:
            return denied
        body = raw
        if request.headers.get("Content-Encoding", "").lower() == "gzip":
            try:
                body = gzip.decompress(raw)
            except (OSError, EOFError) as exc:
                return _error(400, "parse_exception", f"bad gzip body: {exc}")
        self.requests.append(
            RecordedRequest(request.method, path, dict(request.query), dict(request.headers), raw, body)
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        if self._request_faults:
            status = self._request_faults.pop(0)
            return _error(status, "injected_failure", f"injected HTTP {status}")
        if self._canned:
            status, canned, content_type = self._canned.pop(0)
            return web.Response(status=status, body=canned, content_type=content_type)
        default_index = _path_index(path)
        return self._bulk(body, default_index)

    def _authenticate(self, request: web.Request, raw: bytes) -> web.Response | None:
        if self.basic_auth is not None:
            expected = "Basic " + base64.b64encode(":".join(self.basic_auth).encode()).decode()
            if request.headers.get("Authorization") != expected:
                return _error(401, "security_exception", "missing authentication credentials")
        if self.sigv4 is not None:
            problem = self._check_sigv4(request, raw)
            if problem:
                return web.json_response({"message": problem}, status=403)
        return None

    def _check_sigv4(self, request: web.Request, raw: bytes) -> str:
        expect = self.sigv4
        assert expect is not None
        match = _SIGV4_RE.fullmatch(request.headers.get("Authorization", ""))
        if match is None:
            return "Authorization header is not SigV4"
        if (match["key"], match["region"], match["service"]) != (expect.access_key, expect.region, expect.service):
            return f"wrong credential scope {match['key']}/{match['region']}/{match['service']}"
        payload_hash = request.headers.get("X-Amz-Content-SHA256")
        if expect.service == "aoss" and payload_hash is None:
            return "x-amz-content-sha256 is required by OpenSearch Serverless"
        if payload_hash is not None and payload_hash != hashlib.sha256(raw).hexdigest():
            return "x-amz-content-sha256 does not match the body"
        if expect.token is not None and request.headers.get("X-Amz-Security-Token") != expect.token:
            return "missing or wrong X-Amz-Security-Token"
        signed_names = match["headers"].split(";")
        if "host" not in signed_names or "x-amz-date" not in signed_names:
            return "host and x-amz-date must be signed"
        headers = {name: request.headers.get(name, "") for name in signed_names}
        url = f"{request.scheme}://{request.host}{request.rel_url}"
        aws_request = AWSRequest(method=request.method, url=url, data=raw, headers=headers)
        aws_request.context["timestamp"] = request.headers.get("X-Amz-Date", "")
        credentials = Credentials(expect.access_key, expect.secret_key, expect.token)
        signer = SigV4Auth(credentials, expect.service, expect.region)
        canonical = signer.canonical_request(aws_request)
        signature = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
        if signature != match["signature"]:
            return "The request signature we calculated does not match the signature you provided"
        return ""

    # -- bulk semantics --------------------------------------------------------
    def _bulk(self, body: bytes, default_index: str | None) -> web.Response:
        if body and not body.endswith(b"\n"):
            return _error(400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
        lines = body.split(b"\n")[:-1] if body else []
        items: list[dict[str, Any]] = []
        position = 0
        while position < len(lines):
            try:
                action_line = orjson.loads(lines[position])
            except orjson.JSONDecodeError as exc:
                return _error(400, "json_parse_exception", f"line [{position + 1}]: {exc}")
            if not isinstance(action_line, dict) or len(action_line) != 1:
                return _error(400, "illegal_argument_exception", f"Malformed action/metadata line [{position + 1}]")
            action, meta = next(iter(action_line.items()))
            if action not in ("index", "create", "update", "delete") or not isinstance(meta, dict):
                return _error(400, "illegal_argument_exception", f"Malformed action/metadata line [{position + 1}]")
            if "_type" in meta and self.reject_type:
                return _error(
                    400, "illegal_argument_exception",
                    f"Action/metadata line [{position + 1}] contains an unknown parameter [_type]",
                )
            source = None
            if action != "delete":
                position += 1
                if position >= len(lines):
                    return _error(400, "illegal_argument_exception", "bulk request is missing a source line")
                try:
                    source = orjson.loads(lines[position])
                except orjson.JSONDecodeError as exc:
                    return _error(400, "json_parse_exception", f"line [{position + 1}]: {exc}")
            position += 1
            items.append({action: self._apply(action, meta, source, default_index)})
        errors = any(next(iter(i.values()))["status"] >= 300 for i in items)
        return web.json_response({"took": 1, "errors": errors, "items": items}, dumps=lambda o: orjson.dumps(o).decode())

    def _apply(self, action: str, meta: dict[str, Any], source: Any, default_index: str | None) -> dict[str, Any]:
        index = meta.get("_index") or default_index or ""
        doc_id = str(meta["_id"]) if "_id" in meta else None
        result: dict[str, Any] = {"_index": index, "_id": doc_id or ""}
        fault = self._take_fault(action, source)
        if fault is not None:
            return {**result, "status": fault.status, "error": {"type": fault.error_type, "reason": "injected"}}
        if not index or _BAD_INDEX_CHARS.search(index) or index[0] in "_-+":
            return {**result, "status": 400, "error": {
                "type": "invalid_index_name_exception", "reason": f"Invalid index name [{index}]", "index": index}}
        stored = self.documents.setdefault(index, {})
        if action == "delete":
            if doc_id is None or doc_id not in stored:
                return {**result, "status": 404, "result": "not_found"}
            del stored[doc_id]
            return {**result, "status": 200, "result": "deleted"}
        if not isinstance(source, dict):
            return {**result, "status": 400, "error": {"type": "mapper_parsing_exception", "reason": "not an object"}}
        if action == "update":
            if doc_id is None:
                return {**result, "status": 400, "error": {"type": "action_request_validation_exception",
                                                           "reason": "Validation Failed: 1: id is missing;"}}
            doc = source.get("doc")
            if not isinstance(doc, dict):
                return {**result, "status": 400, "error": {"type": "illegal_argument_exception",
                                                           "reason": "update requires doc"}}
            if doc_id not in stored and not source.get("doc_as_upsert"):
                return {**result, "status": 404, "error": {"type": "document_missing_exception",
                                                           "reason": f"[{doc_id}]: document missing"}}
            document = {**stored.get(doc_id, {}), **doc}
        else:
            if action == "create" and doc_id is not None and doc_id in stored:
                return {**result, "status": 409, "error": {
                    "type": "version_conflict_engine_exception",
                    "reason": f"[{doc_id}]: version conflict, document already exists"}}
            document = source
        problem = self._mapping_problem(index, document)
        if problem:
            return {**result, "status": 400, "error": {"type": "mapper_parsing_exception", "reason": problem}}
        doc_id = doc_id or base64.urlsafe_b64encode(secrets.token_bytes(15)).decode()
        created = doc_id not in stored
        stored[doc_id] = document
        version = self._versions[(index, doc_id)] = self._versions.get((index, doc_id), 0) + 1
        return {**result, "_id": doc_id, "_version": version, "result": "created" if created else "updated",
                "status": 201 if created else 200}

    def _take_fault(self, action: str, source: Any) -> ItemFault | None:
        for fault in self._item_faults:
            if fault.times > 0 and (fault.match is None or fault.match(action, source)):
                fault.times -= 1
                return fault
        return None

    def _mapping_problem(self, index: str, document: dict[str, Any], prefix: str = "") -> str:
        """Crude dynamic mapping: a field keeps the JSON kind it was first seen with."""
        kinds = self._field_kinds.setdefault(index, {})
        for key, value in document.items():
            name = prefix + key
            kind = _kind(value)
            if kind == "null":
                continue
            seen = kinds.setdefault(name, kind)
            if seen != kind:
                return f"failed to parse field [{name}] of type [{seen}]: got a value of kind [{kind}]"
            if kind == "object":
                for inner in value if isinstance(value, list) else [value]:
                    problem = self._mapping_problem(index, inner, name + ".") if isinstance(inner, dict) else ""
                    if problem:
                        return problem
        return ""


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return _kind(value[0]) if value else "null"
    return "string"


def _path_index(path: str) -> str | None:
    parts = [p for p in path.split("/") if p]
    return parts[-2] if len(parts) >= 2 and parts[-1] == "_bulk" and not parts[-2].startswith("_") else None


def _error(status: int, error_type: str, reason: str) -> web.Response:
    body = {"error": {"root_cause": [{"type": error_type, "reason": reason}], "type": error_type, "reason": reason},
            "status": status}
    return web.json_response(body, status=status)
