"""The plugin interface (docs/architecture.md, "The plugin interface"): inputs, filters and outputs.

A plugin class declares ``name``, ``aliases``, a one-line ``summary`` and its
``options`` table.  Constructing it validates the settings (``shipper check``
builds every plugin without starting it), so ``__init__`` must not do I/O and
raises :class:`~shipper.errors.ConfigError` for semantic problems.  I/O starts
in :meth:`Plugin.start` and ends in :meth:`Plugin.stop`.

- :class:`Input` runs until stopped and hands chunks to the pipeline with
  :meth:`Input.emit`, each with an :class:`Ack` the engine calls once every
  matching output is done with it.
- :class:`Filter` transforms a whole chunk at a time in :meth:`Filter.process`.
- :class:`Output` delivers a chunk in :meth:`Output.flush`, which returns a
  :class:`~shipper.outputs.result.FlushResult` (what to retry, what was
  dropped for good and why); :meth:`Output.dry_run` says what it would send
  instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import orjson

from shipper.events import Event
from shipper.metrics import Metrics
from shipper.options import Option, Settings, parse_retry_limit
from shipper.outputs.result import FlushResult
from shipper.packed import EventBatch, Packed


class Ack(Protocol):
    """What an input hands the engine with a chunk, and gets back once the chunk is delivered.

    The engine calls :meth:`acknowledged` exactly once, when every output that
    took a piece of the chunk (and every copy rewrite_tag made of it) has
    delivered it, dropped it for good or given up on it; never for a chunk
    abandoned at shutdown.  That is when an input may commit its position
    (tail's offset, the journal cursor): :class:`~shipper.inputs.acks.WindowAck`.
    """

    def acknowledged(self) -> None: ...


class Runtime(Protocol):
    """What the engine offers plugins at run time (the Engine implements it)."""

    async def ingest(self, source: Input, tag: str, events: list[Event], ack: Ack | None, nbytes: int) -> None:
        """Take a chunk from an input; waits while the input is over its memory limit."""

    def reemit(self, tag: str, events: list[Event]) -> None:
        """Re-inject events under a new tag from the start of the filter chain."""

    def request_shutdown(self, reason: str) -> None:
        """Stop the whole pipeline gracefully (``Exit_On_Eof``)."""

    def shutdown_deadline(self) -> float | None:
        """Event-loop time by which shutdown must be over (``Grace`` after it began; now after a
        second signal), or None while running: what an output's ``stop`` may still spend."""


@dataclass
class DryRun:
    """Dry-run settings: ``log_dir`` stands in for the directory of every tail path,
    ``journal_dir`` for the journal of every systemd input.

    ``now_ns`` replaces the clock the outputs judge time windows by (CloudWatch
    refuses events older than 14 days), so old logs can be replayed as of
    their own time and a dry-run gives the same answer on any date.
    """

    log_dir: Path | None = None
    kube_meta_dir: Path | None = None
    now_ns: int | None = None
    journal_dir: Path | None = None


@dataclass
class Context:
    """Shared state handed to every plugin instance of one pipeline."""

    service: Settings
    metrics: Metrics = field(default_factory=Metrics)
    #: named parsers from ``[PARSER]`` sections (``shipper.parsers``).
    parsers: Mapping[str, Any] = field(default_factory=dict)
    #: multiline parsers, built-in and from ``[MULTILINE_PARSER]`` (``shipper.multiline``).
    multiline_parsers: Mapping[str, Any] = field(default_factory=dict)
    #: ``@SET`` variables, which ``${VAR}`` in values resolves before the environment.
    variables: Mapping[str, str] = field(default_factory=dict)
    dry_run: DryRun | None = None
    #: set by the engine before plugins start.
    runtime: Runtime | None = None

    def now_ns(self) -> int:
        """The time outputs judge records by: dry-run's ``--now`` when given, else the clock."""
        if self.dry_run is not None and self.dry_run.now_ns is not None:
            return self.dry_run.now_ns
        return time.time_ns()


class Plugin:
    """Common base: declared options, settings, logging and metrics helpers."""

    kind: ClassVar[str] = ""
    name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    summary: ClassVar[str] = ""
    options: ClassVar[tuple[Option, ...]] = ()
    common_options: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, settings: Settings, context: Context) -> None:
        self.settings = settings
        self.context = context
        self.instance_name = settings.instance_name or self.name
        self.log = logging.getLogger(f"shipper.{self.kind}.{self.instance_name}")

    @classmethod
    def option_table(cls) -> tuple[Option, ...]:
        """Every option this plugin accepts: the kind's common ones, then its own."""
        return cls.common_options + cls.options

    @property
    def metrics(self) -> Metrics:
        return self.context.metrics

    def count(self, metric: str, amount: float = 1, **labels: str) -> None:
        """Add to a counter labelled with this instance's name."""
        self.context.metrics.inc(metric, amount, name=self.instance_name, **labels)

    async def start(self) -> None:
        """Open connections, files and tasks; called once before data flows."""

    async def stop(self) -> None:
        """Release what :meth:`start` opened; called once after the last flush."""


INPUT_COMMON: tuple[Option, ...] = (
    Option("name", required=True, help="plugin name"),
    Option("alias", help="instance name used in metrics and logs instead of name.N"),
    Option("tag", help="tag given to this input's records"),
    Option("log_level", help="log level of this instance"),
    Option("mem_buf_limit", "size", help="pause the input while this many bytes are buffered"),
    Option("storage.type", default="memory", choices=("memory", "filesystem"), help="buffer in memory or on disk"),
    Option("storage.pause_on_chunks_overlimit", "bool", default="off", help="pause when storage.max_chunks_up is hit"),
    Option("threaded", "bool", default="off", ignored=True, help="accepted for compatibility; shipper runs inputs as tasks"),
)

FILTER_COMMON: tuple[Option, ...] = (
    Option("name", required=True, help="plugin name"),
    Option("alias", help="instance name used in metrics and logs"),
    Option("match", help="tag glob: only * is special and it matches dots too"),
    Option("match_regex", help="tag regex, anchored at the start"),
    Option("log_level", help="log level of this instance"),
)

OUTPUT_COMMON: tuple[Option, ...] = (
    *FILTER_COMMON,
    Option("retry_limit", default="1", help="retries per chunk: a number, no_limits/False, or no_retries"),
    Option("workers", "int", default=1, help="concurrent flushes"),
    Option("storage.total_limit_size", "size", help="cap on this output's filesystem backlog"),
)

#: network and TLS options shared by outputs that speak HTTP.
NET_OPTIONS: tuple[Option, ...] = (
    Option("net.connect_timeout", "duration", default="10", help="seconds to wait for a connection"),
    Option("net.keepalive", "bool", default="on", help="reuse connections"),
    Option("net.keepalive_idle_timeout", "duration", default="30", help="close idle connections after this"),
    Option("net.keepalive_max_recycle", "int", default=2000, ignored=True, help="accepted for compatibility"),
    Option("net.dns.mode", ignored=True, help="accepted for compatibility"),
    Option("net.source_address", ignored=True, help="accepted for compatibility"),
)
TLS_OPTIONS: tuple[Option, ...] = (
    Option("tls", "bool", default="off", help="use TLS"),
    Option("tls.verify", "bool", default="on", help="verify the server certificate"),
    Option("tls.ca_file", help="CA bundle to verify the server with"),
    Option("tls.ca_path", help="directory of CA certificates"),
    Option("tls.crt_file", help="client certificate"),
    Option("tls.key_file", help="client private key"),
    Option("tls.key_passwd", help="password of the client key"),
    Option("tls.vhost", help="server name for SNI"),
    Option("tls.debug", "int", default=1, ignored=True, help="accepted for compatibility"),
)


class Input(Plugin):
    """A source of records.  ``run`` produces until :meth:`request_stop` or EOF."""

    kind = "input"
    common_options = INPUT_COMMON

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        self.tag: str = settings.get("tag") or self.instance_name
        self.stopping = asyncio.Event()

    async def run(self) -> None:
        """Produce chunks with :meth:`emit` until stopped; returning means finished."""
        raise NotImplementedError

    async def emit(self, tag: str, events: list[Event], ack: Ack | None = None, nbytes: int = 0) -> None:
        """Hand a chunk to the pipeline; ``ack`` is acknowledged once it is delivered (see :class:`Ack`)."""
        assert self.context.runtime is not None, "emit called before the engine started"
        await self.context.runtime.ingest(self, tag, events, ack, nbytes)

    def request_stop(self) -> None:
        """Stop reading; ``run`` should return soon after."""
        self.stopping.set()


class Filter(Plugin):
    """Transforms chunks whose tag matches ``Match``/``Match_Regex``."""

    kind = "filter"
    common_options = FILTER_COMMON

    async def process(self, tag: str, events: list[Event]) -> list[Event]:
        """Return the events to keep (possibly changed); called once per chunk."""
        raise NotImplementedError

    def reemit(self, tag: str, events: list[Event]) -> None:
        """Send events back through the chain under a new tag (rewrite_tag)."""
        assert self.context.runtime is not None, "reemit called before the engine started"
        self.context.runtime.reemit(tag, events)


@dataclass(slots=True)
class Rendered:
    """One record as an output would send it, for ``shipper dry-run``.

    ``refused`` is a reason code when the destination would refuse the record
    (or the output would leave it out); such a record is shown, never sent.
    """

    destination: dict[str, Any]
    payload: str
    time_ns: int
    refused: str | None = None


@dataclass(slots=True)
class DryRunBatch:
    """What an output would send for one chunk, and how many API requests it would take.

    ``reasons`` explains each reason code that ``items`` use in ``refused``.
    """

    items: list[Rendered]
    requests: int
    reasons: Mapping[str, str] = field(default_factory=dict)


class Output(Plugin):
    """A destination.  The engine owns queues, workers, retries and acknowledgements."""

    kind = "output"
    common_options = OUTPUT_COMMON

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        #: retries per batch, None for unlimited; validated here so ``check`` reports a bad value.
        self.retry_limit = parse_retry_limit(str(settings["retry_limit"]), settings.where("retry_limit"))
        #: concurrent flushes (``Workers``); outputs size their connection pools from it.
        self.workers: int = max(1, settings["workers"])

    def pack(self, events: list[Event]) -> Packed | None:
        """How this output holds records until it flushes them; None: as JSON (:class:`~shipper.packed.Packed`).

        An output that never looks at the records (null) keeps less.
        """
        return None

    async def flush(self, tag: str, events: list[Event]) -> FlushResult:
        """Deliver ``events`` and say what became of each (:class:`~shipper.outputs.result.FlushResult`).

        Raising :class:`~shipper.errors.RetryableError` (retry them all) or
        :class:`~shipper.errors.PermanentError` (drop them all) also works; any
        other exception makes the engine look for the records the output cannot
        encode (with :meth:`dry_run`), drop those and flush the rest.
        """
        raise NotImplementedError

    async def flush_batch(self, tag: str, batch: EventBatch) -> FlushResult:
        """Deliver a batch as it waited for this output, packed; by default decoded and given to :meth:`flush`.

        An output that writes the records' JSON as it is (file) reads
        :attr:`EventBatch.packs <shipper.packed.EventBatch.packs>` instead and
        never decodes them.
        """
        return await self.flush(tag, batch.decoded())

    def dry_run(self, tag: str, events: list[Event]) -> DryRunBatch:
        """What :meth:`flush` would send, without sending it; the default renders JSON."""
        items = [Rendered({}, orjson.dumps(record).decode(), ts) for ts, record in events]
        return DryRunBatch(items, 1 if items else 0)
