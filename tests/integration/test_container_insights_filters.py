"""The Container Insights fixture's filter chain, built from the config as it is, on each kind of tag.

Dry-run never asks IMDS, so the ``aws`` filters are checked here against the fake IMDS: the
manifest matches them on ``dataplane.*`` and ``host.*``, which must cover the systemd input's
unit tags, the dataplane tail's file tags and the host files' fixed tags, and nothing of
``application.*``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from shipper.config.loader import load_config
from shipper.engine.router import matcher
from shipper.errors import ConfigErrors
from shipper.pipeline import Pipeline, build
from tests.e2e.test_container_insights import ENV, MANIFEST
from tests.servers.imds import ImdsServer

TAGS = {
    "dataplane.systemd.kubelet.service": {"_HOSTNAME": "node-a", "_SYSTEMD_UNIT": "kubelet.service",
                                           "MESSAGE": "ready", "PRIORITY": "6"},
    "dataplane.tail.var.log.containers.aws-node-m2x7p_kube-system_aws-node-0a1b.log": {"log": "ipamd started\n"},
    "host.dmesg": {"message": "[    1.204411] ena 0000:00:05.0: ENA device"},
    "host.secure": {"host": "node-a", "ident": "sshd", "message": "Accepted publickey"},
    "application.var.log.containers.shop-api_shop_api-0a1b.log": {"log": "GET /health 200\n"},
}


@pytest.fixture
async def pipeline(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Pipeline]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    async with ImdsServer() as imds:
        monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url)
        built = build(load_config(str(MANIFEST)))
        # the kubernetes filter is not started: its Kube_URL is the cluster's, and tests stay on loopback
        started = [plugin for plugin in built.filters if plugin.name != "kubernetes"]
        for plugin in started:
            await plugin.start()
        try:
            yield built
        finally:
            for plugin in started:
                await plugin.stop()


async def through_filters(pipeline: Pipeline, tag: str, record: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """The names of the filters a tag meets, in order, and the record they leave."""
    events = [(0, dict(record))]
    met = []
    for plugin in pipeline.filters:
        if matcher(plugin.settings.get("match"), plugin.settings.get("match_regex"))(tag):
            met.append(plugin.name)
            if plugin.name != "kubernetes":  # needs the API server; test_kubernetes_* cover it
                events = await plugin.process(tag, events)
    return met, events[0][1]


async def test_aws_metadata_on_dataplane_and_host_tags_only(pipeline: Pipeline) -> None:
    results = {tag: await through_filters(pipeline, tag, record) for tag, record in TAGS.items()}
    for tag, (met, record) in results.items():
        if tag.startswith("application."):
            assert met == ["kubernetes"] and "ec2_instance_id" not in record
        else:
            assert "aws" in met, tag
            assert record["az"] == "us-west-2c" and record["ec2_instance_id"] == "i-0c862eca9038f5aae", tag
    journal_met, journal_record = results["dataplane.systemd.kubelet.service"]
    assert journal_met == ["modify", "aws"]
    assert journal_record == {"hostname": "node-a", "systemd_unit": "kubelet.service", "message": "ready",
                              "az": "us-west-2c", "ec2_instance_id": "i-0c862eca9038f5aae"}


def test_storage_backlog_mem_limit_is_a_size(tmp_path: Any) -> None:
    text = MANIFEST.read_text().replace("storage.backlog.mem_limit 5M", "storage.backlog.mem_limit lots")
    broken = tmp_path / "fluent-bit.yaml"
    broken.write_text(text)
    with pytest.raises(ConfigErrors) as info:
        build(load_config(str(broken)))
    assert "storage.backlog.mem_limit" in str(info.value) and "expected a size" in str(info.value)
