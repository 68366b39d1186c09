"""The service-account bearer token, kept fresh.

Projected service-account tokens are rotated by the kubelet (about hourly), so
the token is re-read every ``Kube_Token_TTL`` (Fluent Bit's rule) and also at
once when the API server answers 401, which Fluent Bit does not do.  With
``Kube_Token_Command`` the command's standard output is the token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path


class BearerToken:
    """Reads the token lazily; ``authorization()`` is what requests send."""

    def __init__(self, path: str | None, command: str | None, ttl: float, log: logging.Logger) -> None:
        self.path = path
        self.command = command
        self.ttl = ttl
        self.log = log
        self._token: str | None = None
        self._read_at: float | None = None
        self._warned = False

    def invalidate(self) -> None:
        """Forget the token so the next request reads it again (after a 401)."""
        self._read_at = None

    async def authorization(self) -> str | None:
        """``Bearer <token>``, or None when no token can be had (requests go without)."""
        now = time.monotonic()
        if self._read_at is None or now - self._read_at > self.ttl:
            self._read_at = now
            token = await (self._run_command() if self.command else self._read_file())
            if token:
                self._token = token
                self._warned = False
            elif not self._warned:
                self._warned = True
                source = f"command {self.command!r}" if self.command else f"file {self.path}"
                self.log.warning("kubernetes: no service-account token from %s; requests go without one", source)
        return f"Bearer {self._token}" if self._token else None

    async def _read_file(self) -> str | None:
        if not self.path:
            return None
        try:
            return Path(self.path).read_text().strip() or None
        except OSError:
            return None

    async def _run_command(self) -> str | None:
        assert self.command is not None
        try:
            proc = await asyncio.create_subprocess_shell(
                self.command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
            )
        except OSError:
            return None
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return None
        if proc.returncode != 0:
            return None
        return out.decode(errors="replace").strip() or None
