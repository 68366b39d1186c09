"""The kubernetes filter without a network: dry-run, tag-only, dummy, config errors, per-chunk rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shipper.errors import ConfigError
from shipper.filters.kubernetes.filter import EXCLUDED_METRIC, TAG_MISMATCH_METRIC, KubernetesFilter
from shipper.plugin import DryRun
from tests.factory import make_context, make_plugin
from tests.servers.kube_api import make_pod

DOCKER_ID = "ab" * 32
TAG = f"kube.var.log.containers.web-1_shop_nginx-{DOCKER_ID}.log"


def events(n: int = 3, stream: str = "stdout", log: str = "hello") -> list[tuple[int, dict[str, Any]]]:
    return [(i, {"stream": stream, "log": log}) for i in range(n)]


def kube_filter(props: dict[str, str] | None = None, dry_run: DryRun | None = None, **parsers: Any) -> KubernetesFilter:
    context = make_context()
    context.dry_run = dry_run
    context.parsers = parsers
    plugin = make_plugin("filter", "kubernetes", props or {}, context=context)
    assert isinstance(plugin, KubernetesFilter)
    return plugin


async def test_dry_run_reads_pod_files_and_shares_one_map(tmp_path: Path) -> None:
    (tmp_path / "shop_web-1.meta").write_text(json.dumps(make_pod("shop", "web-1", {"nginx": "nginx:1"})))
    plugin = kube_filter(dry_run=DryRun(log_dir=tmp_path, kube_meta_dir=tmp_path))
    await plugin.start()
    out = await plugin.process(TAG, events())
    await plugin.stop()
    maps = [record["kubernetes"] for _, record in out]
    assert maps[0]["container_image"] == "nginx:1" and maps[0]["docker_id"] == DOCKER_ID
    assert all(m is maps[0] for m in maps)  # shared, not copied per record


async def test_dry_run_pod_without_a_file_gets_no_map(tmp_path: Path) -> None:
    plugin = kube_filter(dry_run=DryRun(log_dir=tmp_path, kube_meta_dir=tmp_path))
    out = await plugin.process(TAG, events(1))
    assert "kubernetes" not in out[0][1]


async def test_dry_run_without_a_directory_adds_tag_fields(tmp_path: Path) -> None:
    plugin = kube_filter(dry_run=DryRun(log_dir=tmp_path))
    out = await plugin.process(TAG, events(1))
    assert out[0][1]["kubernetes"] == {
        "pod_name": "web-1", "namespace_name": "shop", "container_name": "nginx", "docker_id": DOCKER_ID,
    }


async def test_use_tag_for_meta_and_dummy_meta() -> None:
    out = await kube_filter({"use_tag_for_meta": "on"}).process(TAG, events(1))
    assert out[0][1]["kubernetes"]["pod_name"] == "web-1"
    out = await kube_filter({"dummy_meta": "on"}).process(TAG, events(1))
    assert list(out[0][1]["kubernetes"]) == ["dummy"]


async def test_tag_that_names_no_pod_passes_unchanged_and_is_counted() -> None:
    plugin = kube_filter({"use_tag_for_meta": "on", "merge_log": "on"})
    chunk = events(2, log='{"a":1}')
    out = await plugin.process("kube.something.else", chunk)
    assert out == events(2, log='{"a":1}')
    assert plugin.metrics.value(TAG_MISMATCH_METRIC, name="kubernetes.0") == 2


async def test_existing_kubernetes_key_is_replaced_at_the_end() -> None:
    plugin = kube_filter({"use_tag_for_meta": "on"})
    out = await plugin.process(TAG, [(1, {"kubernetes": "old", "log": "x"})])
    assert list(out[0][1]) == ["log", "kubernetes"] and out[0][1]["kubernetes"]["pod_name"] == "web-1"


async def test_exclusion_by_stream(tmp_path: Path) -> None:
    pod = make_pod("shop", "web-1", {"nginx": "nginx:1"}, annotations={"fluentbit.io/exclude_stderr": "true"})
    (tmp_path / "shop-web-1.json").write_text(json.dumps(pod))
    plugin = kube_filter({"k8s-logging.exclude": "on"}, dry_run=DryRun(log_dir=tmp_path, kube_meta_dir=tmp_path))
    chunk = events(2) + events(3, stream="stderr") + [(9, {"log": "no stream"})]
    out = await plugin.process(TAG, chunk)
    assert [r.get("stream") for _, r in out] == ["stdout", "stdout", None]
    assert plugin.metrics.value(EXCLUDED_METRIC, name="kubernetes.0") == 3


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"kube_url": "kubernetes.default.svc"}, "http:// or https://"),
        ({"merge_parser": "nope"}, "not a defined"),
        ({"use_journal": "on"}, "not supported"),
        ({"regex_parser": "json"}, "not a regex parser"),
    ],
)
def test_config_errors(props: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        kube_filter(props, json=object())


def parsers_from(**definitions: dict[str, str]) -> dict[str, Any]:
    from shipper.config.model import Section
    from shipper.errors import Location
    from shipper.options import Property
    from shipper.parsers import build_parsers

    where = Location("<test>", 1)
    sections = [
        Section("parser", [Property("name", name, where)] + [Property(k, v, where) for k, v in props.items()], where)
        for name, props in definitions.items()
    ]
    errors: list[ConfigError] = []
    built = build_parsers(sections, errors)
    assert not errors
    return built


async def test_regex_parser_reads_the_tag() -> None:
    parsers = parsers_from(
        tagre={"format": "regex", "regex": r"^(?<namespace_name>[^.]+)\.(?<pod_name>[^.]+)\.(?<container_name>[^.]+)$"}
    )
    plugin = kube_filter({"use_tag_for_meta": "on", "regex_parser": "tagre", "kube_tag_prefix": "k8s."}, **parsers)
    out = await plugin.process("k8s.shop.web-1.nginx", events(1))
    assert out[0][1]["kubernetes"] == {"pod_name": "web-1", "namespace_name": "shop", "container_name": "nginx"}


async def test_merge_parser_sets_the_time(tmp_path: Path) -> None:
    parsers = parsers_from(kv={"format": "regex", "regex": r"^(?<method>[A-Z]+) (?<path>\S+)$"})
    plugin = kube_filter({"use_tag_for_meta": "on", "merge_log": "on", "merge_parser": "kv"}, **parsers)
    out = await plugin.process(TAG, [(5, {"log": "GET /x"}), (6, {"log": "no match"})])
    assert out[0][1]["method"] == "GET" and out[0][0] > 5  # no Time_Key: the time is now
    assert out[1] == (6, {"log": "no match", "kubernetes": out[1][1]["kubernetes"]})
