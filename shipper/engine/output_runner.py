"""One output's queue, workers, batching, retries and acknowledgements.

Chunks routed to an output wait in a per-tag batch until the ``Flush`` tick
(or until the batch is big enough), so a trickle of log lines becomes one
API request per tag per second, as with Fluent Bit.  ``workers`` tasks take
ready batches and call the output; failures are retried with full-jitter
backoff up to ``Retry_Limit``, only for the records the output says failed.
A batch's deliveries are released when it is delivered, rejected for good or
given up on; a batch abandoned at the end of ``Grace`` is not released, so
its input offsets stay put and the records are read again after restart.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from shipper.engine.delivery import Delivery
from shipper.engine.dryrun import DryRunSink
from shipper.engine.malloc import release_free_memory
from shipper.engine.retry import backoff_delay
from shipper.errors import PermanentError, RetryableError
from shipper.events import Event
from shipper.outputs.result import REJECTED, UNENCODABLE, FlushResult, reason_category
from shipper.packed import EventBatch, Packed
from shipper.plugin import Output, Rendered
from shipper.reasonlog import ReasonLog
from shipper.storage import ChunkStore, CorruptChunk, StoredChunk

log = logging.getLogger("shipper.engine")

#: a per-tag batch is handed to a worker early once it holds this much (packed bytes): one CloudWatch
#: request's worth.  The batch being sent is decoded and may wait out an outage, so it is kept small.
MAX_BATCH_BYTES = 1_000_000
MAX_BATCH_EVENTS = 20_000


@dataclass(slots=True)
class TagBatch:
    """Records of one tag waiting for the output, packed until a worker flushes them."""

    tag: str
    packs: list[Packed] = field(default_factory=list)
    count: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    #: filesystem chunks whose events are read back only when flushing.
    stored: list[StoredChunk] = field(default_factory=list)
    nbytes: int = 0


class OutputRunner:
    """Drives one output instance."""

    def __init__(
        self,
        output: Output,
        matches: Callable[[str], bool],
        retry_limit: int | None,
        scheduler_base: float,
        scheduler_cap: float,
        printer: DryRunSink | None = None,
        rng: random.Random | None = None,
        store: ChunkStore | None = None,
    ) -> None:
        self.output = output
        self.name = output.instance_name
        self.matches = matches
        self.retry_limit = retry_limit
        self.base = scheduler_base
        self.cap = scheduler_cap
        self.printer = printer
        self.rng = rng or random.Random()
        self.store = store
        self.workers = output.workers
        self._pending: dict[str, TagBatch] = {}
        self._ready: asyncio.Queue[TagBatch] = asyncio.Queue()
        self._outstanding = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._abort = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._metrics = output.context.metrics
        self._reasons = ReasonLog(log)

    # -- intake -------------------------------------------------------------
    def _batch(self, tag: str) -> TagBatch:
        batch = self._pending.get(tag)
        if batch is None:
            batch = self._pending[tag] = TagBatch(tag)
            self._outstanding += 1
            self._idle.clear()
        return batch

    def _maybe_ready(self, batch: TagBatch) -> None:
        if batch.nbytes >= MAX_BATCH_BYTES or batch.count >= MAX_BATCH_EVENTS:
            self._ready.put_nowait(self._pending.pop(batch.tag))

    def submit(self, tag: str, packed: Packed, delivery: Delivery) -> None:
        """Queue packed records for this output; the delivery already holds a share for it."""
        batch = self._batch(tag)
        batch.packs.append(packed)
        batch.count += packed.count
        batch.deliveries.append(delivery)
        batch.nbytes += packed.size
        self._maybe_ready(batch)

    def submit_stored(self, chunk: StoredChunk, delivery: Delivery) -> None:
        """Queue a filesystem chunk; its events are read back at flush time."""
        batch = self._batch(chunk.tag)
        batch.stored.append(chunk)
        batch.deliveries.append(delivery)
        batch.nbytes += chunk.size
        self._maybe_ready(batch)

    def flush_pending(self, force: bool = False) -> None:
        """Hand every waiting batch to the workers (the Flush tick, or shutdown).

        While batches are already queued for busy workers (a slow or failing
        destination), waiting batches keep growing instead, so a backlog goes
        out in few large requests rather than one small request per tag per
        tick; ``force`` (shutdown) hands everything over regardless.
        """
        if not force and not self._ready.empty():
            return
        for batch in self._pending.values():
            self._ready.put_nowait(batch)
        self._pending.clear()

    @property
    def backlog(self) -> int:
        """Batches not yet finished (waiting, ready or in flight)."""
        return self._outstanding

    # -- lifecycle ----------------------------------------------------------
    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work(), name=f"{self.name}-worker-{i}") for i in range(self.workers)]

    async def drain(self, timeout: float) -> bool:
        """Flush everything and wait up to ``timeout`` seconds; True when all was finished."""
        self.flush_pending(force=True)
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=max(timeout, 0))
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Abandon whatever is still in flight (its offsets are not committed) and stop the workers."""
        self._abort.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- work ---------------------------------------------------------------
    async def _work(self) -> None:
        while not self._abort.is_set():
            batch = await self._ready.get()
            self._absorb_pending(batch)
            finished = await self._deliver(batch)
            if finished:
                for delivery in batch.deliveries:
                    delivery.release()
                del batch
                release_free_memory()  # the batch's packed and decoded records are free now
            self._outstanding -= 1
            if self._outstanding == 0:
                self._idle.set()

    def _absorb_pending(self, batch: TagBatch) -> None:
        """Take what waits for the same tag into the batch a worker is about to send."""
        more = self._pending.get(batch.tag)
        if more is None or batch.nbytes + more.nbytes > MAX_BATCH_BYTES:
            return
        if batch.count + more.count > MAX_BATCH_EVENTS:
            return
        del self._pending[batch.tag]
        batch.packs.extend(more.packs)
        batch.count += more.count
        batch.stored.extend(more.stored)
        batch.deliveries.extend(more.deliveries)
        batch.nbytes += more.nbytes
        self._outstanding -= 1

    def _count(self, metric: str, amount: float = 1) -> None:
        self._metrics.inc(metric, amount, name=self.name)

    def _events(self, batch: TagBatch) -> EventBatch:
        """The batch's events (decoded when the output reads them), with filesystem chunks read back.

        Dropped or corrupt chunk files are skipped.
        """
        packs = batch.packs
        if batch.stored and self.store is not None:
            packs = list(packs)
            for chunk in batch.stored:
                if chunk.dropped:
                    continue
                try:
                    packs.append(Packed.held(self.store.read(chunk)))
                except CorruptChunk:
                    self._count("fluentbit_output_dropped_records_total", chunk.records)
        return EventBatch(packs)

    def _observe_latency(self, batch: TagBatch) -> None:
        now = time.monotonic()
        for delivery in batch.deliveries:
            self._metrics.observe("shipper_output_delivery_latency_seconds", now - delivery.born, name=self.name)

    async def _deliver(self, batch: TagBatch) -> bool:
        """Deliver one batch with retries; False when abandoned at shutdown."""
        events: list[Event] | EventBatch = self._events(batch)
        if not events:
            return True
        if self.printer is not None:
            self._dry_run(batch.tag, self._listed(events))
            return True
        attempt = 0
        while True:
            started = time.monotonic()
            result = await self._flush(batch.tag, events)
            self._settle(events, result)
            if not result.retry:
                self._count("fluentbit_output_proc_bytes_total", batch.nbytes)
                self._metrics.inc("shipper_output_flush_seconds_total", time.monotonic() - started, name=self.name)
                self._observe_latency(batch)
                return True
            events = result.retry
            attempt += 1
            if self.retry_limit is not None and attempt > self.retry_limit:
                self._count("fluentbit_output_retries_failed_total")
                self._count("fluentbit_output_dropped_records_total", len(events))
                self._metrics.inc("shipper_output_dropped_records_total", len(events), name=self.name, reason="retry_limit")
                log.error(
                    "%s: giving up on %d records after %d retries (Retry_Limit %s): %s; "
                    "set Retry_Limit no_limits to keep retrying",
                    self.name, len(events), attempt - 1, self.retry_limit, result.retry_reason,
                )
                return True
            self._count("fluentbit_output_retries_total")
            delay = backoff_delay(attempt, self.base, self.cap, self.rng)
            log.warning(
                "%s: flush of %d records failed (%s); retry %d in %.1fs",
                self.name, len(events), result.retry_reason, attempt, delay,
            )
            if await self._aborted_within(delay):
                return False

    def _dry_run(self, tag: str, events: list[Event]) -> None:
        """Print what the output would send; records it cannot encode are shown refused, and counted."""
        assert self.printer is not None
        poison: set[int] = set()
        try:
            rendered = self.output.dry_run(tag, events)
        except Exception as exc:  # noqa: BLE001 - the same isolation as a real flush
            poison = set(self._unencodable(tag, events, 0))
            if not poison:
                raise
            reason = f"{type(exc).__name__}: {exc}"
            result = FlushResult()
            result.add_dropped(f"{UNENCODABLE}: {reason}", len(poison))
            self._count_dropped(result)
            rendered = self.output.dry_run(tag, [event for index, event in enumerate(events) if index not in poison])
            rendered.items.extend(
                Rendered({}, f"<{reason}>", events[index][0], refused=UNENCODABLE) for index in sorted(poison)
            )
            rendered.reasons = {**rendered.reasons, UNENCODABLE: "the output cannot encode the record (nested too deep?)"}
        self.printer.write(self.name, tag, rendered)
        self._count("fluentbit_output_proc_records_total", len(events) - len(poison))

    @staticmethod
    def _listed(events: list[Event] | EventBatch) -> list[Event]:
        return events.decoded() if isinstance(events, EventBatch) else events

    async def _flush(self, tag: str, events: list[Event] | EventBatch) -> FlushResult:
        """Call the output (a batch as it waited, packed; a retry as a list); what simple outputs raise becomes a result too."""
        try:
            if isinstance(events, EventBatch):
                return await self.output.flush_batch(tag, events)
            return await self.output.flush(tag, self._listed(events))
        except RetryableError as exc:
            return FlushResult(self._listed(events) if exc.events is None else exc.events, str(exc))
        except PermanentError as exc:
            result = FlushResult()
            result.add_dropped(f"{REJECTED}: {exc}", len(events))
            return result
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug, or a record the output cannot encode: never retried forever
            return await self._isolate(tag, self._listed(events), exc)

    async def _isolate(self, tag: str, events: list[Event], error: Exception) -> FlushResult:
        """Find the records that make the output fail, drop them alone, and flush the rest at once.

        The output's :meth:`~shipper.plugin.Output.dry_run` encodes without
        sending, so bisecting with it finds every record that cannot be encoded
        in O(k log n) encodings.  When no record is to blame the failure is
        not the data's, and the whole batch is retried like a retryable error.
        """
        reason = f"{type(error).__name__}: {error}"
        poison = set(self._unencodable(tag, events, 0))
        if not poison:
            self._reasons.report(
                ("unexpected", reason), len(events),
                f"{self.name}: unexpected error while flushing: {reason}; will retry",
                exc_info=error,
            )
            return FlushResult(events, f"unexpected {reason}")
        result = FlushResult()
        result.add_dropped(f"{UNENCODABLE}: {reason}", len(poison))
        rest = [event for index, event in enumerate(events) if index not in poison]
        if rest:
            result.merge(await self._flush(tag, rest))
        return result

    def _unencodable(self, tag: str, events: list[Event], offset: int) -> list[int]:
        """Positions (plus ``offset``) of the events whose encoding raises."""
        try:
            self.output.dry_run(tag, events)
        except Exception:  # noqa: BLE001 - any failure to encode marks the culprit
            if len(events) == 1:
                return [offset]
            half = len(events) // 2
            return self._unencodable(tag, events[:half], offset) + self._unencodable(tag, events[half:], offset + half)
        return []

    def _settle(self, events: list[Event] | EventBatch, result: FlushResult) -> None:
        """Count what one flush delivered and dropped; report each drop reason (rate-limited)."""
        dropped = result.dropped_count
        delivered = len(events) - len(result.retry) - dropped
        if delivered:
            self._count("fluentbit_output_proc_records_total", delivered)
        if result.retry or (dropped and not delivered):
            self._count("fluentbit_output_errors_total")
        self._count_dropped(result)

    def _count_dropped(self, result: FlushResult) -> None:
        for reason, count in result.dropped.items():
            self._count("fluentbit_output_dropped_records_total", count)
            self._metrics.inc("shipper_output_dropped_records_total", count, name=self.name, reason=reason_category(reason))
            self._reasons.report((reason,), count, f"{self.name}: {count} records dropped for good, not retried: {reason}")

    async def _aborted_within(self, delay: float) -> bool:
        """Sleep ``delay`` seconds unless shutdown abandons the batch first.

        Not ``wait_for(abort.wait())``: on Python 3.11 it swallows a
        cancellation that arrives as the event is set, and the worker would
        never stop while the destination is down.
        """
        waiter = asyncio.ensure_future(self._abort.wait())
        try:
            await asyncio.wait([waiter], timeout=delay)
        finally:
            waiter.cancel()
        return self._abort.is_set()
