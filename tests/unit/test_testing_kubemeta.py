"""A case's kube_meta becomes the files Kube_Meta_Preload_Cache_Dir holds, read by the real DirectorySource."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from shipper.filters.kubernetes.client import DirectorySource
from shipper.filters.kubernetes.podmeta import kubernetes_map
from shipper.filters.kubernetes.tag import TagParser
from shipper.testing.kubemeta import write_kube_meta
from shipper.testing.spec import SpecError

PATH = "/var/log/containers/web-1_shop_nginx-" + "0" * 64 + ".log"


async def test_the_short_form_gives_what_the_filter_adds(tmp_path: Path) -> None:
    write_kube_meta(
        ({"labels": {"team": "a"}, "pod_id": "uid-1", "host": "node-1", "pod_ip": "10.0.0.7",
          "containers": {"nginx": {"image": "nginx:1.27", "image_id": "docker-pullable://nginx@sha256:ab"}},
          "namespace_labels": {"tier": "prod"}},),
        tmp_path, PATH, "kube_meta",
    )
    source = DirectorySource(tmp_path, None, logging.getLogger("test"))
    pod = await source.pod("shop", "web-1")  # names taken from the path
    ref = TagParser("kube.var.log.containers.").parse("kube" + PATH.replace("/", "."))
    assert ref is not None
    assert kubernetes_map(pod, ref) == {
        "pod_name": "web-1", "namespace_name": "shop", "pod_id": "uid-1", "labels": {"team": "a"},
        "host": "node-1", "pod_ip": "10.0.0.7", "container_name": "nginx", "docker_id": "0" * 64,
        "container_hash": "nginx@sha256:ab", "container_image": "nginx:1.27",
    }
    assert (await source.namespace("shop"))["metadata"]["labels"] == {"tier": "prod"}


async def test_a_whole_pod_object_is_written_as_given(tmp_path: Path) -> None:
    obj = {"metadata": {"name": "api-0", "namespace": "jobs", "annotations": {"a": "b"}}}
    write_kube_meta(({"object": obj},), tmp_path, None, "kube_meta")
    assert await DirectorySource(tmp_path, None, logging.getLogger("test")).pod("jobs", "api-0") == obj


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"labels": {}}, "give 'namespace' and 'pod'"),
        ({"namespace": "n", "pod": "p", "label": {}}, "unknown key(s) label"),
        ({"namespace": "n", "pod": "p", "containers": {"c": {"tag": "x"}}}, "containers.c: allowed keys"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, entry: dict, message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        write_kube_meta((entry,), tmp_path, None, "kube_meta")
