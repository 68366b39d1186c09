"""The opensearch output's SigV4 signing (es and aoss) and TLS, verified by the fake server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from shipper.errors import ConfigError
from shipper.outputs.opensearch import OpenSearchOutput
from shipper.outputs.result import FlushResult
from tests.factory import make_plugin
from tests.servers.kube_api import make_tls
from tests.servers.opensearch import FakeOpenSearch, SigV4Expectation

KEY, SECRET, TOKEN = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token-1"
RECORD = [(1_709_632_800_000_000_000, {"msg": "signed"})]


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Static credentials in the environment; no shared files, no instance metadata."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


async def flush_once(server: FakeOpenSearch, **options: Any) -> FlushResult:
    props = {"host": "127.0.0.1", "port": str(server.port), **{k: str(v) for k, v in options.items()}}
    output = make_plugin("output", "opensearch", props)
    assert isinstance(output, OpenSearchOutput)
    await output.start()
    try:
        return await output.flush("t", RECORD)
    finally:
        await output.stop()


@pytest.mark.parametrize("service", ["es", "aoss"])
async def test_sigv4_signature_verifies(aws_env: None, service: str) -> None:
    expect = SigV4Expectation(KEY, SECRET, "eu-west-1", service, token=TOKEN)
    async with FakeOpenSearch(sigv4=expect) as server:
        await flush_once(server, aws_auth="on", aws_region="eu-west-1", aws_service_name=service, compress="gzip")
    headers = server.requests[0].headers
    assert f"/eu-west-1/{service}/aws4_request" in headers["Authorization"]
    assert "x-amz-content-sha256" in headers["Authorization"].split("SignedHeaders=")[1]
    assert headers["X-Amz-Security-Token"] == TOKEN
    assert len(server.all_documents()) == 1


async def test_wrong_secret_is_refused_and_retried(aws_env: None) -> None:
    expect = SigV4Expectation(KEY, "another-secret", "eu-west-1", "es", token=TOKEN)
    async with FakeOpenSearch(sigv4=expect) as server:
        result = await flush_once(server, aws_auth="on", aws_region="eu-west-1")
        assert re.search("403", result.retry_reason)
    assert server.all_documents() == []


async def test_aoss_requires_the_payload_hash_header(aws_env: None) -> None:
    """The fake server enforces what Serverless enforces: an unsigned-payload request fails."""
    expect = SigV4Expectation(KEY, SECRET, "eu-west-1", "aoss", token=TOKEN)
    async with FakeOpenSearch(sigv4=expect) as server:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://127.0.0.1:{server.port}/_bulk", data=b"{}\n") as response:
                assert response.status == 403


def test_aws_auth_needs_a_region() -> None:
    with pytest.raises(ConfigError, match="AWS_Region"):
        make_plugin("output", "opensearch", {"aws_auth": "on"})


async def test_tls_with_a_generated_ca(tmp_path: Path) -> None:
    tls = make_tls(tmp_path / "tls")
    async with FakeOpenSearch(ssl_context=tls.server_context()) as server:
        await flush_once(server, tls="on", **{"tls.ca_file": str(tls.ca_file)})
        await flush_once(server, tls="on", **{"tls.verify": "off"})
        result = await flush_once(server, tls="on")
        assert re.search("[Cc]ertificate", result.retry_reason)
    assert len(server.all_documents()) == 2


async def test_missing_credentials_are_retryable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    async with FakeOpenSearch() as server:
        result = await flush_once(server, aws_auth="on", aws_region="eu-west-1")
        assert re.search("NoCredentials", result.retry_reason)
    assert server.requests == []
