"""Shared pieces of the AWS output integration tests: env isolation, plugin lifecycle, read-back clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiobotocore.session import AioSession

from shipper.plugin import Output
from tests.factory import make_context, make_plugin
from tests.servers.moto import MotoServer, RecordingProxy

REGION = "us-east-1"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Fake static credentials; no shared files, no IMDS, so the default chain is predictable."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)


@asynccontextmanager
async def running(name: str, proxy: RecordingProxy, url_endpoint: bool = False, **options: str) -> AsyncIterator[Output]:
    """An output plugin pointed at the proxy, started and stopped.

    The endpoint is host + port, as Fluent Bit configs write it, or with
    ``url_endpoint`` one URL, as the Go plugins (which have no ``port``) take it.
    """
    where = {"endpoint": proxy.url} if url_endpoint else {"endpoint": proxy.host, "port": str(proxy.port)}
    settings = {"region": REGION, **where, **options}
    output = make_plugin("output", name, settings, context=make_context())
    assert isinstance(output, Output)
    await output.start()
    try:
        yield output
    finally:
        await output.stop()


@asynccontextmanager
async def aws_client(moto: MotoServer, service: str) -> AsyncIterator[Any]:
    """A client straight to moto (not through the proxy), for setup and reading back."""
    session = AioSession()
    async with session.create_client(service, region_name=REGION, endpoint_url=moto.url) as client:
        yield client


async def flush_all(output: Output, tag: str, events: list[Any], attempts: int = 5, on_retry: Callable[[], None] | None = None) -> int:
    """Flush like the engine: retry only what the output says failed; returns the number of flushes."""
    for attempt in range(1, attempts + 1):
        result = await output.flush(tag, events)
        if not result.retry:
            return attempt
        events = result.retry
        if on_retry is not None:
            on_retry()
    raise AssertionError(f"still failing after {attempts} flushes")


async def read_back(moto: MotoServer, group: str, stream: str) -> list[dict[str, Any]]:
    async with aws_client(moto, "logs") as logs:
        events: list[dict[str, Any]] = []
        token = None
        for _ in range(100):
            kwargs = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
            if token:
                kwargs["nextToken"] = token
            page = await logs.get_log_events(**kwargs)
            events += [{"timestamp": e["timestamp"], "message": e["message"]} for e in page["events"]]
            if page.get("nextForwardToken") in (None, token):
                return events
            token = page["nextForwardToken"]
    raise AssertionError("too many pages")


STREAM = "golden-ds"
BUCKET = "golden-golden-ds"


@pytest.fixture
async def delivery_stream(moto_server: MotoServer, moto_proxy: RecordingProxy) -> str:
    async with aws_client(moto_server, "s3") as s3:
        await s3.create_bucket(Bucket=BUCKET)
    async with aws_client(moto_server, "firehose") as firehose:
        await firehose.create_delivery_stream(
            DeliveryStreamName=STREAM,
            DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                "BucketARN": f"arn:aws:s3:::{BUCKET}",
                "Prefix": "fh/",
            },
        )
    return STREAM


async def s3_objects(moto: MotoServer) -> list[bytes]:
    async with aws_client(moto, "s3") as s3:
        listing = (await s3.list_objects_v2(Bucket=BUCKET)).get("Contents", [])
        bodies = []
        for obj in sorted(listing, key=lambda o: (o["LastModified"], o["Key"])):
            response = await s3.get_object(Bucket=BUCKET, Key=obj["Key"])
            async with response["Body"] as stream:
                bodies.append(await stream.read())
        return bodies


KINESIS_STREAM = "golden-ks"


@pytest.fixture
async def kinesis_stream(moto_server: MotoServer, moto_proxy: RecordingProxy) -> str:
    """A two-shard Kinesis data stream in a freshly reset moto."""
    async with aws_client(moto_server, "kinesis") as kinesis:
        await kinesis.create_stream(StreamName=KINESIS_STREAM, ShardCount=2)
    return KINESIS_STREAM


async def kinesis_records(moto: MotoServer, stream: str = KINESIS_STREAM) -> list[tuple[str, bytes]]:
    """Every record in the stream as (partition key, data), read back shard by shard with GetRecords."""
    async with aws_client(moto, "kinesis") as kinesis:
        shards = (await kinesis.list_shards(StreamName=stream))["Shards"]
        records: list[tuple[str, bytes]] = []
        for shard in shards:
            iterator = (
                await kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
            )["ShardIterator"]
            while iterator:
                page = await kinesis.get_records(ShardIterator=iterator, Limit=10_000)
                records += [(r["PartitionKey"], r["Data"]) for r in page["Records"]]
                if not page["Records"]:
                    break
                iterator = page.get("NextShardIterator")
        return records
