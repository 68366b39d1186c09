"""The Go plugin name cloudwatch: its option table, $(...) templates, default names, sanitising, Go JSON messages."""

from __future__ import annotations

import time

import pytest

from shipper.errors import ConfigError
from shipper.outputs.cloudwatch import GoTemplate, parse_group_tags
from tests.factory import make_plugin

NOW = time.time_ns()
K8S = {"kubernetes": {"namespace_name": "shop", "pod_name": "web-1", "labels": {"app": "web"}}, "log": "hi"}


def output(**options: str):
    return make_plugin("output", "cloudwatch", {"region": "us-east-1", **options})


def destinations(out, tag: str, records: list[dict]) -> list[dict]:
    return [item.destination for item in out.dry_run(tag, [(NOW, r) for r in records]).items]


def test_kubernetes_templates_name_group_and_stream() -> None:
    out = output(log_group_name="/eks/$(kubernetes['namespace_name'])/$(kubernetes['labels']['app'])",
                 log_stream_name="$(kubernetes['pod_name']).$(tag[1]).$(tag)")
    assert destinations(out, "kube.var.log", [K8S]) == [{"log_group": "/eks/shop/web", "log_stream": "web-1.var.kube.var.log"}]


def test_a_missing_value_falls_back_to_the_default_names_and_is_counted() -> None:
    out = output(log_group_name="/eks/$(kubernetes['namespace_name'])", log_stream_name="$(tag[5])",
                 default_log_group_name="fallback-group")
    assert destinations(out, "a.b", [{"log": "no k8s"}, K8S]) == [
        {"log_group": "fallback-group", "log_stream": "/fluentbit-default"},
        {"log_group": "/eks/shop", "log_stream": "/fluentbit-default"},
    ]
    assert out.metrics.value("shipper_cloudwatch_template_fallbacks_total", name=out.instance_name) == 2


def test_names_are_sanitised_as_the_go_plugin_does() -> None:
    out = output(log_group_name="my group:$(log)#", log_stream_name="a:b*$(log)")
    assert destinations(out, "t", [{"log": "x y\u00e9"}]) == [{"log_group": "my.group.x.y...", "log_stream": "a.b.x y\u00e9"}]
    long = GoTemplate("$(log)", __import__("re").compile(rb"[:*]"), "u").render({"log": "z" * 600}, "t")
    assert long == "z" * 512


def test_log_stream_prefix_appends_the_tag_and_uuid_is_stable() -> None:
    out = output(log_group_name="g-$(uuid)", log_stream_prefix="from-fb-")
    first, second = destinations(out, "app.x", [{"a": 1}, {"a": 2}])
    assert first == second and first["log_stream"] == "from-fb-app.x" and len(first["log_group"]) == 2 + 27


def test_ecs_placeholders_fall_back_outside_ecs() -> None:
    out = output(log_group_name="g", log_stream_name="$(ecs_task_id)")
    assert destinations(out, "t", [{"a": 1}]) == [{"log_group": "g", "log_stream": "/fluentbit-default"}]


def test_messages_are_go_json_or_the_log_key_value_trimmed() -> None:
    out = output(log_group_name="g", log_stream_name="s")
    items = out.dry_run("t", [(NOW, {"z": 1, "a": "<&>"})]).items
    assert items[0].payload == '{"a":"\\u003c\\u0026\\u003e","z":1}'
    keyed = output(log_group_name="g", log_stream_name="s", log_key="log")
    items = keyed.dry_run("t", [(NOW, {"log": "  text \n"}), (NOW, {"log": {"n": 1}}), (NOW, {"x": 1})]).items
    assert [(i.payload, i.refused) for i in items] == [("text", None), ('{"n":1}', None), ("", "missing_log_key")]


def test_group_tags_parse_like_the_go_plugin() -> None:
    assert parse_group_tags(" team=logs, cost center = 42 ,=x,flag,team=ops") == {"team": "ops", "cost center": "42", "flag": ""}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"port": "443"}, "unknown option 'port'"),
        ({"log_retention_days": "10"}, "log_retention_days 10"),
    ],
)
def test_check_names_what_the_go_plugin_or_cloudwatch_would_refuse(options: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        output(log_group_name="g", log_stream_name="s", **options)
