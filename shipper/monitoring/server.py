"""The monitoring HTTP server: Fluent Bit's endpoints on aiohttp.

Started by the engine when ``[SERVICE] HTTP_Server On``; it reads the live
:class:`~shipper.metrics.Metrics` and the current pipeline (through a getter,
so a hot reload is picked up without restarting the server), and calls the
engine's reload callback for ``POST /api/v2/reload``.

| endpoint | answer |
|---|---|
| ``/`` | build information (JSON) |
| ``/api/v1/uptime`` | ``uptime_sec``, ``uptime_hr`` (JSON) |
| ``/api/v1/metrics`` | per-instance counters (JSON) |
| ``/api/v1/metrics/prometheus`` | the same, Prometheus text |
| ``/api/v1/storage`` | buffering state (JSON; 404 unless ``storage.metrics on``) |
| ``/api/v1/health`` | ``ok`` 200 / ``error`` 500 (404 unless ``Health_Check on``) |
| ``/api/v2/metrics/prometheus`` | cmetrics-style names, Prometheus text |
| ``/api/v2/reload`` | ``POST``/``PUT``: reload; ``GET``: ``hot_reload_count`` |
| ``/api/v1/tap`` | live records at one instance, JSON lines (404 unless ``HTTP_Tap on``; ours) |
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from shipper.engine.router import matcher
from shipper.metrics import Metrics
from shipper.monitoring import prometheus, views
from shipper.monitoring.health import HealthCheck
from shipper.monitoring.tap import Tap, TapHub
from shipper.options import Settings

log = logging.getLogger("shipper.http_server")

#: returns True when the new configuration was applied, False when it was rejected (and logged).
ReloadCallback = Callable[[], Awaitable[bool]]
PipelineGetter = Callable[[], views.PipelineView | None]

#: how often the health check records a baseline of the error counters.
HEALTH_TICK_SECONDS = 1.0
#: HTTP_Listen values only this host can reach.
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
#: how often an idle tap stream looks whether its client left or the server is stopping.
TAP_POLL_SECONDS = 0.5


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


class MonitoringServer:
    """Serves the monitoring API for one process; ``start``/``stop`` bracket its life."""

    def __init__(
        self,
        service: Settings,
        metrics: Metrics,
        pipeline: PipelineGetter,
        reload: ReloadCallback | None = None,
        start_time: float | None = None,
        tap: TapHub | None = None,
    ) -> None:
        self.listen: str = service["http_listen"]
        self.requested_port: int = service["http_port"]
        self.metrics = metrics
        self.pipeline = pipeline
        self.reload_callback = reload if service["hot_reload"] else None
        self.storage_metrics: bool = service["storage.metrics"]
        self.start_time = time.time() if start_time is None else start_time
        self.health = (
            HealthCheck(metrics, service["hc_errors_count"], service["hc_retry_failure_count"], service["hc_period"])
            if service["health_check"]
            else None
        )
        self.hostname = socket.gethostname()
        #: ``HTTP_Tap on``: the engine probe feeding ``/api/v1/tap``.
        self.tap = tap
        self._stopping = False
        self._reloading = False
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.port: int | None = None

    def app(self) -> web.Application:
        """The aiohttp application with Fluent Bit's routes (registered as Fluent Bit does)."""
        app = web.Application()
        routes = [
            web.get("/", self._root),
            web.get("/api/v1/uptime", self._uptime),
            web.get("/api/v1/metrics", self._metrics),
            web.get("/api/v1/metrics/prometheus", self._prometheus_v1),
            web.get("/api/v2/metrics/prometheus", self._prometheus_v2),
            web.route("*", "/api/v2/reload", self._reload),
        ]
        if self.health is not None:
            routes.append(web.get("/api/v1/health", self._health))
        if self.storage_metrics:
            routes.append(web.get("/api/v1/storage", self._storage))
        if self.tap is not None:
            routes.append(web.get("/api/v1/tap", self._tap))
        app.add_routes(routes)
        return app

    async def start(self) -> None:
        """Bind and serve; raises OSError when the port is taken (the engine reports it)."""
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen, self.requested_port, reuse_address=True)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            raise
        self.port = self._runner.addresses[0][1]
        if self.health is not None:
            self._ticker = asyncio.create_task(self._tick_health(self.health), name="health-check")
        log.info("listen iface=%s tcp_port=%s", self.listen, self.port)
        if self.tap is not None:
            loopback = self.listen in LOOPBACK
            (log.info if loopback else log.warning)(
                "HTTP_Tap is on: /api/v1/tap shows log contents to anyone who can reach %s:%s%s",
                self.listen, self.port, "" if loopback else "; set HTTP_Listen 127.0.0.1 unless the port is private",
            )

    async def stop(self) -> None:
        self._stopping = True  # open tap streams end within TAP_POLL_SECONDS, so cleanup does not wait on them
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @staticmethod
    async def _tick_health(health: HealthCheck) -> None:
        while True:
            await asyncio.sleep(HEALTH_TICK_SECONDS)
            health.tick()

    def _names(self) -> dict[str, list[str]]:
        return views.instance_names(self.pipeline())

    async def _root(self, request: web.Request) -> web.Response:
        return _json(views.root_json())

    async def _uptime(self, request: web.Request) -> web.Response:
        return _json(views.uptime_json(time.time() - self.start_time))

    async def _metrics(self, request: web.Request) -> web.Response:
        return _json(views.metrics_json(self.metrics, self._names()))

    async def _prometheus_v1(self, request: web.Request) -> web.Response:
        body = views.metrics_json(self.metrics, self._names())
        text = prometheus.render_v1(body, self.metrics, self.start_time, time.time())
        return web.Response(body=text, headers={"Content-Type": prometheus.CONTENT_TYPE})

    async def _prometheus_v2(self, request: web.Request) -> web.Response:
        text = prometheus.render_v2(self.metrics, self._names(), self.start_time, time.time(), self.hostname)
        return web.Response(body=text, headers={"Content-Type": prometheus.CONTENT_TYPE})

    async def _storage(self, request: web.Request) -> web.Response:
        return _json(views.storage_json(self.metrics, self.pipeline()))

    async def _health(self, request: web.Request) -> web.Response:
        assert self.health is not None
        if self.health.healthy():
            return web.Response(text="ok\n", status=200)
        return web.Response(text="error\n", status=500)

    async def _reload(self, request: web.Request) -> web.Response:
        if request.method == "GET":
            return _json({"hot_reload_count": views.reload_count(self.metrics)})
        if request.method not in ("POST", "PUT"):
            return web.Response(status=400)
        if self.reload_callback is None:
            return _json({"reload": "not enabled", "status": -1})
        if self._reloading:
            return _json({"reload": "in progress", "status": -2})
        self._reloading = True
        try:
            applied = await self.reload_callback()
        finally:
            self._reloading = False
        if applied:
            return _json({"reload": "done", "status": 0})
        # Our addition: the new configuration was invalid; the old pipeline keeps running.
        return _json({"reload": "rejected", "status": -3}, status=400)

    async def _tap(self, request: web.Request) -> web.StreamResponse:
        """Stream the records passing one instance, as JSON lines, until the limit or the client leaves."""
        assert self.tap is not None
        query = request.query
        name = query.get("name", "")
        known = [n for names in self._names().values() for n in names]
        if name not in known:
            return _json({"error": f"no instance named {name!r}", "instances": known}, status=404)
        try:
            limit = int(query["limit"]) if query.get("limit") else None
            rate = float(query["rate"]) if query.get("rate") else None
        except ValueError:
            return _json({"error": "limit must be a whole number and rate a number"}, status=400)
        if (limit is not None and limit <= 0) or (rate is not None and rate <= 0):
            return _json({"error": "limit and rate must be positive"}, status=400)
        tap = Tap(name, matcher(query.get("match") or "*", None), limit, rate)
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        self.tap.open(tap)
        log.info("tap opened on %s (match %s, limit %s, rate %s/s)", name, query.get("match") or "*", limit, rate)
        try:
            while not (tap.full and tap.queue.empty()):
                try:
                    line = await asyncio.wait_for(tap.queue.get(), TAP_POLL_SECONDS)
                except TimeoutError:
                    if self._stopping or request.transport is None or request.transport.is_closing():
                        break
                    continue
                await response.write(line)
            await response.write_eof()
        except ConnectionError:
            pass  # the client went away: nothing to tell it
        finally:
            self.tap.close(tap)
            log.info("tap closed on %s: %d records sent, %d skipped", name, tap.taken, tap.skipped)
        return response
