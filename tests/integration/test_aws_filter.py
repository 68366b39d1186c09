"""The aws filter against a fake IMDS: the v2 token flow, fields, tags, outages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from shipper.errors import ConfigError
from shipper.filters.aws import UNAVAILABLE_METRIC, AwsFilter
from tests.factory import make_plugin
from tests.servers.imds import ImdsServer, Instance

ALL_FIELDS = {
    "ec2_instance_type": "on", "private_ip": "on", "vpc_id": "on", "ami_id": "on",
    "account_id": "on", "hostname": "on",
}


def chunk(n: int = 3) -> list[tuple[int, dict[str, Any]]]:
    return [(i, {"log": f"line {i}"}) for i in range(n)]


@pytest.fixture
async def imds(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ImdsServer]:
    async with ImdsServer() as server:
        monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url)
        yield server


async def started(props: dict[str, str]) -> AwsFilter:
    plugin = make_plugin("filter", "aws", props)
    assert isinstance(plugin, AwsFilter)
    await plugin.start()
    return plugin


async def test_v2_flow_fetches_once_for_many_chunks(imds: ImdsServer) -> None:
    plugin = await started(ALL_FIELDS)
    try:
        outs = [await plugin.process("t", chunk(100)) for _ in range(5)]
    finally:
        await plugin.stop()
    record = outs[-1][-1][1]
    assert list(record) == [
        "log", "az", "ec2_instance_id", "ec2_instance_type", "private_ip", "vpc_id", "ami_id", "account_id", "hostname",
    ]
    assert record["vpc_id"] == "vpc-7ea11c06" and record["account_id"] == "123456789012"
    assert imds.count("PUT") == 1 and imds.count("GET") == 9  # not one per record or chunk
    assert all(r.token for r in imds.requests if r.method == "GET")


async def test_defaults_are_az_and_instance_id(imds: ImdsServer) -> None:
    plugin = await started({})
    try:
        out = await plugin.process("t", chunk(1))
    finally:
        await plugin.stop()
    assert out[0][1] == {"log": "line 0", "az": "us-west-2c", "ec2_instance_id": "i-0c862eca9038f5aae"}


async def test_expired_token_is_renewed(imds: ImdsServer) -> None:
    plugin = await started({})
    try:
        await plugin.process("t", chunk(1))
        imds.expire_tokens()
        plugin.metadata = None  # force a second fetch with the old token
        plugin._start_fetch()
        out = await plugin.process("t", chunk(1))
    finally:
        await plugin.stop()
    assert out[0][1]["az"] == "us-west-2c" and imds.count("PUT") == 2


async def test_imds_v1(monkeypatch: pytest.MonkeyPatch) -> None:
    async with ImdsServer(v1_allowed=True) as server:
        monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url)
        plugin = await started({"imds_version": "v1"})
        try:
            out = await plugin.process("t", chunk(1))
        finally:
            await plugin.stop()
    assert out[0][1]["ec2_instance_id"] == "i-0c862eca9038f5aae"
    assert server.count("PUT") == 0


async def one_record(monkeypatch: pytest.MonkeyPatch, instance: Instance, props: dict[str, str]) -> dict[str, Any]:
    """What one record looks like after the filter, against a fresh IMDS for ``instance``."""
    async with ImdsServer(instance) as server:
        monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url)
        plugin = await started(props)
        try:
            return (await plugin.process("t", chunk(1)))[0][1]
        finally:
            await plugin.stop()


TAGS = {"Name": "node-a-1", "team": "logs", "secret": "x"}


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"tags_enabled": "on"}, TAGS),
        ({"tags_enabled": "on", "tags_include": "Name,team"}, {"Name": "node-a-1", "team": "logs"}),
        ({"tags_enabled": "on", "tags_exclude": "secret"}, {"Name": "node-a-1", "team": "logs"}),
    ],
)
async def test_tags_include_exclude(monkeypatch: pytest.MonkeyPatch, props: dict[str, str], expected: dict[str, str]) -> None:
    record = await one_record(monkeypatch, Instance(tags=TAGS), props)
    assert {k: v for k, v in record.items() if k in TAGS} == expected


async def test_tags_not_exposed_by_the_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    record = await one_record(monkeypatch, Instance(tags=None), {"tags_enabled": "on"})
    assert record["az"] == "us-west-2c" and "Name" not in record


async def test_unreachable_imds_is_retried_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    server = ImdsServer()
    await server.start()
    port = server.port
    await server.stop()
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", f"http://127.0.0.1:{port}")
    plugin = await started({"retry_interval_s": "0"})
    try:
        out = await plugin.process("t", chunk(2))
        assert out == chunk(2)
        assert plugin.metrics.value(UNAVAILABLE_METRIC, name="aws.0") == 2
        async with ImdsServer() as back:
            plugin.client.endpoint = back.url  # IMDS reachable again
            out = await plugin.process("t", chunk(1))
    finally:
        await plugin.stop()
    assert out[0][1]["az"] == "us-west-2c"


async def test_server_error_leaves_records_alone(imds: ImdsServer) -> None:
    imds.fail(500, times=1)
    plugin = await started({"retry_interval_s": "3600"})
    try:
        first = await plugin.process("t", chunk(1))
        second = await plugin.process("t", chunk(1))
    finally:
        await plugin.stop()
    assert first == chunk(1) and second == chunk(1)
    assert imds.count("PUT") == 1  # no retry before retry_interval_s


def test_tags_include_and_exclude_conflict() -> None:
    with pytest.raises(ConfigError, match="cannot both"):
        make_plugin("filter", "aws", {"tags_include": "a", "tags_exclude": "b"})
