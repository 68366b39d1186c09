"""Dry-run reads pod metadata from the config's ``Kube_Meta_Preload_Cache_Dir``, as ``run`` would.

Fluent Bit's preload files are named ``<namespace>_<pod>.meta`` and hold the
Pod object the API server would return; ``--kube-meta-dir`` overrides the
directory for a dry-run.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import shipper

POD, NAMESPACE, CONTAINER = "cart-6d8f7b9c5-q4w2e", "shop", "cart"
DOCKER_ID = "ab" * 32
LOG_NAME = f"{POD}_{NAMESPACE}_{CONTAINER}-{DOCKER_ID}.log"

CONFIG = """
[INPUT]
    Name              tail
    Path              /var/log/containers/*.log
    Tag               kube.*
    multiline.parser  cri
    Read_from_Head    On
[FILTER]
    Name                         kubernetes
    Match                        kube.*
    Kube_Meta_Preload_Cache_Dir  {meta}
[OUTPUT]
    Name    file
    Match   *
    Path    {out}
    Format  plain
"""


def pod(labels: dict[str, str]) -> dict:
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"name": POD, "namespace": NAMESPACE, "uid": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "labels": labels},
        "spec": {"nodeName": "node-7", "containers": [{"name": CONTAINER, "image": "registry.example/cart:3.1"}]},
        "status": {"containerStatuses": [{"name": CONTAINER, "image": "registry.example/cart:3.1",
                                           "containerID": f"containerd://{DOCKER_ID}"}]},
    }


def setup(tmp_path: Path) -> tuple[Path, Path]:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / LOG_NAME).write_text('2026-11-20T10:15:01.000000000Z stdout F {"msg":"added to cart"}\n')
    meta = tmp_path / "meta"
    meta.mkdir()
    (meta / f"{NAMESPACE}_{POD}.meta").write_text(json.dumps(pod({"app": "cart", "team": "checkout"})))
    config = tmp_path / "fluent-bit.conf"
    config.write_text(CONFIG.format(meta=meta, out=tmp_path / "out"))
    return config, logs


def kubernetes_maps(stdout: str) -> list[dict]:
    return [json.loads(json.loads(line)["payload"])["kubernetes"] for line in stdout.splitlines()]


def test_dry_run_uses_the_preload_cache_dir_of_the_config(tmp_path: Path) -> None:
    config, logs = setup(tmp_path)
    result = shipper("dry-run", "-c", str(config), "--log-dir", str(logs))
    assert result.returncode == 0, result.stderr
    (kube,) = kubernetes_maps(result.stdout)
    assert kube["labels"] == {"app": "cart", "team": "checkout"}
    assert kube["pod_id"] == "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    assert kube["container_image"] == "registry.example/cart:3.1"
    assert kube["host"] == "node-7"


def test_kube_meta_dir_overrides_the_config(tmp_path: Path) -> None:
    config, logs = setup(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / f"{NAMESPACE}_{POD}.meta").write_text(json.dumps(pod({"app": "cart", "release": "canary"})))
    result = shipper("dry-run", "-c", str(config), "--log-dir", str(logs), "--kube-meta-dir", str(other))
    assert result.returncode == 0, result.stderr
    (kube,) = kubernetes_maps(result.stdout)
    assert kube["labels"] == {"app": "cart", "release": "canary"}
