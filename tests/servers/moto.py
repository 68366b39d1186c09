"""A moto server on 127.0.0.1 and a recording, fault-injecting proxy in front of it.

:class:`MotoServer` runs ``python -m moto.server`` as a subprocess on a free port
(moto's real AWS API behaviour: CloudWatch Logs groups/streams/events with the
chronological-order and 14-day/2-hour checks, Firehose delivering to S3, STS).
``reset()`` (``POST /moto-api/reset``) empties every backend between tests.

moto does not enforce CloudWatch's 10,000-event / 1,048,576-byte / 24-hour
limits and its Firehose never reports failed records, so :class:`RecordingProxy`
sits between the shipper and moto: it records every API call (``X-Amz-Target``
and the JSON body, plus ``decoded_data`` for Firehose and Kinesis records, like the golden
``expected_requests.jsonl``) and can inject faults:

- ``fail(target, status, code, times)`` answers the next ``times`` calls of
  ``target`` with an AWS JSON error (throttling, 500, access denied...);
- ``reply(target, body, status, times)`` answers with a canned body instead
  (e.g. a PutLogEvents ``rejectedLogEventsInfo``), and ``reply_raw`` with
  any bytes (a proxy's HTML page with status 200);
- ``fail_firehose_records(indexes, times)`` forwards a PutRecordBatch without the
  records at ``indexes`` and reports exactly those as failed (``FailedPutCount``),
  as the real service does on partial failure; ``fail_kinesis_records`` does
  the same to a Kinesis PutRecords (``FailedRecordCount``).

Both are plain threads, so a session-scoped fixture can share them across tests
and event loops; the compat suite can point a ``shipper run`` subprocess at
``proxy.url`` (or ``proxy.host``/``proxy.port``).  Fixtures: ``moto_server``
(session) and ``moto_proxy`` (per test: moto reset, nothing recorded); tests/conftest.py
registers this module as a plugin, so a test names them as parameters.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

FIREHOSE_PUT_BATCH = "Firehose_20150804.PutRecordBatch"
KINESIS_PUT_RECORDS = "Kinesis_20131202.PutRecords"
#: per batch-put target: the answer's failed-count key, per-record list key, and the error a refused record gets.
_PARTIAL = {
    FIREHOSE_PUT_BATCH: ("FailedPutCount", "RequestResponses", "ServiceUnavailableException"),
    KINESIS_PUT_RECORDS: ("FailedRecordCount", "Records", "ProvisionedThroughputExceededException"),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoServer:
    """``python -m moto.server`` on 127.0.0.1; start() waits until it answers."""

    def __init__(self) -> None:
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> MotoServer:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.reset()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)

    def reset(self) -> None:
        """Forget every resource (``POST /moto-api/reset``)."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None


@dataclass
class Captured:
    """One API call as the proxy saw it (the shape of the golden ``expected_requests.jsonl``)."""

    target: str
    body: Any
    headers: dict[str, str]
    status: int = 0
    decoded_data: list[bytes] = field(default_factory=list)

    def as_golden(self) -> dict[str, Any]:
        line: dict[str, Any] = {"target": self.target, "body": self.body}
        if self.decoded_data:
            line["decoded_data"] = [d.decode("utf-8", "replace") for d in self.decoded_data]
        return line


@dataclass
class _Fault:
    target: str
    times: int
    status: int = 0
    code: str = ""
    message: str = ""
    failed_indexes: frozenset[int] = frozenset()
    #: a canned answer instead of an error (``reply``), or raw bytes and their content type (``reply_raw``).
    body: dict[str, Any] | None = None
    raw: tuple[bytes, str] | None = None


class RecordingProxy:
    """Forwards to ``upstream`` (moto), records calls, injects planned faults; see the module doc."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.requests: list[Captured] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-proxy", daemon=True)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RecordingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def clear(self) -> None:
        """Forget recorded calls and pending faults (between tests)."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()

    def calls(self, target_suffix: str) -> list[Captured]:
        """Recorded calls whose target ends with ``target_suffix`` (e.g. ``PutLogEvents``)."""
        with self._lock:
            return [c for c in self.requests if c.target.endswith(target_suffix)]

    def fail(self, target_suffix: str, status: int, code: str, message: str = "injected", times: int = 1) -> None:
        """Answer the next ``times`` calls of a target with an AWS JSON error."""
        with self._lock:
            self._faults.append(_Fault(target_suffix, times, status, code, message))

    def reply(self, target_suffix: str, body: dict[str, Any], status: int = 200, times: int = 1) -> None:
        """Answer the next ``times`` calls of a target with ``body`` without forwarding them to moto."""
        with self._lock:
            self._faults.append(_Fault(target_suffix, times, status, body=body))

    def reply_raw(self, target_suffix: str, body: bytes, content_type: str, status: int = 200, times: int = 1) -> None:
        """Answer the next ``times`` calls of a target with these bytes, as a proxy or captive portal would."""
        with self._lock:
            self._faults.append(_Fault(target_suffix, times, status, raw=(body, content_type)))

    def fail_firehose_records(self, indexes: set[int], times: int = 1) -> None:
        """Drop the records at ``indexes`` of the next PutRecordBatch calls and report them failed."""
        with self._lock:
            self._faults.append(_Fault(FIREHOSE_PUT_BATCH, times, failed_indexes=frozenset(indexes)))

    def fail_kinesis_records(self, indexes: set[int], times: int = 1) -> None:
        """Drop the records at ``indexes`` of the next Kinesis PutRecords calls and report them failed."""
        with self._lock:
            self._faults.append(_Fault(KINESIS_PUT_RECORDS, times, failed_indexes=frozenset(indexes)))

    def _take_fault(self, target: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if target.endswith(fault.target) and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _record(self, captured: Captured) -> None:
        with self._lock:
            self.requests.append(captured)

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self.upstream, timeout=60)
        try:
            headers = {k: v for k, v in headers.items() if k.lower() not in ("content-length", "connection")}
            headers["Content-Length"] = str(len(body))
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            return response.status, response.getheaders(), data
        finally:
            connection.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # answers go out in two writes: Nagle cost ~25 ms per call

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = dict(self.headers.items())
                target = headers.get("X-Amz-Target", "")
                status, out_headers, out_body = self._respond(target, headers, body)
                self.send_response(status)
                for key, value in out_headers:
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(out_body)))
                self.end_headers()
                self.wfile.write(out_body)

            def _respond(self, target: str, headers: dict[str, str], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
                if not target:
                    return proxy._forward(self.command, self.path, headers, body)
                parsed = json.loads(body) if body else {}
                captured = Captured(target, parsed, headers)
                if target in _PARTIAL:
                    captured.decoded_data = [base64.b64decode(r["Data"]) for r in parsed.get("Records", [])]
                proxy._record(captured)
                fault = proxy._take_fault(target)
                if fault is not None and fault.raw is not None:
                    captured.status = fault.status
                    return fault.status, [("Content-Type", fault.raw[1])], fault.raw[0]
                if fault is not None and fault.status:
                    captured.status = fault.status
                    answer = fault.body if fault.body is not None else {"__type": fault.code, "message": fault.message}
                    return fault.status, [("Content-Type", "application/x-amz-json-1.1")], json.dumps(answer).encode()
                if fault is not None and fault.failed_indexes:
                    return self._partial(target, captured, headers, parsed, fault.failed_indexes)
                status, out_headers, out_body = proxy._forward(self.command, self.path, headers, body)
                captured.status = status
                return status, out_headers, out_body

            def _partial(
                self, target: str, captured: Captured, headers: dict[str, str], parsed: dict[str, Any], failed: frozenset[int]
            ) -> tuple[int, list[tuple[str, str]], bytes]:
                count_key, list_key, code = _PARTIAL[target]
                records = parsed["Records"]
                kept = {**parsed, "Records": [r for i, r in enumerate(records) if i not in failed]}
                status, out_headers, out_body = proxy._forward(self.command, self.path, headers, json.dumps(kept).encode())
                captured.status = status
                if status != 200:
                    return status, out_headers, out_body
                accepted = iter(json.loads(out_body)[list_key])
                responses = [
                    {"ErrorCode": code, "ErrorMessage": "injected"} if i in failed else next(accepted)
                    for i in range(len(records))
                ]
                result = {count_key: len(failed & set(range(len(records)))), "Encrypted": False, list_key: responses}
                return status, out_headers, json.dumps(result).encode()

            do_POST = _handle
            do_GET = _handle
            do_PUT = _handle
            do_DELETE = _handle
            do_HEAD = _handle

        return Handler


class _Shared:
    """One moto server + proxy per test process, however many fixtures ask for it.

    The session fixtures (and any module that overrides them) share the server
    through a reference count, and the last one to finish stops it.
    """

    def __init__(self) -> None:
        self.users = 0
        self.server: MotoServer | None = None
        self.proxy: RecordingProxy | None = None

    def acquire(self) -> tuple[MotoServer, RecordingProxy]:
        if self.server is None or self.proxy is None:
            self.server = MotoServer().start()
            self.proxy = RecordingProxy(self.server.url).start()
        self.users += 1
        return self.server, self.proxy

    def release(self) -> None:
        self.users -= 1
        if self.users == 0 and self.server is not None and self.proxy is not None:
            self.proxy.stop()
            self.server.stop()
            self.server = self.proxy = None


_SHARED = _Shared()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """A moto server for the whole session (start-up and moto's first call are slow)."""
    server, _ = _SHARED.acquire()
    try:
        yield server
    finally:
        _SHARED.release()


@pytest.fixture(scope="session")
def moto_proxy_session(moto_server: MotoServer) -> Iterator[RecordingProxy]:
    _, proxy = _SHARED.acquire()
    try:
        yield proxy
    finally:
        _SHARED.release()


@pytest.fixture
def moto_proxy(moto_server: MotoServer, moto_proxy_session: RecordingProxy) -> RecordingProxy:
    """The recording proxy in front of a freshly reset moto, with nothing recorded."""
    moto_server.reset()
    moto_proxy_session.clear()
    return moto_proxy_session
