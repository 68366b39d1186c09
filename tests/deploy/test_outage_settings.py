"""Every config we ship rides out a destination outage of at least ten minutes without dropping a line.

Fluent Bit's (and so shipper's) default ``Retry_Limit`` is 1: a chunk is
retried once, a few seconds later, and then dropped.  So every output that
sends over the network must say ``Retry_Limit no_limits``, the backoff must
be capped so the backlog goes out soon after the destination comes back, and
where the config has ``storage.path`` every tail input buffers to it, so the
backlog survives a restart and kubelet's log rotation during the outage
(docs/reliability.md, "The shipped configurations").  The outage itself is
run by ``python -m bench.reliability shipped``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shipper.config.loader import load_config
from shipper.config.model import ConfigDocument
from shipper.options import parse_retry_limit
from tests.deploy.shipped import DEPLOY, SAMPLE_ENV, shipped_configs

CONFIG = DEPLOY.parent / "config"
#: outputs that write locally: nothing to wait for.
LOCAL_OUTPUTS = frozenset({"stdout", "file", "null", "counter"})
#: the longest wait between two retries once the destination is back.
MAX_BACKOFF_CAP = 120.0

PATHS = sorted({c.path for c in shipped_configs()} | {CONFIG / n for n in ("fluent-bit.conf", "fluent-bit.yaml",
                                                                         "fargate-aws-logging.yaml", "sidecar.conf")})


def loaded(path: Path) -> ConfigDocument:
    document = load_config(str(path), environ=SAMPLE_ENV)
    assert document.errors == [], document.errors
    return document


def shown(path: Path) -> str:
    return str(path.relative_to(DEPLOY.parent))


@pytest.mark.parametrize("path", PATHS, ids=shown)
def test_network_outputs_retry_without_limit(path: Path) -> None:
    document = loaded(path)
    for output in document.outputs:
        if output.plugin_name in LOCAL_OUTPUTS:
            continue
        limit = output.get("retry_limit") or "1"
        assert parse_retry_limit(limit) is None, (
            f"{shown(path)}: [OUTPUT] {output.plugin_name} has Retry_Limit {limit}: a chunk is dropped after "
            f"{limit} retr{'y' if limit == '1' else 'ies'}, seconds into an outage"
        )


@pytest.mark.parametrize("path", PATHS, ids=shown)
def test_the_backoff_is_capped_where_the_service_can_be_set(path: Path) -> None:
    document = loaded(path)
    if document.fargate is not None or not document.service:
        pytest.skip("Fargate's [SERVICE] is AWS's, not the ConfigMap's")
    if all(o.plugin_name in LOCAL_OUTPUTS for o in document.outputs):
        pytest.skip("no network output")
    cap = document.service[0].get("scheduler.cap")
    assert cap is not None and float(cap) <= MAX_BACKOFF_CAP, (
        f"{shown(path)}: scheduler.cap {cap or '2000 (the default)'}: after a long outage the next retry may be "
        "half an hour away"
    )


@pytest.mark.parametrize("path", PATHS, ids=shown)
def test_tail_inputs_buffer_on_disk_where_storage_is_configured(path: Path) -> None:
    document = loaded(path)
    if not any(s.get("storage.path") for s in document.service):
        pytest.skip("no storage.path: tail pauses at Mem_Buf_Limit and the files are the buffer")
    for tail in (s for s in document.inputs if s.plugin_name == "tail"):
        assert (tail.get("storage.type") or "memory").lower() == "filesystem", (
            f"{shown(path)}: tail {tail.get('path')} buffers in memory though storage.path is set"
        )
        assert tail.get("db"), f"{shown(path)}: tail {tail.get('path')} has no DB: a restart reads from the end"
