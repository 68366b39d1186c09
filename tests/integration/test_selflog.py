"""Fargate flb_log_cw: shipper's own log reaches CloudWatch through a private pipeline."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import boto3
import pytest

from shipper.config.model import FargateSettings
from shipper.engine.core import Engine
from shipper.metrics import Metrics
from shipper.selflog import selflog_pipeline, stream_name
from tests.poll import wait_for_async
from tests.servers.moto import RecordingProxy


def _shipped(logs: Any) -> bool:
    """The warning is in the cluster group's stream for this host."""
    try:
        events = logs.get_log_events(logGroupName="demo-fluent-bit-logs", logStreamName="fluent-bit-fargate-pod-1-shop")["events"]
    except logs.exceptions.ResourceNotFoundException:  # not created yet
        return False
    return any(
        '"message":"file /var/log/containers/a.log vanished"' in e["message"] and '"level":"warn"' in e["message"]
        for e in events
    )


async def test_own_log_lines_land_in_the_cluster_group(moto_proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_proxy.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("HOSTNAME", "fargate-pod-1")
    monkeypatch.setenv("POD_NAMESPACE", "shop")
    pipeline = selflog_pipeline(FargateSettings(log_to_cloudwatch=True, cluster="demo"), Metrics())
    engine = Engine(pipeline)
    root = logging.getLogger()
    handlers = len(root.handlers)
    task = asyncio.create_task(engine.run())
    try:
        # the shipper_logs input collects through a handler on the root logger, added when it starts
        await wait_for_async(lambda: len(root.handlers) > handlers, 10, what="shipper_logs collecting")
        logging.getLogger("shipper.input.tail.0").warning("file %s vanished", "/var/log/containers/a.log")
        logs = boto3.client("logs", endpoint_url=moto_proxy.url, region_name="us-east-1")
        await wait_for_async(lambda: asyncio.to_thread(_shipped, logs), 30, 0.2, "the warning in CloudWatch")
    finally:
        engine.request_shutdown("test over")
        assert await asyncio.wait_for(task, 30) == 0


def test_the_stream_is_named_as_fargate_names_it(tmp_path) -> None:
    """The EKS guide: the router's log stream is ``fluent-bit-<podname>-<pod-namespace>``."""
    namespace = tmp_path / "namespace"
    namespace.write_text("payments\n")
    assert stream_name({"HOSTNAME": "api-7f9c"}, namespace) == "fluent-bit-api-7f9c-payments"
    assert stream_name({"POD_NAME": "api-1", "HOSTNAME": "h", "POD_NAMESPACE": "shop"}, namespace) == "fluent-bit-api-1-shop"
    assert stream_name({"HOSTNAME": "api-7f9c"}, tmp_path / "absent") == "fluent-bit-api-7f9c"
