"""cloudwatch_logs against moto (through the recording proxy): names, creation, batching limits, read-back."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from shipper.outputs.cloudwatch_logs.request import EVENT_OVERHEAD, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_EVENT_BYTES
from tests.integration.aws_helpers import aws_client, read_back, running
from tests.servers.credentials import CredentialsServer
from tests.servers.moto import MotoServer, RecordingProxy

pytestmark = pytest.mark.usefixtures("aws_env")

HOUR_NS = 3600 * 1_000_000_000


def put_bodies(proxy: RecordingProxy) -> list[dict[str, Any]]:
    return [c.body for c in proxy.calls("PutLogEvents")]


def assert_valid_requests(proxy: RecordingProxy) -> None:
    """Every PutLogEvents respects the API limits moto does not check."""
    for body in put_bodies(proxy):
        events = body["logEvents"]
        stamps = [e["timestamp"] for e in events]
        assert 0 < len(events) <= MAX_BATCH_EVENTS
        assert sum(len(e["message"].encode()) + EVENT_OVERHEAD for e in events) <= MAX_BATCH_BYTES
        assert stamps == sorted(stamps)
        assert stamps[-1] - stamps[0] < 24 * 3600 * 1000
        assert all(0 < len(e["message"].encode()) <= MAX_EVENT_BYTES for e in events)
        assert "sequenceToken" not in body


async def test_records_arrive_identical_with_auto_created_group(moto_server: MotoServer, moto_proxy: RecordingProxy) -> None:
    now = time.time_ns()
    events = [
        (now, {"level": "info", "msg": "payment accepted", "amount": 12.5, "tags": ["a"], "user": {"id": 7}}),
        (now + 1_000_000, {"msg": "unicode caf\u00e9 \u2713 and \"quotes\"", "n": None}),
        (now + 2_000_000, {}),
        (now + 3_000_000, {"float": 1e-7}),
    ]
    async with running("cloudwatch_logs", moto_proxy, log_group_name="golden-group", log_stream_name="golden-stream",
                       auto_create_group="on", log_retention_days="7") as out:
        await out.flush("app.payments", events)
    stored = await read_back(moto_server, "golden-group", "golden-stream")
    assert stored == [
        {"timestamp": now // 1_000_000, "message": '{"level":"info","msg":"payment accepted","amount":12.5,"tags":["a"],"user":{"id":7}}'},
        {"timestamp": now // 1_000_000 + 1, "message": '{"msg":"unicode caf\\u00e9 \\u2713 and \\"quotes\\"","n":null}'},
        {"timestamp": now // 1_000_000 + 3, "message": '{"float":1e-07}'},
    ]
    assert [c.target.split(".")[1] for c in moto_proxy.requests] == [
        "CreateLogStream", "CreateLogGroup", "PutRetentionPolicy", "CreateLogStream", "PutLogEvents"
    ]
    async with aws_client(moto_server, "logs") as logs:
        groups = (await logs.describe_log_groups(logGroupNamePrefix="golden-group"))["logGroups"]
    assert groups[0]["retentionInDays"] == 7


async def test_log_key_sends_the_raw_value_and_counts_missing_keys(moto_server: MotoServer, moto_proxy: RecordingProxy) -> None:
    now = time.time_ns()
    events = [
        (now, {"log": "plain string"}),
        (now, {"other": "no log key"}),
        (now, {"log": ""}),
        (now, {"log": "caf\u00e9 \"q\" \\"}),
        (now, {"log": {"nested": "map"}}),
        (now, {"log": 12345}),
    ]
    async with running("cloudwatch_logs", moto_proxy, log_group_name="g", log_stream_name="s",
                       auto_create_group="on", log_key="log") as out:
        result = await out.flush("t", events)
    stored = [e["message"] for e in await read_back(moto_server, "g", "s")]
    assert stored == ["plain string", "caf\u00e9 \"q\" \\", '{"nested":"map"}', "12345"]
    assert result.dropped == {"missing_log_key: the record has no log_key value": 1}


async def test_stream_prefix_names_one_stream_per_tag(moto_server: MotoServer, moto_proxy: RecordingProxy) -> None:
    now = time.time_ns()
    async with running("cloudwatch_logs", moto_proxy, log_group_name="golden-group", log_stream_prefix="fb-",
                       auto_create_group="on") as out:
        await out.flush("svc.api", [(now, {"msg": "from api 1"}), (now + 1, {"msg": "from api 2"})])
        await out.flush("svc.worker", [(now, {"msg": "from worker"})])
        await out.flush("svc.api", [(now + 2, {"msg": "from api 3"})])
    assert [e["message"] for e in await read_back(moto_server, "golden-group", "fb-svc.api")] == [
        '{"msg":"from api 1"}', '{"msg":"from api 2"}', '{"msg":"from api 3"}'
    ]
    assert len(await read_back(moto_server, "golden-group", "fb-svc.worker")) == 1
    # the group is created once, each stream once: created names are remembered
    assert len(moto_proxy.calls("CreateLogGroup")) == 1
    assert len(moto_proxy.calls("CreateLogStream")) == 3


async def test_templates_route_by_namespace_with_independent_fallbacks(moto_server: MotoServer, moto_proxy: RecordingProxy) -> None:
    now = time.time_ns()
    events = [
        (now, {"log": "a", "kubernetes": {"namespace_name": "shop", "pod_name": "web-1", "container_name": "nginx"}}),
        (now, {"log": "b", "kubernetes": {"namespace_name": "prod", "pod_name": "api-7", "container_name": "api"}}),
        (now, {"log": "c"}),
        (now, {"log": "d", "kubernetes": {"namespace_name": "shop"}}),
        (now, {"log": "e", "kubernetes": {"namespace_name": "shop", "pod_name": "web-1", "container_name": "nginx"}}),
    ]
    async with running(
        "cloudwatch_logs", moto_proxy, auto_create_group="on",
        log_group_name="fallback-group", log_stream_name="fallback-stream",
        log_group_template="/eks/$kubernetes['namespace_name']",
        log_stream_template="$kubernetes['pod_name'].$kubernetes['container_name']",
    ) as out:
        await out.flush("kube.app", events)

    def logs(stored: list[dict[str, Any]]) -> list[str]:
        return [orjson.loads(e["message"])["log"] for e in stored]

    assert logs(await read_back(moto_server, "/eks/shop", "web-1.nginx")) == ["a", "e"]
    assert logs(await read_back(moto_server, "/eks/prod", "api-7.api")) == ["b"]
    assert logs(await read_back(moto_server, "/eks/shop", "fallback-stream")) == ["d"]
    assert logs(await read_back(moto_server, "fallback-group", "fallback-stream")) == ["c"]


async def test_large_inputs_split_into_valid_requests(moto_server: MotoServer, moto_proxy: RecordingProxy) -> None:
    now = time.time_ns()
    many = [(now + i, {"i": i}) for i in range(MAX_BATCH_EVENTS + 2_500)]
    big = [(now + i, {"blob": "x" * 100_000, "i": i}) for i in range(25)]  # ~2.5 MB
    async with running("cloudwatch_logs", moto_proxy, log_group_name="g", log_stream_name="s", auto_create_group="on") as out:
        await out.flush("t", many)
        await out.flush("t", big)
    assert_valid_requests(moto_proxy)
    sizes = [len(b["logEvents"]) for b in put_bodies(moto_proxy)]
    assert sizes[:2] == [MAX_BATCH_EVENTS, 2_500]
    assert sum(sizes[2:]) == 25 and len(sizes) >= 5
    stored = await read_back(moto_server, "g", "s")
    assert len(stored) == len(many) + len(big)


async def test_25_hour_spread_is_split_and_out_of_order_input_sorted(moto_server: MotoServer, moto_proxy: RecordingProxy) -> None:
    now = time.time_ns()
    start = now - 25 * HOUR_NS
    events = [(start + h * HOUR_NS, {"h": h}) for h in range(26)]
    events.reverse()  # newest first: must be sorted before sending
    async with running("cloudwatch_logs", moto_proxy, log_group_name="g", log_stream_name="s", auto_create_group="on") as out:
        await out.flush("t", events)
    assert_valid_requests(moto_proxy)
    assert len(put_bodies(moto_proxy)) == 2
    stored = await read_back(moto_server, "g", "s")
    assert [orjson.loads(e["message"])["h"] for e in stored] == list(range(26))


async def test_oversized_events_truncated_and_time_window_respected(moto_server: MotoServer, moto_proxy: RecordingProxy) -> None:
    now = time.time_ns()
    events = [
        (now, {"log": "\u00e9" * 600_000}),  # 1,200,000 UTF-8 bytes
        (now - 15 * 24 * HOUR_NS, {"log": "too old"}),
        (now + 3 * HOUR_NS, {"log": "too far ahead"}),
        (now, {"log": "fine"}),
    ]
    async with running("cloudwatch_logs", moto_proxy, log_group_name="g", log_stream_name="s",
                       auto_create_group="on", log_key="log") as out:
        result = await out.flush("t", events)
        metrics = out.metrics
        name = out.instance_name
    assert_valid_requests(moto_proxy)
    stored = [e["message"] for e in await read_back(moto_server, "g", "s")]
    assert stored[1] == "fine"
    assert stored[0] == "\u00e9" * (MAX_EVENT_BYTES // 2)
    assert metrics.value("shipper_cloudwatch_truncated_events_total", name=name) == 1
    assert metrics.value("shipper_cloudwatch_skipped_events_total", name=name, reason="too_old") == 1
    assert metrics.value("shipper_cloudwatch_skipped_events_total", name=name, reason="too_new") == 1
    assert result.dropped_count == 2 and not result.retry


async def test_an_oversized_json_record_arrives_as_valid_json(moto_server: MotoServer, moto_proxy: RecordingProxy) -> None:
    now = time.time_ns()
    events = [(now, {"log": "y" * 1_500_000, "stream": "stdout"}), (now, {"log": "small"})]
    async with running("cloudwatch_logs", moto_proxy, log_group_name="g", log_stream_name="s", auto_create_group="on") as out:
        await out.flush("t", events)
    assert_valid_requests(moto_proxy)
    messages = [e["message"] for e in await read_back(moto_server, "g", "s")]
    stored = [orjson.loads(m) for m in messages]
    assert stored[0]["stream"] == "stdout" and stored[0]["log"].endswith(" bytes]") and stored[1] == {"log": "small"}
    assert MAX_EVENT_BYTES - 100 < len(messages[0].encode()) <= MAX_EVENT_BYTES


async def test_deleted_stream_is_recreated_and_the_put_retried_once(moto_server: MotoServer, moto_proxy: RecordingProxy) -> None:
    now = time.time_ns()
    async with running("cloudwatch_logs", moto_proxy, log_group_name="g", log_stream_name="s", auto_create_group="on") as out:
        await out.flush("t", [(now, {"n": 1})])
        async with aws_client(moto_server, "logs") as logs:
            await logs.delete_log_group(logGroupName="g")
        await out.flush("t", [(now + 1, {"n": 2})])
    assert [e["message"] for e in await read_back(moto_server, "g", "s")] == ['{"n":2}']
    assert len(moto_proxy.calls("CreateLogGroup")) == 2


async def test_missing_group_without_auto_create_is_permanent(moto_proxy: RecordingProxy) -> None:
    async with running("cloudwatch_logs", moto_proxy, log_group_name="absent", log_stream_name="s") as out:
        result = await out.flush("t", [(time.time_ns(), {"n": 1})])
    [(reason, count)] = result.dropped.items()
    assert count == 1 and reason.startswith("rejected: ") and "auto_create_group" in reason
    assert not moto_proxy.calls("CreateLogGroup")


async def test_emf_header_and_user_agent(moto_proxy: RecordingProxy) -> None:
    async with running("cloudwatch_logs", moto_proxy, log_group_name="g", log_stream_name="s", auto_create_group="on",
                       log_format="json/emf", extra_user_agent="team/blue") as out:
        await out.flush("t", [(time.time_ns(), {"_aws": {}})])
    put = moto_proxy.calls("PutLogEvents")[0]
    headers = {k.lower(): v for k, v in put.headers.items()}
    assert headers["x-amzn-logs-format"] == "json/emf"
    assert "team/blue" in headers["user-agent"]


async def test_rejected_log_events_info_is_counted(moto_proxy: RecordingProxy) -> None:
    now = time.time_ns()
    async with running("cloudwatch_logs", moto_proxy, log_group_name="g", log_stream_name="s", auto_create_group="on") as out:
        moto_proxy.reply("PutLogEvents", {"rejectedLogEventsInfo": {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 4}})
        result = await out.flush("t", [(now + i, {"i": i}) for i in range(5)])
        rejected = out.metrics.value("shipper_cloudwatch_rejected_events_total", name=out.instance_name)
    assert rejected == result.dropped_count == 3  # events 0-1 too old, 4 too new


async def test_group_class_is_applied_to_created_groups(moto_server: MotoServer, moto_proxy: RecordingProxy) -> None:
    async with running("cloudwatch_logs", moto_proxy, log_group_name="ia", log_stream_name="s", auto_create_group="on",
                       log_group_class="infrequent_access") as out:
        await out.flush("t", [(time.time_ns(), {"a": 1})])
    assert moto_proxy.calls("CreateLogGroup")[0].body == {"logGroupName": "ia", "logGroupClass": "INFREQUENT_ACCESS"}


async def test_go_cloudwatch_templates_create_tagged_groups(moto_server: MotoServer, moto_proxy: RecordingProxy) -> None:
    now = time.time_ns()
    events = [(now, {"kubernetes": {"namespace_name": ns, "pod_name": f"{ns}-pod"}, "n": i}) for i, ns in enumerate(["a", "b", "a"])]
    events.append((now, {"n": 3}))
    async with running("cloudwatch", moto_proxy, url_endpoint=True, log_group_name="/eks/$(kubernetes['namespace_name'])",
                       log_stream_name="$(kubernetes['pod_name'])", default_log_group_name="/eks/other",
                       auto_create_group="true", new_log_group_tags="team=logs,env=test", log_retention_days="7") as out:
        await out.flush("kube.app", events)
    assert_valid_requests(moto_proxy)
    assert [orjson.loads(e["message"])["n"] for e in await read_back(moto_server, "/eks/a", "a-pod")] == [0, 2]
    assert [orjson.loads(e["message"])["n"] for e in await read_back(moto_server, "/eks/b", "b-pod")] == [1]
    assert [orjson.loads(e["message"])["n"] for e in await read_back(moto_server, "/eks/other", "/fluentbit-default")] == [3]
    async with aws_client(moto_server, "logs") as logs:
        groups = {g["logGroupName"]: g for g in (await logs.describe_log_groups())["logGroups"]}
        tags = await logs.list_tags_log_group(logGroupName="/eks/a")
    assert set(groups) == {"/eks/a", "/eks/b", "/eks/other"} and groups["/eks/a"].get("retentionInDays") == 7
    assert tags["tags"] == {"team": "logs", "env": "test"}


async def test_go_cloudwatch_without_auto_create_stream_retries_until_the_stream_exists(
    moto_server: MotoServer, moto_proxy: RecordingProxy
) -> None:
    events = [(time.time_ns(), {"n": 1})]
    async with aws_client(moto_server, "logs") as logs:
        await logs.create_log_group(logGroupName="g")
    async with running("cloudwatch", moto_proxy, url_endpoint=True, log_group_name="g", log_stream_name="s",
                       auto_create_stream="false") as out:
        result = await out.flush("t", events)
        assert result.retry == events and "auto_create_stream is false" in result.retry_reason
        assert not moto_proxy.calls("CreateLogStream")
        async with aws_client(moto_server, "logs") as logs:
            await logs.create_log_stream(logGroupName="g", logStreamName="s")
        assert (await out.flush("t", events)).retry == []
    assert [orjson.loads(e["message"]) for e in await read_back(moto_server, "g", "s")] == [{"n": 1}]


async def test_go_cloudwatch_takes_credentials_from_credentials_endpoint(
    moto_server: MotoServer, moto_proxy: RecordingProxy
) -> None:
    async with CredentialsServer() as creds:
        async with running("cloudwatch", moto_proxy, url_endpoint=True, log_group_name="g", log_stream_name="s",
                           auto_create_group="true", credentials_endpoint=f"{creds.url}/creds") as out:
            assert (await out.flush("t", [(time.time_ns(), {"n": 1})])).retry == []
        assert creds.requests >= 1
    signed = [c.headers.get("Authorization", "") for c in moto_proxy.calls("PutLogEvents")]
    assert signed and all("Credential=endpoint-key/" in header for header in signed)
