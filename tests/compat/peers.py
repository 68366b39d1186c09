"""The fake servers the golden cases talk to, wrapped for the compat runner.

The servers themselves are the shared test peers in ``tests/servers/`` (the
same ones the integration tests use); this module only starts them for a case,
tells the case where they are (``GOLDEN_*`` environment variables) and reads
back what reached them, in the shape of the golden expectation files.

- AWS: one moto server and one recording proxy for the whole session (moto is
  slow to start); cases using it run one after another and moto is reset in
  between.  shipper talks plain HTTP to the proxy (``endpoint http://...``).
- Kubernetes API and OpenSearch: one small server per case, serving that
  case's pod files / recording that case's ``_bulk`` bodies.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.compat.golden import GoldenCase, Peer

REGION = "us-east-1"
FIREHOSE_STREAM = "golden-ds"
FIREHOSE_BUCKET = "golden-golden-ds"
FIREHOSE_PREFIX = "fh/"


class PeerUnavailable(RuntimeError):
    """A test peer from tests/servers/ has not landed yet: the case cannot run."""


def _server_module(name: str) -> Any:
    try:
        return importlib.import_module(f"tests.servers.{name}")
    except ModuleNotFoundError as exc:
        raise PeerUnavailable(f"tests/servers/{name}.py is not available yet ({exc})") from exc


@dataclass
class Observed:
    """What reached a peer during one run, in the golden files' shapes."""

    bulk_bodies: list[bytes] | None = None
    bulk_content_types: list[str] | None = None
    cloudwatch: dict[str, Any] | None = None
    firehose: dict[str, Any] | None = None
    requests: list[dict[str, Any]] | None = None


@dataclass
class PeerRun:
    """A peer prepared for one case: its environment, and how to read back what it saw."""

    env: dict[str, str] = field(default_factory=dict)
    observed: Observed = field(default_factory=Observed)


class LoopThread:
    """An asyncio loop in a daemon thread, for the aiohttp-based peers, shared by runner threads."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="compat-peers", daemon=True)
        self._thread.start()

    def run(self, coro: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


class AwsPeer:
    """moto behind the recording proxy of tests/servers/moto.py, shared by the AWS cases."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._moto: Any = None
        self._proxy: Any = None
        self._clients: dict[str, Any] = {}

    def _ensure_started(self) -> None:
        if self._moto is not None:
            return
        module = _server_module("moto")
        self._moto = module.MotoServer().start()
        self._proxy = module.RecordingProxy(self._moto.url).start()
        self._client("logs").describe_log_groups()  # moto loads a backend on its first call: warm up now
        self._client("firehose").list_delivery_streams()

    def _client(self, service: str) -> Any:
        """A boto3 client straight to moto (not through the proxy, so read-backs are not recorded)."""
        if service not in self._clients:
            import boto3

            self._clients[service] = boto3.client(
                service, region_name=REGION, endpoint_url=self._moto.url, aws_access_key_id="golden", aws_secret_access_key="golden"
            )
        return self._clients[service]

    def warm_up(self) -> None:
        """Start moto early (it takes seconds) so the AWS cases do not wait for it."""
        with self._lock:
            self._ensure_started()

    @contextmanager
    def session(self, case: GoldenCase) -> Iterator[PeerRun]:
        """Reset moto, create the delivery stream Fluent Bit's harness created, and read back after the run."""
        with self._lock:
            self._ensure_started()
            self._moto.reset()
            self._proxy.clear()
            uses_firehose = "kinesis_firehose" in case.config_text
            if uses_firehose:
                self._create_delivery_stream()
            run = PeerRun(
                env={
                    "GOLDEN_AWS_ENDPOINT": self._proxy.url,
                    "GOLDEN_AWS_PORT": str(self._proxy.port),
                    "GOLDEN_AWS_CA_FILE": "",
                    "AWS_ACCESS_KEY_ID": "golden",
                    "AWS_SECRET_ACCESS_KEY": "golden",
                    "AWS_EC2_METADATA_DISABLED": "true",
                }
            )
            yield run
            run.observed.requests = [call.as_golden() for call in list(self._proxy.requests)]
            run.observed.cloudwatch = self._read_cloudwatch()
            run.observed.firehose = self._read_firehose() if uses_firehose else None

    def _create_delivery_stream(self) -> None:
        self._client("s3").create_bucket(Bucket=FIREHOSE_BUCKET)
        self._client("firehose").create_delivery_stream(
            DeliveryStreamName=FIREHOSE_STREAM,
            DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/golden-firehose",
                "BucketARN": f"arn:aws:s3:::{FIREHOSE_BUCKET}",
                "Prefix": FIREHOSE_PREFIX,
            },
        )

    def _read_cloudwatch(self) -> dict[str, Any]:
        logs = self._client("logs")
        out: dict[str, Any] = {}
        for group in logs.describe_log_groups()["logGroups"]:
            name = group["logGroupName"]
            streams = logs.describe_log_streams(logGroupName=name)["logStreams"]
            out[name] = {
                s["logStreamName"]: [
                    {"timestamp": e["timestamp"], "message": e["message"]}
                    for e in logs.get_log_events(logGroupName=name, logStreamName=s["logStreamName"], startFromHead=True)["events"]
                ]
                for s in streams
            }
        return out

    def _read_firehose(self) -> dict[str, Any]:
        s3 = self._client("s3")
        listing = s3.list_objects_v2(Bucket=FIREHOSE_BUCKET, Prefix=FIREHOSE_PREFIX).get("Contents", [])
        ordered = sorted(listing, key=lambda o: (o["LastModified"], o["Key"]))
        bodies = [s3.get_object(Bucket=FIREHOSE_BUCKET, Key=o["Key"])["Body"].read().decode("utf-8", "replace") for o in ordered]
        return {FIREHOSE_STREAM: bodies}

    def stop(self) -> None:
        if self._proxy is not None:
            self._proxy.stop()
        if self._moto is not None:
            self._moto.stop()


class Peers:
    """Every peer the suite may need, started lazily and stopped once at the end of the session."""

    def __init__(self) -> None:
        self.aws = AwsPeer()
        self._loop: LoopThread | None = None
        self._loop_lock = threading.Lock()

    @property
    def loop(self) -> LoopThread:
        with self._loop_lock:
            if self._loop is None:
                self._loop = LoopThread()
            return self._loop

    @contextmanager
    def session(self, case: GoldenCase, input_dir: Path) -> Iterator[PeerRun]:
        """The peer ``case`` needs, ready for one run; its observations filled in on exit."""
        if case.peer is Peer.AWS:
            with self.aws.session(case) as run:
                yield run
        elif case.peer is Peer.KUBE:
            with self._kube(case, input_dir) as run:
                yield run
        elif case.peer is Peer.OPENSEARCH:
            with self._opensearch() as run:
                yield run
        else:
            yield PeerRun()

    @contextmanager
    def _kube(self, case: GoldenCase, input_dir: Path) -> Iterator[PeerRun]:
        """The case's pods on a fake API server that wants the case's bearer token."""
        module = _server_module("kube_api")
        token = (input_dir / "kube-token").read_text().strip()
        with module.KubeApiServer(pods_dir=case.path / "pods", tokens={token}).in_thread() as api:
            yield PeerRun(env={"GOLDEN_KUBE_URL": api.url})

    @contextmanager
    def _opensearch(self) -> Iterator[PeerRun]:
        """A fresh ``_bulk`` endpoint whose request bodies are the observation."""
        module = _server_module("opensearch")
        server = module.FakeOpenSearch()
        self.loop.run(server.start())
        run = PeerRun(env={"GOLDEN_OPENSEARCH_HOST": "127.0.0.1", "GOLDEN_OPENSEARCH_PORT": str(server.port)})
        try:
            yield run
            run.observed.bulk_bodies = list(server.bulk_bodies)
            run.observed.bulk_content_types = [r.headers.get("Content-Type", "") for r in server.requests]
        finally:
            self.loop.run(server.stop())

    def stop(self) -> None:
        self.aws.stop()
        if self._loop is not None:
            self._loop.close()
