"""Which pod a tag names: Fluent Bit's default regex and its prefix-length rule (golden 37)."""

from __future__ import annotations

import re

from shipper.filters.kubernetes.tag import TagParser

DOCKER_ID = "674d8a645a1fbd5749c85d4afc7013b435463a506ffa34fd54e36d49993c4144"
FILE = f"web-7d9f8c6b5d-x2lqp_shop_nginx-{DOCKER_ID}.log"


def test_default_prefix_and_regex() -> None:
    ref = TagParser("kube.var.log.containers.").parse(f"kube.var.log.containers.{FILE}")
    assert ref is not None
    assert (ref.pod_name, ref.namespace_name, ref.container_name, ref.docker_id) == (
        "web-7d9f8c6b5d-x2lqp", "shop", "nginx", DOCKER_ID,
    )
    assert ref.key == ("shop", "web-7d9f8c6b5d-x2lqp")
    assert list(ref.tag_fields()) == ["pod_name", "namespace_name", "container_name", "docker_id"]


def test_prefix_is_not_compared_only_its_length_is_skipped() -> None:
    parser = TagParser("app.k8s.")
    same_length = parser.parse(f"foo.k8s.{FILE}")
    longer = parser.parse(f"longer.k8s.{FILE}")
    assert same_length is not None and same_length.pod_name == "web-7d9f8c6b5d-x2lqp"
    assert longer is not None and longer.pod_name == "8s.web-7d9f8c6b5d-x2lqp"


def test_tags_that_name_no_pod() -> None:
    parser = TagParser("kube.var.log.containers.")
    assert parser.parse("kube.var.log.containers.x") is None
    assert parser.parse("kube.var.log.containers.not-a-container-log.txt") is None
    assert parser.parse("short") is None


def test_custom_regex_anchors_after_the_prefix() -> None:
    regex = re.compile(r"^(?P<namespace_name>[^.]+)\.(?P<pod_name>[^.]+)\.(?P<container_name>[^.]+)$")
    ref = TagParser("k8s.", regex).parse("k8s.shop.web-1.nginx")
    assert ref is not None and (ref.namespace_name, ref.pod_name, ref.container_name, ref.docker_id) == (
        "shop", "web-1", "nginx", None,
    )
    assert list(ref.tag_fields()) == ["pod_name", "namespace_name", "container_name"]


def test_results_are_memoised_per_tag() -> None:
    parser = TagParser("kube.var.log.containers.")
    tag = f"kube.var.log.containers.{FILE}"
    assert parser.parse(tag) is parser.parse(tag)
