"""``shipper run``: one process hosting successive pipelines across reloads.

The supervisor owns what outlives a pipeline: signal handling, shipper's own
log, the metrics, and the monitoring HTTP server.  A reload (SIGHUP,
``Hot_Reload`` seeing a config file change, or ``POST /api/v2/reload``) reads
and validates the new configuration first; an invalid one is logged and the
running pipeline carries on untouched.  A valid one replaces the old: the old
engine stops reading, drains within ``Grace`` and commits its offsets, then
the new one starts from those offsets (and replays filesystem chunks), so
nothing buffered is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shipper.config.model import ConfigDocument
from shipper.engine.core import Engine
from shipper.errors import ConfigErrors
from shipper.logging_setup import LogSetup, apply_instance_levels, configure_logging
from shipper.pipeline import Pipeline, build

if TYPE_CHECKING:
    from shipper.monitoring.tap import TapHub

log = logging.getLogger("shipper.daemon")

Loader = Callable[[], ConfigDocument]


class Supervisor:
    """Runs pipelines built from ``loader`` until a stop signal or the inputs end."""

    def __init__(self, loader: Loader, first: Pipeline, log_level_override: str | None = None) -> None:
        self.loader = loader
        self.pipeline = first
        self.metrics = first.context.metrics
        self.log_level_override = log_level_override
        self.engine: Engine | None = None
        self._next: Pipeline | None = None
        self._stopping = False
        self._signals = 0
        self._reload_lock = asyncio.Lock()
        self._log_setup: LogSetup | None = None
        #: ``HTTP_Tap on``: the probe every engine of this process reports to (shipper.monitoring.tap).
        self.tap: TapHub | None = None

    def _configure_logging(self, pipeline: Pipeline) -> None:
        service = pipeline.context.service
        self._log_setup = configure_logging(
            self.log_level_override or service["log_level"], service.get("log_file"), service["log_format"]
        )
        apply_instance_levels([*pipeline.inputs, *pipeline.filters, *pipeline.outputs])

    def _build(self) -> Pipeline:
        return build(self.loader(), metrics=self.metrics)

    async def reload(self) -> bool:
        """Validate the config again and, if it is valid, swap pipelines; False when rejected."""
        async with self._reload_lock:
            try:
                candidate = self._build()
            except ConfigErrors as exc:
                for error in exc.errors:
                    log.error("reload rejected: %s", error)
                log.error("reload rejected: %d error(s); the running pipeline is unchanged", len(exc.errors))
                self.metrics.inc("shipper_reloads_total", result="rejected")
                return False
            except OSError as exc:
                log.error("reload rejected: %s; the running pipeline is unchanged", exc)
                self.metrics.inc("shipper_reloads_total", result="rejected")
                return False
            self._next = candidate
            self.metrics.inc("shipper_reloads_total", result="applied")
            if self.engine is not None:
                self.engine.request_shutdown("reloading the configuration")
            return True

    def _on_signal(self, sig: signal.Signals) -> None:
        if sig == signal.SIGHUP:
            log.info("received SIGHUP: reloading")
            asyncio.get_running_loop().create_task(self.reload())
            return
        self._signals += 1
        self._stopping = True
        if self.engine is None:
            return
        if self._signals == 1:
            self.engine.request_shutdown(f"received {sig.name}; draining for up to {self.engine.grace:g}s")
        else:
            log.warning("received %s again: exiting without waiting", sig.name)
            self.engine.abort()

    async def _watch_files(self) -> None:
        """Hot_Reload: reload when a file the config was read from changes."""
        from watchfiles import awatch

        files = [f for f in self.pipeline.document.files if not f.startswith("<")]
        if not files:
            return
        async for _ in awatch(*files, debounce=500, recursive=False):
            log.info("configuration file changed: reloading")
            await self.reload()

    def _start_selflog(self) -> tuple[Engine, asyncio.Task[int]] | None:
        """Fargate ``flb_log_cw``: a private pipeline shipping our own log to CloudWatch."""
        fargate = self.pipeline.document.fargate
        if fargate is None or not fargate.log_to_cloudwatch:
            return None
        from shipper.selflog import selflog_pipeline

        engine = Engine(selflog_pipeline(fargate, self.metrics))
        log.info("flb_log_cw: shipping shipper's own log to CloudWatch group %s", fargate.log_group)
        return engine, asyncio.create_task(engine.run(), name="selflog")

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, self._on_signal, sig)
        self._configure_logging(self.pipeline)
        service = self.pipeline.context.service
        monitor: Any = None
        if service["http_server"]:
            from shipper.monitoring import MonitoringServer  # aiohttp costs ~12 MB and 0.4 s: only when asked
            from shipper.monitoring.tap import TapHub

            self.tap = TapHub() if service["http_tap"] else None
            monitor = MonitoringServer(service, self.metrics, lambda: self.pipeline, self.reload, tap=self.tap)
            try:
                await monitor.start()
            except OSError as exc:
                log.error("monitoring server: cannot listen on %s:%s (%s); continuing without it",
                          service["http_listen"], service["http_port"], exc)
                monitor = self.tap = None
        elif service["http_tap"]:
            log.warning("HTTP_Tap On has no effect without HTTP_Server On: the tap is served by the monitoring server")
        watcher = asyncio.create_task(self._watch_files()) if service["hot_reload"] else None
        selflog = self._start_selflog()
        code = 0
        try:
            while True:
                self.engine = Engine(self.pipeline, probe=self.tap)
                code = await self.engine.run()
                if self._stopping or self._next is None:
                    return code
                self.pipeline, self._next = self._next, None
                self._configure_logging(self.pipeline)
                log.info("configuration reloaded")
        finally:
            if selflog is not None:
                selflog[0].request_shutdown("shipper is stopping")
                await selflog[1]
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            if monitor is not None:
                await monitor.stop()
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            if self._log_setup is not None:
                self._log_setup.close()  # reports warnings still being suppressed
