"""The bearer token (file, command, TTL, invalidation) and the rate-limited warnings."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from shipper.filters.kubernetes.ratelog import RateLimitedLog
from shipper.filters.kubernetes.token import BearerToken

LOG = logging.getLogger("test.kubernetes")


async def test_file_token_is_stripped_and_cached_until_invalidated(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("abc\n")
    token = BearerToken(str(path), None, ttl=600, log=LOG)
    assert await token.authorization() == "Bearer abc"
    path.write_text("def")
    assert await token.authorization() == "Bearer abc"  # within the TTL
    token.invalidate()
    assert await token.authorization() == "Bearer def"


async def test_missing_token_warns_once_and_sends_none(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    token = BearerToken(str(tmp_path / "absent"), None, ttl=0, log=LOG)
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        assert await token.authorization() is None
        assert await token.authorization() is None
    assert len([r for r in caplog.records if "no service-account token" in r.getMessage()]) == 1


async def test_failing_command_gives_no_token() -> None:
    assert await BearerToken(None, "exit 3", ttl=0, log=LOG).authorization() is None
    assert await BearerToken(None, "printf ' tok '", ttl=0, log=LOG).authorization() == "Bearer tok"


def test_rate_limited_warnings(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    warn = RateLimitedLog(LOG, interval=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        for _ in range(5):
            warn.warning("k", "api down")
        now[0] = 61
        warn.warning("k", "api down")
        warn.warning("other", "another problem")
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["api down", "api down (4 similar messages suppressed)", "another problem"]
