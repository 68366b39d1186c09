"""The local servers some benchmark pipelines talk to, started and stopped around their runs.

A peer gives the config its address (``options``), the child its environment
(``env``), and after each run what it saw (``observe``): the fake Kubernetes
API server counts pod requests, the moto peer counts PutLogEvents calls and
the events they carry (a counting :class:`~tests.servers.moto.RecordingProxy`) and moto's own
CPU time, so the report can say how much of a run's wall time was moto's.  The
S3 peer counts the lines in the bucket's objects after the run.
Everything listens on 127.0.0.1 only, and every server is stopped on exit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bench.generate import parse_file_name
from tests.servers.kube_api import KubeApiServer, make_pod
from tests.servers.moto import Captured, MotoServer, RecordingProxy

_TOKEN = "bench-token"
_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass
class Observed:
    """What a peer saw during one run."""

    requests: int = 0
    records: int | None = None
    #: CPU seconds the peer process spent during the run (moto), when measurable.
    peer_cpu: float | None = None


class Peer(Protocol):
    options: dict[str, str]
    env: dict[str, str]

    def begin(self) -> None:
        """Called just before a run: forget what earlier runs left."""

    def observe(self) -> Observed:
        """Called just after a run."""


@dataclass
class KubePeer:
    """The fake API server, serving one Pod object per generated log file."""

    api: KubeApiServer
    options: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def begin(self) -> None:
        self.api.requests.clear()

    def observe(self) -> Observed:
        return Observed(requests=self.api.count("/pods/"))


def pods_for(logs: Path) -> list[dict[str, object]]:
    """A Pod object for every generated file: names from the file name, the container named there."""
    pods = []
    for index, path in enumerate(sorted(logs.glob("*.log"))):
        pod, namespace, container = parse_file_name(path.name)
        pods.append(make_pod(namespace, pod, {container: f"registry.example.com/bench/{container}:1.{index}"},
                             labels={"app": pod.split("-")[0], "tier": "bench"},
                             annotations={"example.com/owner": "team-bench"}, pod_ip=f"10.244.{index // 250}.{index % 250 + 1}"))
    return pods


def kubernetes_maps(logs: Path) -> dict[str, dict[str, object]]:
    """The ``kubernetes`` map the filter adds to each generated file's records, by file name (for the floor)."""
    maps: dict[str, dict[str, object]] = {}
    for path, pod in zip(sorted(logs.glob("*.log")), pods_for(logs), strict=True):
        meta, status = pod["metadata"], pod["status"]
        container = parse_file_name(path.name)[2]
        found = status["containerStatuses"][0]  # type: ignore[index]
        maps[path.name] = {
            "pod_name": meta["name"], "namespace_name": meta["namespace"], "pod_id": meta["uid"],  # type: ignore[index]
            "labels": meta["labels"], "annotations": meta["annotations"],  # type: ignore[index]
            "host": pod["spec"]["nodeName"], "pod_ip": status["podIP"],  # type: ignore[index]
            "container_name": container, "docker_id": path.stem.rsplit("-", 1)[1],
            "container_hash": found["imageID"], "container_image": found["image"],
        }
    return maps


@contextmanager
def kube_peer(logs: Path, work: Path) -> Iterator[KubePeer]:
    """The fake API server in a thread on a free port, with a token file for the filter."""
    token_file = work / "kube-token"
    token_file.write_text(_TOKEN)
    api = KubeApiServer(tokens={_TOKEN})
    for pod in pods_for(logs):
        api.add_pod(pod)
    with api.in_thread() as running:
        yield KubePeer(running, {"kube_url": running.url, "token_file": str(token_file)})


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` so far, from ``/proc`` (children included: moto forks none)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


@dataclass
class MotoPeer:
    """moto behind the counting proxy; reset after every run so it does not grow."""

    server: MotoServer
    proxy: _CountingProxy
    options: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    _cpu_before: float = 0.0

    def begin(self) -> None:
        self.server.reset()
        self.proxy.clear()
        self._cpu_before = self._moto_cpu()

    def observe(self) -> Observed:
        cpu = self._moto_cpu() - self._cpu_before
        self.server.reset()
        return Observed(requests=self.proxy.put_calls, records=self.proxy.put_events, peer_cpu=cpu)

    def _moto_cpu(self) -> float:
        assert self.server.process is not None
        return _cpu_seconds(self.server.process.pid)


class _CountingProxy(RecordingProxy):
    """The recording proxy, counting PutLogEvents calls and events instead of keeping every body.

    Kept bodies (100 MB of parsed JSON for 20 MB of logs) would grow this process, and a child forked
    from it reports that size as its own peak RSS.
    """

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.put_calls = 0
        self.put_events = 0

    def clear(self) -> None:
        super().clear()
        self.put_calls = self.put_events = 0

    def _record(self, captured: Captured) -> None:
        if captured.target.endswith("PutLogEvents"):
            with self._lock:
                self.put_calls += 1
                self.put_events += len(captured.body.get("logEvents", ()))


def _warm_up(url: str) -> None:
    """One create + put + read through moto, so its first (slow, import-heavy) calls are not timed."""
    import boto3  # type: ignore[import-untyped]

    client = boto3.client("logs", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_log_group(logGroupName="warm-up")
    client.create_log_stream(logGroupName="warm-up", logStreamName="s")
    client.put_log_events(logGroupName="warm-up", logStreamName="s",
                          logEvents=[{"timestamp": 1_700_000_000_000 + i, "message": "x"} for i in range(100)])
    client.get_log_events(logGroupName="warm-up", logStreamName="s")


@contextmanager
def moto_peer(logs: Path, work: Path) -> Iterator[MotoPeer]:
    """A moto server (subprocess) and the counting proxy in front of it, warmed up; both stopped on exit."""
    server = MotoServer().start()
    try:
        _warm_up(server.url)
        proxy = _CountingProxy(server.url)
        proxy.start()
        try:
            yield MotoPeer(server, proxy, {"endpoint": proxy.url}, dict(_AWS_ENV, AWS_CONFIG_FILE=str(work / "none"),
                                                                      AWS_SHARED_CREDENTIALS_FILE=str(work / "none")))
        finally:
            proxy.stop()
    finally:
        server.stop()


@dataclass
class S3Peer(MotoPeer):
    """moto for the s3 output: the bucket is created after every reset, and records are the lines read back."""

    bucket: str = "bench"

    def begin(self) -> None:
        super().begin()
        _s3_client(self.server.url).create_bucket(Bucket=self.bucket)

    def observe(self) -> Observed:
        client = _s3_client(self.server.url)
        lines = 0
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                lines += client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read().count(b"\n")
        seen = super().observe()
        return Observed(records=lines, peer_cpu=seen.peer_cpu)


def _s3_client(url: str) -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@contextmanager
def moto_s3_peer(logs: Path, work: Path) -> Iterator[S3Peer]:
    """moto for the s3 output, which talks to it directly and buffers in ``work/s3-store``."""
    with moto_peer(logs, work) as peer:
        options = {"endpoint": peer.server.url, "store_dir": str(work / "s3-store")}
        yield S3Peer(peer.server, peer.proxy, options, peer.env)
