"""The engine: inputs → filter chain → router → output runners, with acks and shutdown.

Data flow (docs/architecture.md, "Data flow"): an input's :meth:`Input.emit` lands in
:meth:`Engine.ingest`, which waits while that input is over its memory limit
(backpressure), runs the filters whose match accepts the tag (rewrite_tag's
re-emitted records go round the chain again under their new tag), and hands
each resulting piece to every output runner whose match accepts it.  One
:class:`~shipper.engine.delivery.Delivery` follows the chunk; when the last
share is released the chunk's :class:`~shipper.plugin.Ack` is acknowledged, which is when tail
commits its offset.

Shutdown (:meth:`Engine.request_shutdown` on a signal or a reload,
``Exit_On_Eof``, or every input finished): inputs stop reading, waiting
batches are flushed, and the engine waits up to ``Grace`` seconds for outputs
to finish.  What is still in flight then is abandoned without
acknowledgement, so it is read again after a restart.  :meth:`Engine.abort`
(a second signal) skips the wait.  Signals belong to ``shipper.daemon``.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipper.engine.delivery import Delivery
from shipper.engine.dryrun import DryRunSink
from shipper.engine.malloc import fix_mmap_threshold
from shipper.engine.output_runner import OutputRunner
from shipper.engine.probe import Probe
from shipper.engine.router import matcher
from shipper.events import Event
from shipper.packed import Packed
from shipper.pipeline import Pipeline
from shipper.plugin import Ack, Filter, Input
from shipper.storage import ChunkStore, StoredChunk, safe_name

log = logging.getLogger("shipper.engine")

#: an input without Mem_Buf_Limit still pauses here, so memory stays bounded.
DEFAULT_INPUT_BUFFER_LIMIT = 32_000_000
#: seconds between two logged pauses of one input.
PAUSE_LOG_EVERY = 60.0
#: young-generation GC threshold while a pipeline runs (CPython's default is 700).
GC_YOUNG_THRESHOLD = 50_000
#: how many times records may be re-emitted in a row before we call it a loop.
MAX_REEMIT_DEPTH = 8

_reemitted: contextvars.ContextVar[list[tuple[str, list[Event]]] | None] = contextvars.ContextVar(
    "shipper_reemitted", default=None
)


def tune_gc() -> None:
    """Make the cyclic GC cheap for a process that creates millions of short-lived dicts.

    Every record is a dict inside a tuple inside a list: with the default
    threshold the young collection runs every ~230 lines and re-traverses
    the records of the chunk being built, which cost more than decoding
    (about 1.5 µs of 4 µs per CRI line, measured on tail).  Records hold no
    cycles, so collecting less often loses nothing; objects alive at
    start-up are frozen out of every collection.
    """
    if gc.get_threshold()[0] < GC_YOUNG_THRESHOLD:
        gc.freeze()
        gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)


@dataclass(frozen=True, slots=True)
class StoredAck:
    """The :class:`~shipper.plugin.Ack` of a chunk in filesystem storage: delivered, its file goes."""

    store: ChunkStore
    chunk: StoredChunk

    def acknowledged(self) -> None:
        self.store.delete(self.chunk)


@dataclass
class InputState:
    """Backpressure bookkeeping for one input."""

    limit: int
    #: ``storage.type filesystem``: chunks are persisted and acknowledged at once.
    filesystem: bool = False
    #: bytes its records take while they wait for outputs (packed JSON, see shipper.packed).
    buffered: int = 0
    #: when a pause was last logged (pauses are counted always, logged at most once a minute).
    logged_pause: float = -PAUSE_LOG_EVERY
    resume: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.resume.set()


class Engine:
    """Runs one validated pipeline until shutdown."""

    def __init__(self, pipeline: Pipeline, printer: DryRunSink | None = None, probe: Probe | None = None) -> None:
        self.pipeline = pipeline
        self.context = pipeline.context
        self.metrics = pipeline.context.metrics
        self.printer = printer
        #: observes chunks as they pass (``shipper test`` and ``shipper tap``); None costs nothing.
        self.probe = probe
        service = self.context.service
        self.flush_interval = max(float(service["flush"]), 0.01)
        self.grace = float(service["grace"])
        self._filters: list[tuple[Filter, Callable[[str], bool]]] = [
            (f, matcher(f.settings.get("match"), f.settings.get("match_regex"))) for f in pipeline.filters
        ]
        storage_path = service.get("storage.path")
        self.store: ChunkStore | None = None
        if storage_path and printer is None:
            self.store = ChunkStore(
                Path(storage_path),
                sync_full=service["storage.sync"] == "full",
                checksum=bool(service["storage.checksum"]),
                metrics=self.metrics,
                limits={
                    o.instance_name: int(o.settings["storage.total_limit_size"])
                    for o in pipeline.outputs
                    if o.settings.get("storage.total_limit_size")
                },
            )
        self.runners: list[OutputRunner] = [
            OutputRunner(
                output,
                matcher(output.settings.get("match"), output.settings.get("match_regex")),
                output.retry_limit,
                float(service["scheduler.base"]),
                float(service["scheduler.cap"]),
                printer,
                store=self.store,
            )
            for output in pipeline.outputs
        ]
        self._inputs: dict[Input, InputState] = {
            i: InputState(
                int(i.settings.get("mem_buf_limit") or DEFAULT_INPUT_BUFFER_LIMIT),
                filesystem=self.store is not None and i.settings.get("storage.type") == "filesystem",
            )
            for i in pipeline.inputs
        }
        #: unacknowledged deliveries in creation order: the first is the oldest.
        self._live: dict[Delivery, None] = {}
        self._shutdown = asyncio.Event()
        self._abort = asyncio.Event()
        self._deadline: float | None = None
        #: inputs whose ``run`` raised: the process exits 1, so a supervisor sees the failure.
        self._failed_inputs: list[str] = []
        self.context.runtime = self

    # -- the Runtime protocol plugins call ------------------------------------
    async def ingest(self, source: Input, tag: str, events: list[Event], ack: Ack | None, nbytes: int) -> None:
        state = self._inputs[source]
        if state.buffered >= state.limit and not self._shutdown.is_set():
            await self._pause(source, state)
        name = source.instance_name
        self.metrics.inc("fluentbit_input_records_total", len(events), name=name)
        self.metrics.inc("fluentbit_input_bytes_total", nbytes, name=name)
        delivery = self._track(Delivery(source, ack, 0, self._delivered))
        probe = self.probe
        if probe is not None:
            probe.ingested(name, tag, events)
        try:
            for piece_tag, piece in await self._run_chain(tag, events, 0):
                shared: Packed | None = None  # the JSON form, encoded once for every output that holds it
                for runner in self.runners:
                    if not runner.matches(piece_tag):
                        continue
                    if probe is not None:
                        probe.routed(runner.name, piece_tag, piece)
                    if state.filesystem and self._persist(runner, piece_tag, piece):
                        continue
                    packed = runner.output.pack(piece)
                    if packed is None:
                        if shared is None:
                            shared = Packed.encode(piece)
                            delivery.nbytes += shared.size
                        packed = shared
                    else:
                        delivery.nbytes += packed.size
                    delivery.take()
                    runner.submit(piece_tag, packed, delivery)
        finally:
            # what the outputs now hold, not the bytes read: this is what Mem_Buf_Limit bounds
            state.buffered += delivery.nbytes
            delivery.release()
        # Filters and routing never suspend; yield so outputs run between chunks.
        await asyncio.sleep(0)

    async def _pause(self, source: Input, state: InputState) -> None:
        """Wait until the outputs have taken the input back under its limit (Fluent Bit's "mem buf overlimit")."""
        name = source.instance_name
        started = time.monotonic()
        # Fluent Bit logs every pause; a small limit pauses many times a second, so once a minute here
        noisy = started - state.logged_pause < PAUSE_LOG_EVERY
        if not noisy:
            state.logged_pause = started
            log.warning("%s: paused (mem buf overlimit): its records waiting for outputs hold %d bytes, "
                        "Mem_Buf_Limit is %d; see shipper_input_paused_total", name, state.buffered, state.limit)
        self.metrics.inc("shipper_input_paused_total", name=name)
        while state.buffered >= state.limit and not self._shutdown.is_set():
            for runner in self.runners:
                runner.flush_pending()  # do not hold batches until the tick while the input waits
            state.resume.clear()
            await state.resume.wait()
        waited = time.monotonic() - started
        self.metrics.inc("shipper_input_paused_seconds_total", waited, name=name)
        if not noisy:
            log.info("%s: resume (mem buf overlimit) after %.1fs", name, waited)

    def _persist(self, runner: OutputRunner, tag: str, events: list[Event]) -> bool:
        """Write a piece to filesystem storage for one output; False (keep it in memory) if that fails."""
        assert self.store is not None
        try:
            chunk = self.store.write(runner.name, tag, events)
        except OSError as exc:
            log.error("%s: cannot write to storage.path (%s); buffering in memory instead", runner.name, exc)
            self.metrics.inc("shipper_storage_write_errors_total", name=runner.name)
            return False
        runner.submit_stored(chunk, self._track(Delivery(None, StoredAck(self.store, chunk), 0, self._delivered)))
        return True

    def _replay_storage(self) -> None:
        """Hand chunk files left by an earlier run back to their outputs."""
        if self.store is None:
            return
        runners = {safe_name(r.name): r for r in self.runners}
        for chunk in self.store.recover():
            runner = runners.get(chunk.output)
            if runner is None:
                log.warning("storage: %s belongs to output %r, which is not configured; left in place", chunk.path, chunk.output)
                continue
            runner.submit_stored(chunk, self._track(Delivery(None, StoredAck(self.store, chunk), 0, self._delivered)))
            self.metrics.inc("shipper_storage_replayed_chunks_total", name=runner.name)

    def reemit(self, tag: str, events: list[Event]) -> None:
        target = _reemitted.get()
        if target is None:
            raise RuntimeError("reemit called outside of a filter's process()")
        target.append((tag, events))

    def request_shutdown(self, reason: str) -> None:
        if not self._shutdown.is_set():
            log.info("shutting down: %s", reason)
            self._shutdown.set()

    # -- internals -----------------------------------------------------------
    async def _run_chain(self, tag: str, events: list[Event], depth: int) -> list[tuple[str, list[Event]]]:
        reemitted: list[tuple[str, list[Event]]] = []
        reset = _reemitted.set(reemitted)
        probe = self.probe
        try:
            for plugin, matches in self._filters:
                if not events:
                    break
                if not matches(tag):
                    continue
                before = len(events)
                if probe is not None:
                    seen, already = probe.before_filter(plugin.instance_name, tag, events), len(reemitted)
                try:
                    events = await plugin.process(tag, events)
                except Exception:
                    log.exception("%s: filter failed; passing the chunk on unchanged", plugin.instance_name)
                    self.metrics.inc("shipper_filter_errors_total", name=plugin.instance_name)
                    continue
                if probe is not None:
                    probe.filtered(plugin.instance_name, tag, seen, events, reemitted[already:])
                if len(events) != before:
                    metric = "fluentbit_filter_drop_records_total" if len(events) < before else "fluentbit_filter_add_records_total"
                    self.metrics.inc(metric, abs(before - len(events)), name=plugin.instance_name)
        finally:
            _reemitted.reset(reset)
        pieces = [(tag, events)] if events else []
        for new_tag, new_events in reemitted:
            if depth >= MAX_REEMIT_DEPTH:
                log.error("records re-emitted %d times in a row (last tag %r): dropping them to break the loop", depth, new_tag)
                self.metrics.inc("shipper_reemit_loop_dropped_records_total", len(new_events), tag=new_tag)
                continue
            pieces.extend(await self._run_chain(new_tag, new_events, depth + 1))
        return pieces

    def _track(self, delivery: Delivery) -> Delivery:
        self._live[delivery] = None
        return delivery

    def _delivered(self, delivery: Delivery) -> None:
        self._live.pop(delivery, None)
        source = delivery.source
        if source is not None:
            state = self._inputs[source]
            state.buffered -= delivery.nbytes
            if state.buffered < state.limit:
                state.resume.set()
        if delivery.ack is not None:
            try:
                delivery.ack.acknowledged()
            except Exception:
                log.exception("%s: acknowledge failed", source.instance_name if source else "storage")

    def _update_gauges(self) -> None:
        """Buffer levels and the age of the oldest unacknowledged chunk, for monitoring."""
        for source, state in self._inputs.items():
            name = source.instance_name
            self.metrics.set("shipper_input_buffered_bytes", state.buffered, name=name)
            self.metrics.set("fluentbit_input_storage_memory_bytes", state.buffered, name=name)
            self.metrics.set("fluentbit_input_storage_overlimit", int(state.buffered >= state.limit), name=name)
        fs_chunks = sum(s["chunks"] for s in self.store.stats().values()) if self.store is not None else 0
        mem_chunks = len(self._live) - fs_chunks
        self.metrics.set("fluentbit_storage_mem_chunks", mem_chunks)
        self.metrics.set("fluentbit_storage_fs_chunks", fs_chunks)
        self.metrics.set("fluentbit_storage_fs_chunks_down", fs_chunks)
        self.metrics.set("fluentbit_storage_chunks", mem_chunks + fs_chunks)
        for runner in self.runners:
            self.metrics.set("shipper_output_pending_batches", runner.backlog, name=runner.name)
        oldest = next(iter(self._live), None)
        age = time.monotonic() - oldest.born if oldest is not None else 0.0
        self.metrics.set("shipper_oldest_unacknowledged_seconds", age)

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval)
            for runner in self.runners:
                runner.flush_pending()
            self._update_gauges()

    def abort(self) -> None:
        """Stop waiting for outputs: what is in flight is abandoned unacknowledged."""
        self._abort.set()
        self._shutdown.set()
        self._deadline = asyncio.get_running_loop().time()

    def shutdown_deadline(self) -> float | None:
        return self._deadline

    async def _run_input(self, plugin: Input) -> None:
        try:
            await plugin.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: input failed and stopped", plugin.instance_name)
            self.metrics.inc("shipper_input_failures_total", name=plugin.instance_name)
            self._failed_inputs.append(plugin.instance_name)

    async def _wait_until(self, awaitables: Sequence[asyncio.Future[Any]], timeout: float) -> None:
        """Wait for all ``awaitables`` up to ``timeout`` seconds, or until a second signal."""
        if not awaitables:
            return
        abort = asyncio.ensure_future(self._abort.wait())
        waiters: list[asyncio.Future[Any]] = [asyncio.gather(*awaitables, return_exceptions=True), abort]
        try:
            await asyncio.wait(
                waiters,
                timeout=max(timeout, 0),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            abort.cancel()

    async def run(self) -> int:
        """Start everything, run until shutdown, drain within Grace; returns the exit code."""
        loop = asyncio.get_running_loop()
        tune_gc()
        fix_mmap_threshold()
        started: list[Any] = []
        try:
            plugins: list[Any] = [*self.pipeline.inputs, *self.pipeline.filters]
            if self.printer is None:
                plugins += self.pipeline.outputs
            for plugin in plugins:
                try:
                    await plugin.start()
                except Exception as exc:  # a plugin that cannot start stops the pipeline with its reason, not a traceback
                    log.error("%s: cannot start: %s: %s", plugin.instance_name, type(exc).__name__, exc)
                    log.debug("%s: start failed", plugin.instance_name, exc_info=True)
                    return 1
                started.append(plugin)
            for runner in self.runners:
                runner.start()
            self._replay_storage()
            ticker = asyncio.create_task(self._ticker(), name="flush-ticker")
            input_tasks = [asyncio.create_task(self._run_input(i), name=i.instance_name) for i in self.pipeline.inputs]
            all_inputs = asyncio.ensure_future(asyncio.gather(*input_tasks, return_exceptions=True))
            shutdown = asyncio.ensure_future(self._shutdown.wait())
            first: list[asyncio.Future[Any]] = [all_inputs, shutdown]
            await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
            self.request_shutdown("every input has finished")
            deadline = loop.time() + self.grace
            if self._deadline is None:
                self._deadline = deadline
            for plugin in self.pipeline.inputs:
                plugin.request_stop()
            for state in self._inputs.values():
                state.resume.set()
            await self._wait_until(input_tasks, deadline - loop.time())
            for task in input_tasks:
                task.cancel()
            await asyncio.gather(*input_tasks, return_exceptions=True)
            drains = [asyncio.ensure_future(r.drain(deadline - loop.time())) for r in self.runners]
            await self._wait_until(drains, deadline - loop.time())
            for runner in self.runners:
                if runner.backlog:
                    log.warning(
                        "%s: %d batches not delivered within Grace (%gs); their offsets were not committed, "
                        "so they are read again on restart",
                        runner.name, runner.backlog, self.grace,
                    )
                await runner.close()
            leftovers: list[asyncio.Future[Any]] = [ticker, shutdown, all_inputs, *drains]
            for future in leftovers:
                future.cancel()
            if self._failed_inputs:
                log.error("exiting with status 1: input %s failed (see above)", ", ".join(self._failed_inputs))
                return 1
            return 0
        finally:
            for plugin in reversed(started):
                try:
                    await plugin.stop()
                except Exception:
                    log.exception("%s: error while stopping", plugin.instance_name)
