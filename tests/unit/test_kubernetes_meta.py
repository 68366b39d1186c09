"""The kubernetes map (Fluent Bit's keys and order) and the fluentbit.io annotations."""

from __future__ import annotations

from typing import Any

from shipper.filters.kubernetes.annotations import logging_props
from shipper.filters.kubernetes.podmeta import find_in_pod_list, kubernetes_map, namespace_map, strip_scheme
from shipper.filters.kubernetes.tag import PodRef
from tests.servers.kube_api import make_pod

REF = PodRef("web-1", "shop", "nginx", "ab" * 32)


def test_map_keys_in_fluent_bit_order() -> None:
    pod = make_pod("shop", "web-1", {"nginx": "docker.io/library/nginx:1.25.3"}, annotations={"a": "b"})
    kube = kubernetes_map(pod, REF)
    assert list(kube) == [
        "pod_name", "namespace_name", "pod_id", "labels", "annotations", "host", "pod_ip",
        "container_name", "docker_id", "container_hash", "container_image",
    ]
    assert kube["docker_id"] == "ab" * 32  # the tag's id wins over the status'
    assert kube["container_image"] == "docker.io/library/nginx:1.25.3"
    assert kube["container_hash"].startswith("docker.io/library/nginx@sha256:")
    assert kube["host"] == "node-a-1"


def test_labels_annotations_off_owner_references_on() -> None:
    pod = make_pod("shop", "web-1", {"nginx": "nginx:1"}, annotations={"a": "b"})
    kube = kubernetes_map(pod, REF, labels=False, annotations=False, owner_references=True)
    assert list(kube)[:4] == ["pod_name", "namespace_name", "pod_id", "ownerReferences"]
    assert kube["ownerReferences"][0]["kind"] == "ReplicaSet"


def test_docker_id_from_status_when_the_tag_has_none() -> None:
    pod = make_pod("shop", "web-1", {"nginx": "nginx:1"})
    kube = kubernetes_map(pod, PodRef("web-1", "shop", "nginx", None))
    assert kube["docker_id"] == "10" * 32


def test_empty_object_gives_the_tag_fields() -> None:
    assert kubernetes_map({}, REF) == REF.tag_fields()


def test_strip_scheme() -> None:
    assert strip_scheme("containerd://abc") == "abc"
    assert strip_scheme("docker-pullable://nginx@sha256:00") == "nginx@sha256:00"
    assert strip_scheme("registry/x@sha256:00") == "registry/x@sha256:00"
    assert strip_scheme("noscheme") is None
    assert strip_scheme(None) is None


def test_namespace_map_and_pod_list() -> None:
    obj = {"metadata": {"name": "shop", "labels": {"team": "a"}, "annotations": {"x": "y"}}}
    assert namespace_map("shop", obj, True, False) == {"name": "shop", "labels": {"team": "a"}}
    pods = {"items": [make_pod("a", "p"), make_pod("shop", "web-1")]}
    found = find_in_pod_list(pods, "shop", "web-1")
    assert found is not None and found["metadata"]["namespace"] == "shop"
    assert find_in_pod_list(pods, "shop", "nope") is None


def props(annotations: dict[str, Any], container: str = "app", parsers: tuple[str, ...] = ("kv", "json")):
    warnings: list[str] = []
    result = logging_props(annotations, container, True, True, lambda n: n in parsers, warnings.append)
    return result, warnings


def test_container_specific_parser_wins_whatever_the_order() -> None:
    p, _ = props({"fluentbit.io/parser_stderr-app": "json", "fluentbit.io/parser": "kv"})
    assert (p.parser_for("stdout"), p.parser_for("stderr"), p.parser_for(None)) == ("kv", "json", None)


def test_unknown_parser_and_unknown_annotation_warn() -> None:
    p, warnings = props({"fluentbit.io/parser-app": "missing", "fluentbit.io/unknown": "x", "fluentbit.io/parser_x": "kv"})
    assert p.parser_for("stdout") is None
    assert len(warnings) == 3


def test_exclude_rules() -> None:
    p, _ = props({"fluentbit.io/exclude_stderr": "true", "fluentbit.io/exclude-debug": "true"})
    assert (p.excluded("stdout"), p.excluded("stderr"), p.excluded(None)) == (False, True, False)
    debug, _ = props({"fluentbit.io/exclude-debug": "true"}, container="debug")
    assert debug.excluded("stdout") and debug.excluded(None)
    kept, _ = props({"fluentbit.io/exclude": "false"})
    assert not kept.active


def test_annotations_ignored_when_not_allowed() -> None:
    warnings: list[str] = []
    p = logging_props({"fluentbit.io/exclude": "true", "fluentbit.io/parser": "kv"}, "app", False, False,
                      lambda n: True, warnings.append)
    assert not p.active and len(warnings) == 2
