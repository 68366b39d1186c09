"""``shipper run``: one process hosting successive pipelines across reloads.

The supervisor owns what outlives a pipeline: signal handling, shipper's own
log, the metrics, and the monitoring HTTP server.  With ``Hot_Reload On`` a
reload (SIGHUP, a config file changing, or ``POST /api/v2/reload``) reads and
validates the new configuration first; an invalid one is logged and the
running pipeline carries on untouched.  A valid one replaces the old: the old
engine stops reading, drains within ``Grace`` and commits its offsets, then
the new one starts from those offsets (and replays filesystem chunks), so
nothing buffered is lost.  Without ``Hot_Reload`` a SIGHUP is logged and
ignored, as in Fluent Bit.

Reloads run one at a time, each to the end of its swap: a storm of SIGHUPs
or HTTP calls never piles up pipelines built and thrown away, and
``shipper_reloads_total{result="applied"}`` (``hot_reload_count``) counts
swaps that happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
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


def _libc_malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


_MALLOC_TRIM = _libc_malloc_trim()


def return_freed_memory() -> None:
    """Give the heap a pipeline left behind back to the system (after a reload, applied or rejected).

    Every pipeline builds its own AWS clients (botocore's service models, TLS
    contexts: several MB each).  They are freed with the old pipeline, but
    glibc keeps the freed heap, fragmented, and the next pipeline's clients do
    not fit in it: RSS grew from 70 to 600 MB over 1,000 reloads.  A collection
    and ``malloc_trim`` after each reload keep it flat (docs/reliability.md).
    """
    gc.collect()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


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
        #: resolved by ``run`` when the pipeline waiting in ``_next`` has replaced the old one.
        self._swapped: asyncio.Future[bool] | None = None
        #: a SIGHUP's reload waits for the one running: later SIGHUPs until it reads the config are covered by it.
        self._sighup_waiting = False
        self._background: set[asyncio.Task[bool]] = set()
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
        """Validate the config again and, if it is valid, swap pipelines; False when rejected or stopping."""
        async with self._reload_lock:
            self._sighup_waiting = False  # the config is read from here on: every SIGHUP so far is served
            if self._stopping:
                return False
            try:
                candidate = self._build()
            except ConfigErrors as exc:
                for error in exc.errors:
                    log.error("reload rejected: %s", error)
                log.error("reload rejected: %d error(s); the running pipeline is unchanged", len(exc.errors))
                self.metrics.inc("shipper_reloads_total", result="rejected")
                return_freed_memory()
                return False
            except OSError as exc:
                log.error("reload rejected: %s; the running pipeline is unchanged", exc)
                self.metrics.inc("shipper_reloads_total", result="rejected")
                return False
            self._next = candidate
            self._swapped = asyncio.get_running_loop().create_future()
            if self.engine is not None:
                self.engine.request_shutdown("reloading the configuration")
            return await self._swapped

    def _on_signal(self, sig: signal.Signals) -> None:
        if sig == signal.SIGHUP:
            if not self.pipeline.context.service["hot_reload"]:
                log.warning("received SIGHUP: Hot_Reload is off, so the configuration is not reloaded "
                            "(set Hot_Reload On in [SERVICE] to reload on SIGHUP)")
            elif self._sighup_waiting:
                log.info("received SIGHUP: a reload is already waiting to read the configuration")
            else:
                log.info("received SIGHUP: reloading")
                self._sighup_waiting = True
                task = asyncio.get_running_loop().create_task(self.reload())
                self._background.add(task)
                task.add_done_callback(self._background.discard)
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

    def _settle_reload(self, applied: bool) -> None:
        if self._swapped is not None and not self._swapped.done():
            self._swapped.set_result(applied)

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
                self.metrics.inc("shipper_reloads_total", result="applied")
                log.info("configuration reloaded")
                return_freed_memory()
                self._settle_reload(True)
        finally:
            self._settle_reload(False)
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
