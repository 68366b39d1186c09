"""The kubernetes filter against a fake API server / kubelet: requests, outages, tokens, TLS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shipper.filters.kubernetes.filter import UNAVAILABLE_METRIC, KubernetesFilter
from tests.factory import make_plugin
from tests.poll import wait_for_async
from tests.servers.kube_api import KubeApiServer, TlsFiles, make_pod, make_tls

DOCKER_ID = "ab" * 32
TOKEN = "token-one"


def tag(pod: str = "web-1", ns: str = "shop", container: str = "nginx") -> str:
    return f"kube.var.log.containers.{pod}_{ns}_{container}-{DOCKER_ID}.log"


def chunk(n: int = 3) -> list[tuple[int, dict[str, Any]]]:
    return [(i, {"stream": "stdout", "log": f"line {i}"}) for i in range(n)]


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    return path


@pytest.fixture
async def api() -> AsyncIterator[KubeApiServer]:
    server = KubeApiServer(tokens={TOKEN})
    server.add_pod(make_pod("shop", "web-1", {"nginx": "nginx:1", "sidecar": "envoy:1"}))
    server.add_pod(make_pod("shop", "web-2", {"nginx": "nginx:1"}))
    async with server:
        yield server


async def started(props: dict[str, str]) -> KubernetesFilter:
    plugin = make_plugin("filter", "kubernetes", props)
    assert isinstance(plugin, KubernetesFilter)
    await plugin.start()
    return plugin


async def test_ten_thousand_records_of_one_pod_make_one_request(api: KubeApiServer, token_file: Path) -> None:
    plugin = await started({"kube_url": api.url, "kube_token_file": str(token_file)})
    try:
        # 10 chunks at once (two containers of the pod), then 10 more one after another
        first = [plugin.process(tag(container=c), chunk(500)) for c in ("nginx", "sidecar") * 5]
        outs = await asyncio.gather(*first)
        for _ in range(10):
            outs.append(await plugin.process(tag(), chunk(500)))
    finally:
        await plugin.stop()
    records = [record for out in outs for _, record in out]
    assert len(records) == 10_000
    assert all("pod_id" in record["kubernetes"] for record in records)
    assert api.count("/pods/web-1") == 1 and len(api.requests) == 1
    assert api.requests[0].authorization == f"Bearer {TOKEN}"


async def test_outage_does_not_stall_and_recovers(api: KubeApiServer, token_file: Path) -> None:
    api.delay = 0.5
    plugin = await started({"kube_url": api.url, "kube_token_file": str(token_file), "kube_meta_wait": "50ms"})
    try:
        out = await plugin.process(tag(), chunk(4))
        assert set(out[0][1]["kubernetes"]) == {"pod_name", "namespace_name", "container_name", "docker_id"}
        assert plugin.metrics.value(UNAVAILABLE_METRIC, name="kubernetes.0") == 4
        async def enriched() -> bool:  # the request carries on in the background and serves a later chunk
            out = await plugin.process(tag(), chunk(1))
            return "pod_id" in out[0][1]["kubernetes"]

        await wait_for_async(enriched, 5, 0.05, "a later chunk enriched by the background request")
        assert api.count("/pods/web-1") == 1
    finally:
        await plugin.stop()


async def test_server_errors_back_off_instead_of_asking_per_chunk(api: KubeApiServer, token_file: Path) -> None:
    api.fail(500, times=1)
    plugin = await started({"kube_url": api.url, "kube_token_file": str(token_file)})
    try:
        for _ in range(20):
            out = await plugin.process(tag(), chunk(1))
            assert "pod_id" not in out[0][1]["kubernetes"]
        assert api.count("/pods/web-1") == 1  # Fluent Bit would have asked 20 times
        for _ in range(60):  # the first backoff is one second
            await asyncio.sleep(0.05)
            out = await plugin.process(tag(), chunk(1))
            if "pod_id" in out[0][1]["kubernetes"]:
                break
        assert "pod_id" in out[0][1]["kubernetes"] and api.count("/pods/web-1") == 2
    finally:
        await plugin.stop()


async def test_unreachable_server_passes_records_with_tag_fields(token_file: Path) -> None:
    server = KubeApiServer()
    await server.start()
    url = server.url
    await server.stop()  # nothing listens there any more
    plugin = await started({"kube_url": url, "kube_token_file": str(token_file)})
    try:
        out = await plugin.process(tag(), chunk(2))
    finally:
        await plugin.stop()
    assert [r["kubernetes"]["pod_name"] for _, r in out] == ["web-1", "web-1"]
    assert plugin.metrics.value(UNAVAILABLE_METRIC, name="kubernetes.0") == 2


async def test_rotated_token_is_read_again_after_a_401(api: KubeApiServer, token_file: Path) -> None:
    plugin = await started({"kube_url": api.url, "kube_token_file": str(token_file)})
    try:
        await plugin.process(tag(), chunk(1))
        token_file.write_text("token-two")
        api.tokens = {"token-two"}
        out = await plugin.process(tag("web-2"), chunk(1))
    finally:
        await plugin.stop()
    assert "pod_id" in out[0][1]["kubernetes"]
    assert [r.authorization for r in api.requests] == ["Bearer token-one", "Bearer token-one", "Bearer token-two"]


async def test_token_is_reread_every_ttl(api: KubeApiServer, token_file: Path) -> None:
    api.tokens = {TOKEN, "token-two"}
    plugin = await started({"kube_url": api.url, "kube_token_file": str(token_file), "kube_token_ttl": "0"})
    try:
        await plugin.process(tag(), chunk(1))
        token_file.write_text("token-two")
        await plugin.process(tag("web-2"), chunk(1))
    finally:
        await plugin.stop()
    assert [r.authorization for r in api.requests] == [f"Bearer {TOKEN}", "Bearer token-two"]


async def test_token_command(api: KubeApiServer) -> None:
    plugin = await started({"kube_url": api.url, "kube_token_command": f"echo {TOKEN}"})
    try:
        out = await plugin.process(tag(), chunk(1))
    finally:
        await plugin.stop()
    assert "pod_id" in out[0][1]["kubernetes"]


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.mark.parametrize(
    ("extra", "verified"),
    [({"kube_ca_file": "CA"}, True), ({"kube_ca_file": "/nonexistent/ca.crt"}, False), ({"tls.verify": "off"}, True)],
)
async def test_tls_with_the_cluster_ca(tls_files: TlsFiles, token_file: Path, extra: dict[str, str], verified: bool) -> None:
    props = {k: (str(tls_files.ca_file) if v == "CA" else v) for k, v in extra.items()}
    async with KubeApiServer(tokens={TOKEN}, tls=tls_files) as server:
        server.add_pod(make_pod("shop", "web-1", {"nginx": "nginx:1"}))
        plugin = await started({"kube_url": server.url, "kube_token_file": str(token_file), **props})
        try:
            out = await plugin.process(tag(), chunk(1))
        finally:
            await plugin.stop()
    assert ("pod_id" in out[0][1]["kubernetes"]) is verified


async def enriched(tls: TlsFiles, token_file: Path, props: dict[str, str]) -> bool:
    """Whether one record got the pod's metadata from an API server serving ``tls``'s certificate."""
    async with KubeApiServer(tokens={TOKEN}, tls=tls) as server:
        server.add_pod(make_pod("shop", "web-1", {"nginx": "nginx:1"}))
        plugin = await started({"kube_url": server.url, "kube_token_file": str(token_file), **props})
        try:
            out = await plugin.process(tag(), chunk(1))
        finally:
            await plugin.stop()
    return "pod_id" in out[0][1]["kubernetes"]


async def test_the_api_servers_host_name_is_verified_by_default(tmp_path: Path, token_file: Path) -> None:
    # a certificate the cluster CA signed, but for another name: a man in the middle inside the cluster
    other = make_tls(tmp_path / "other", hosts=("kubernetes.default.svc",))
    assert not await enriched(other, token_file, {"kube_ca_file": str(other.ca_file)})
    assert await enriched(other, token_file, {"kube_ca_file": str(other.ca_file), "tls.verify_hostname": "off"})


async def test_a_missing_cluster_ca_never_falls_back_to_the_system_store(
    tls_files: TlsFiles, token_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files.ca_file))  # the system store would trust the server
    assert await enriched(tls_files, token_file, {"kube_ca_file": str(tls_files.ca_file)})
    assert not await enriched(tls_files, token_file, {"kube_ca_file": "/nonexistent/ca.crt"})


async def test_kubelet_mode_reads_one_pod_list_for_all_pods(tls_files: TlsFiles, token_file: Path) -> None:
    async with KubeApiServer(tokens={TOKEN}, tls=tls_files) as kubelet:
        for name in ("web-1", "web-2", "web-3"):
            kubelet.add_pod(make_pod("shop", name, {"nginx": "nginx:1"}))
        plugin = await started({
            "use_kubelet": "on", "kubelet_host": "127.0.0.1", "kubelet_port": str(kubelet.port),
            "kube_ca_file": str(tls_files.ca_file), "kube_token_file": str(token_file),
        })
        try:
            outs = await asyncio.gather(*(plugin.process(tag(p), chunk(1)) for p in ("web-1", "web-2", "web-3")))
            missing = await plugin.process(tag("gone-1"), chunk(1))
        finally:
            await plugin.stop()
    assert [out[0][1]["kubernetes"]["pod_name"] for out in outs] == ["web-1", "web-2", "web-3"]
    assert all("pod_id" in out[0][1]["kubernetes"] for out in outs)
    assert "pod_id" not in missing[0][1].get("kubernetes", {})  # tag fields until the list is re-read
    assert kubelet.count("/pods") == 1 and len(kubelet.requests) == 1


async def test_buffer_size_caps_the_answer(api: KubeApiServer, token_file: Path) -> None:
    plugin = await started({"kube_url": api.url, "kube_token_file": str(token_file), "buffer_size": "100"})
    try:
        out = await plugin.process(tag(), chunk(1))
    finally:
        await plugin.stop()
    assert "pod_id" not in out[0][1]["kubernetes"]
    assert plugin.metrics.value(UNAVAILABLE_METRIC, name="kubernetes.0") == 1


async def test_namespace_labels_and_preload_dir(api: KubeApiServer, token_file: Path, tmp_path: Path) -> None:
    api.add_namespace("shop", labels={"team": "checkout"}, annotations={"owner": "a"})
    preload = tmp_path / "preload"
    preload.mkdir()
    (preload / "shop_web-2.meta").write_text('{"metadata": {"uid": "from-file"}}')
    plugin = await started({
        "kube_url": api.url, "kube_token_file": str(token_file), "namespace_labels": "on",
        "kube_meta_preload_cache_dir": str(preload),
    })
    try:
        from_api = await plugin.process(tag(), chunk(1))
        from_file = await plugin.process(tag("web-2"), chunk(1))
    finally:
        await plugin.stop()
    record = from_api[0][1]
    assert list(record)[-2:] == ["kubernetes", "kubernetes_namespace"]
    assert record["kubernetes_namespace"] == {
        "name": "shop", "labels": {"kubernetes.io/metadata.name": "shop", "team": "checkout"},
    }
    assert from_file[0][1]["kubernetes"]["pod_id"] == "from-file"
    assert api.count("/pods/web-2") == 0
    assert [r.path for r in api.requests].count("/api/v1/namespaces/shop") == 1


@pytest.mark.parametrize(("use_docker_id", "requests"), [("off", 1), ("on", 2)])
async def test_cache_use_docker_id(api: KubeApiServer, token_file: Path, use_docker_id: str, requests: int) -> None:
    plugin = await started({"kube_url": api.url, "kube_token_file": str(token_file), "cache_use_docker_id": use_docker_id})
    try:
        await plugin.process(tag(), chunk(1))
        restarted = tag().replace(DOCKER_ID, "cd" * 32)  # the container restarted with a new id
        await plugin.process(restarted, chunk(1))
        # the refresh runs in the background; the old metadata serves meanwhile
        await wait_for_async(lambda: api.count("/pods/web-1") >= requests, 5, 0.01, f"{requests} pod requests")
        out = await plugin.process(restarted, chunk(1))
    finally:
        await plugin.stop()
    assert api.count("/pods/web-1") == requests
    assert out[0][1]["kubernetes"]["docker_id"] == "cd" * 32


async def test_kubelet_list_is_read_again_for_a_new_pod(tls_files: TlsFiles, token_file: Path) -> None:
    async with KubeApiServer(tokens={TOKEN}, tls=tls_files) as kubelet:
        kubelet.add_pod(make_pod("shop", "web-1", {"nginx": "nginx:1"}))
        plugin = await started({
            "use_kubelet": "on", "kubelet_host": "127.0.0.1", "kubelet_port": str(kubelet.port),
            "kube_ca_file": str(tls_files.ca_file), "kube_token_file": str(token_file),
        })
        try:
            await plugin.process(tag("web-1"), chunk(1))
            kubelet.add_pod(make_pod("shop", "web-2", {"nginx": "nginx:1"}))  # scheduled later

            async def found() -> bool:  # within a second of the last list the lookup backs off, then re-reads
                out = await plugin.process(tag("web-2"), chunk(1))
                return "pod_id" in out[0][1]["kubernetes"]

            await wait_for_async(found, 3, 0.05, "the new pod found in a second list")
        finally:
            await plugin.stop()
    assert kubelet.count("/pods") == 2
