"""Index names, documents, ids and request splitting of the opensearch output (no network)."""

from __future__ import annotations

import orjson
import pytest

from shipper.errors import ConfigError
from shipper.outputs.opensearch.index import IndexNamer
from shipper.outputs.opensearch.request import body_of, generated_id, replace_dots, split_requests
from tests.factory import make_plugin

TS = 1_709_683_199_900_000_000  # 2024-03-05T23:59:59.900Z


def encode(records: list[dict], tag: str = "kube.app", ts: int = TS, **options: str) -> list[tuple[dict, dict]]:
    output = make_plugin("output", "opensearch", options)
    items = output.encoder.encode(tag, [(ts, r) for r in records])
    return [(orjson.loads(i.action), orjson.loads(i.document)) for i in items]


def namer(**overrides: object) -> IndexNamer:
    settings: dict[str, object] = dict(
        index="fluent-bit", logstash_format=False, logstash_prefix="logstash", logstash_prefix_separator="-",
        logstash_prefix_key=None, logstash_dateformat="%Y.%m.%d", current_time_index=False,
    )
    settings.update(overrides)
    return IndexNamer(**settings)  # type: ignore[arg-type]


def test_logstash_prefix_key_overrides_the_prefix_when_present() -> None:
    n = namer(logstash_format=True, logstash_prefix_key="$kubernetes['namespace_name']", logstash_prefix_separator="_")
    assert n.name("t", {"kubernetes": {"namespace_name": "shop"}}, TS) == "shop_2024.03.05"
    assert n.name("t", {"kubernetes": {}}, TS) == "logstash_2024.03.05"
    assert n.name("t", {"kubernetes": {"namespace_name": "x" * 200}}, TS) == "x" * 128 + "_2024.03.05"


def test_index_template_with_tag_parts_record_keys_and_strftime() -> None:
    n = namer(index="$TAG[1]-$level.%Y%m")
    assert n.name("kube.payments.web", {"level": "warn"}, TS) == "payments-warn.202403"
    assert namer(index="static").constant == "static"
    assert namer(index="daily-%Y.%m.%d").name("t", {}, TS) == "daily-2024.03.05"


def test_current_time_index_ignores_the_record_time() -> None:
    n = namer(logstash_format=True, current_time_index=True)
    assert n.name("t", {}, 0) != "logstash-1970.01.01"


def test_document_starts_with_timestamp_and_tag_and_record_keys_win() -> None:
    (action, doc), (_, own) = encode(
        [{"b": 1, "a": 2}, {"x": 1, "@timestamp": "mine"}], include_tag_key="on", tag_key="tag"
    )
    assert action == {"create": {"_index": "fluent-bit", "_type": "_doc"}}
    assert list(doc) == ["@timestamp", "tag", "b", "a"] and doc["@timestamp"] == "2024-03-05T23:59:59.900Z"
    assert list(own) == ["tag", "x", "@timestamp"] and own["@timestamp"] == "mine"


def test_time_key_options() -> None:
    [(_, doc)] = encode([{}], time_key="ts", time_key_format="%Y/%m/%d %H:%M:%S", time_key_nanos="on")
    assert doc == {"ts": "2024/03/05 23:59:59.900000000Z"}


def test_write_operations_and_ids() -> None:
    output = make_plugin("output", "opensearch", {"write_operation": "upsert", "id_key": "id", "suppress_type_name": "on"})
    [item] = output.encoder.encode("t", [(TS, {"id": "k1", "v": 1})])
    assert item.action == b'{"update":{"_index":"fluent-bit","_id":"k1"}}\n'
    assert item.document.startswith(b'{"doc_as_upsert":true,"doc":{"@timestamp"') and item.document.endswith(b"}}\n")
    [(action, _)] = encode([{"v": 1}], write_operation="index", generate_id="on")
    assert set(action["index"]) == {"_index", "_type", "_id"}


def test_update_without_an_id_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Id_Key or Generate_ID"):
        make_plugin("output", "opensearch", {"write_operation": "update"})


def test_missing_id_key_values_are_sent_without_id_and_counted() -> None:
    output = make_plugin("output", "opensearch", {"id_key": "id"})
    items = output.encoder.encode("t", [(TS, {"id": 5}), (TS, {"other": 1})])
    assert all(b"_id" not in i.action for i in items)
    assert output.encoder.missing_ids == 2


def test_generated_id_depends_on_content_and_time() -> None:
    a = generated_id([("@timestamp", "2024-03-05T10:00:00.000Z")], {"msg": "same"})
    assert a == generated_id([("@timestamp", "2024-03-05T10:00:00.000Z")], {"msg": "same"})
    assert a != generated_id([("@timestamp", "2024-03-05T10:00:00.001Z")], {"msg": "same"})
    assert len(generated_id([("@timestamp", "x")], {"big": 2**70})) == 36, "unpackable ints still get an id"


def test_replace_dots_at_every_depth_later_key_wins() -> None:
    assert replace_dots({"a.b": 1, "l": [{"c.d": {"e.f": 2}}]}) == {"a_b": 1, "l": [{"c_d": {"e_f": 2}}]}
    assert list(replace_dots({"a_b": 1, "x": 0, "a.b": 2}).items()) == [("x", 0), ("a_b", 2)]  # type: ignore[union-attr]


def test_non_ascii_is_escaped_in_index_and_document() -> None:
    output = make_plugin("output", "opensearch", {"index": "$TAG"})
    [item] = output.encoder.encode("tagé", [(TS, {"msg": "café ✓"})])
    assert item.action.isascii() and b"tag\\u00e9" in item.action
    assert b'"caf\\u00e9 \\u2713"' in item.document


def test_split_requests_respects_the_limit_and_keeps_order() -> None:
    output = make_plugin("output", "opensearch", {})
    items = output.encoder.encode("t", [(TS, {"n": i, "pad": "x" * 50}) for i in range(30)])
    batches = list(split_requests(items, 1000))
    assert [i for b in batches for i in b] == items
    assert all(len(body_of(b)) <= 1000 for b in batches) and len(batches) > 1
    big = output.encoder.encode("t", [(TS, {"pad": "x" * 5000})])
    assert [len(b) for b in split_requests(big, 1000)] == [1]


def test_option_validation() -> None:
    with pytest.raises(ConfigError):
        make_plugin("output", "opensearch", {"max_request_size": "10"})
    with pytest.raises(ConfigError):
        make_plugin("output", "opensearch", {"buffer_size": "lots"})
    assert make_plugin("output", "opensearch", {"buffer_size": "false"}) is not None


def test_aws_options_reach_the_shared_aws_settings() -> None:
    output = make_plugin("output", "opensearch", {
        "aws_auth": "on", "aws_region": "eu-west-1", "aws_role_arn": "arn:aws:iam::123456789012:role/logs",
        "aws_external_id": "ext-42", "aws_sts_endpoint": "sts.eu-west-1.amazonaws.com", "aws_profile": "prod",
    })
    aws = output.signer_settings
    assert aws is not None
    assert (aws.region, aws.role_arn, aws.external_id, aws.profile) == (
        "eu-west-1", "arn:aws:iam::123456789012:role/logs", "ext-42", "prod")
    assert aws.sts_endpoint_url() == "https://sts.eu-west-1.amazonaws.com"
    assert make_plugin("output", "opensearch", {}).signer_settings is None
