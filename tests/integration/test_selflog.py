"""Fargate flb_log_cw: shipper's own log reaches CloudWatch through a private pipeline."""

from __future__ import annotations

import asyncio
import logging

import boto3

from shipper.config.model import FargateSettings
from shipper.engine.core import Engine
from shipper.metrics import Metrics
from shipper.selflog import selflog_pipeline


async def test_own_log_lines_land_in_the_cluster_group(moto_proxy, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_proxy.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("HOSTNAME", "fargate-pod-1")
    pipeline = selflog_pipeline(FargateSettings(log_to_cloudwatch=True, cluster="demo"), Metrics())
    engine = Engine(pipeline)
    task = asyncio.create_task(engine.run())
    await asyncio.sleep(0.2)
    logging.getLogger("shipper.input.tail.0").warning("file %s vanished", "/var/log/containers/a.log")
    await asyncio.sleep(1.5)
    engine.request_shutdown("test over")
    assert await asyncio.wait_for(task, 30) == 0

    logs = boto3.client("logs", endpoint_url=moto_proxy.url, region_name="us-east-1")
    events = logs.get_log_events(logGroupName="demo-fluent-bit-logs", logStreamName="fargate-pod-1")["events"]
    messages = [e["message"] for e in events]
    assert any('"message":"file /var/log/containers/a.log vanished"' in m and '"level":"warn"' in m for m in messages)
