"""The ``systemd`` input: journald entries as records, resumed from a cursor committed on ack.

Each round reads up to ``Max_Entries`` entries (and about 1 MB) on the
journal's own thread (:mod:`.journal`), hands them to the pipeline as chunks
of consecutive entries with the same tag, and when the journal has nothing
more waits for it to change.  The cursor of a chunk's last entry is
committed to ``DB`` only when the outputs acknowledge that chunk and every
chunk before it, so a crash re-reads what was not delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time

from shipper.errors import ConfigError, ConfigErrors
from shipper.events import Event
from shipper.inputs.acks import AckWindow, WindowAck
from shipper.inputs.systemd.cursor import CursorDB
from shipper.inputs.systemd.journal import (
    MATCH_RE,
    Entry,
    Journal,
    Shape,
    Start,
    directory_problem,
)
from shipper.options import Option, Settings
from shipper.plugin import Context, Input
from shipper.reasonlog import ReasonLog
from shipper.registry import register

#: a round stops after about this many bytes of fields (Fluent Bit pauses after 1 MB too).
ROUND_BYTES = 1_000_000
#: longest wait for a change before asking libsystemd again.
WAIT_TIMEOUT = 1.0
#: seconds between attempts to open a journal directory that is missing or unreadable.
REOPEN_EVERY = 10.0

#: committed cursors by (input instance name, journal path), from a systemd input that stopped
#: to the one a reload starts.
_HANDOVER: dict[tuple[str, str | None], str] = {}


@register
class SystemdInput(Input):
    """Fluent Bit's systemd input: the journal through libsystemd, filtered by matches."""

    name = "systemd"
    summary = "read the systemd journal (journald), resuming from a cursor DB"
    options = (
        Option("path", help="journal directory (default: the local journal, as journalctl)"),
        Option("systemd_filter", repeatable=True, help="FIELD=value match, e.g. _SYSTEMD_UNIT=kubelet.service"),
        Option("systemd_filter_type", default="or", choices=("and", "or"),
               help="Or: an entry matching any filter is read; And: only one matching all"),
        Option("read_from_tail", "bool", default="false", help="start at the end of the journal when there is no cursor"),
        Option("read_since_minutes_ago", "int", default=0,
               help="start this many minutes back when there is no cursor (0: from the start)"),
        Option("max_fields", "int", default=8000, help="fields kept per entry; the rest are dropped"),
        Option("max_entries", "int", default=5000, help="entries read per round"),
        Option("strip_underscores", "bool", default="false", help="drop the leading _ of field names (_PID becomes PID)"),
        Option("lowercase", "bool", default="false", help="lowercase field names"),
        Option("db", help="SQLite file where the journal cursor is committed"),
        Option("db.sync", default="normal", choices=("extra", "full", "normal", "off"), help="SQLite synchronous"),
    )

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        errors: list[ConfigError] = []
        filters: list[str] = list(settings["systemd_filter"])
        for prop in settings.ordered(["systemd_filter"]):
            if not MATCH_RE.match(prop.value):
                errors.append(ConfigError(
                    f"systemd: Systemd_Filter {prop.value!r} is not FIELD=value with an upper-case field name "
                    "(journald field names are A-Z, 0-9 and _), e.g. _SYSTEMD_UNIT=kubelet.service", prop.location))
        for name in ("max_fields", "max_entries"):
            if settings[name] < 1:
                errors.append(ConfigError(f"systemd: {name} must be at least 1", settings.where(name)))
        if errors:
            raise ConfigErrors(errors)
        self.filters = filters
        self.filter_and = settings["systemd_filter_type"].lower() == "and"
        self.shape = Shape(settings["strip_underscores"], settings["lowercase"], settings["max_fields"])
        self.max_entries: int = settings["max_entries"]
        self.from_tail: bool = settings["read_from_tail"]
        self.since_minutes: int = max(0, settings["read_since_minutes_ago"])
        dry = context.dry_run
        self.dry = dry is not None
        #: in dry-run the journal comes from --journal-dir, never from the host.
        self.path: str | None = (str(dry.journal_dir) if dry.journal_dir else None) if dry else settings.get("path")
        self.prefix, star, self.suffix = self.tag.partition("*")
        self.dynamic_tag = bool(star)
        self.db: CursorDB | None = None
        self.window: AckWindow[str | None] = AckWindow(None)
        self.journal: Journal | None = None
        #: the cursor of the last entry handed to the pipeline.
        self.last_read: str | None = None
        #: each kind of problem is logged at most once a minute.
        self.reasons = ReasonLog(self.log)

    # -- life cycle -------------------------------------------------------------
    async def start(self) -> None:
        path = self.settings.get("db")
        if path and not self.dry:
            try:
                self.db = CursorDB(path, self.settings["db.sync"])
            except (sqlite3.Error, OSError) as exc:
                self._db_failed(f"cannot open DB {path} ({exc}): reading WITHOUT a cursor database; "
                                "a restart will start again from Read_From_Tail")

    async def stop(self) -> None:
        if self.window.committed is not None and not self.dry:
            _HANDOVER[(self.instance_name, self.path)] = self.window.committed
        if self.journal is not None:
            await self.journal.close()
            self.journal = None
        if self.db is not None:
            self.db.close()
            self.db = None

    async def run(self) -> None:
        if self.dry and self.path is None:
            self.log.warning("dry-run without --journal-dir: the systemd input reads nothing")
            return
        cursor = None if self.dry else _HANDOVER.pop((self.instance_name, self.path), None) or self._load_cursor()
        first = True
        while not self.stopping.is_set():
            journal = await self._open(cursor, first)
            if journal is None:
                return
            first = False
            try:
                await self._follow(journal)
                return
            except (OSError, SystemError, ValueError) as exc:
                # a journal file removed or damaged under the reader: open again after the last entry read
                self.count("shipper_systemd_read_errors_total")
                self.reasons.report(("read",), 1, f"reading the journal failed ({exc}); opening it again")
                cursor = self.last_read or cursor
                await journal.close()
                self.journal = None

    async def _follow(self, journal: Journal) -> None:
        """Read rounds until stopped (or, in dry-run, until the end of the journal)."""
        while not self.stopping.is_set():
            entries = await journal.read(self.max_entries, ROUND_BYTES)
            if entries:
                await self._deliver(entries)
                continue
            if self.dry:
                return
            await journal.wait(self.stopping, WAIT_TIMEOUT)

    async def _open(self, cursor: str | None, first: bool) -> Journal | None:
        """Open the journal after ``cursor``, retrying while its directory is missing; None when stopped first."""
        # dry-run shows the whole journal it is given
        since = int((time.time() - self.since_minutes * 60) * 1_000_000) if self.since_minutes and not self.dry else 0
        start = Start(self.from_tail and not self.dry, since)
        while not self.stopping.is_set():
            problem = directory_problem(self.path) if self.path is not None else None
            if problem is None:
                journal = Journal(self.path, self.filters, self.filter_and, self.shape)
                try:
                    resumed = await journal.open(cursor, start)
                except (OSError, SystemError, ValueError) as exc:
                    await journal.close()
                    problem = f"cannot be opened ({exc})"
                else:
                    self.journal = journal
                    if first and resumed:
                        self.window.committed = cursor
                    if cursor is not None and not resumed:
                        self.reasons.report(("cursor",), 1, "the committed cursor is not valid in this journal; "
                                            "starting as if there were none", logging.WARNING)
                    return journal
            self.count("shipper_systemd_open_errors_total")
            if self.dry:
                self.log.error("journal directory %s %s", self.path, problem)
                return None
            self.reasons.report(("open",), 1, f"journal directory {self.path} {problem}; retrying every "
                                f"{REOPEN_EVERY:g}s (mount the host's journal directory, e.g. /var/log/journal, "
                                "into the pod)")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), REOPEN_EVERY)
        return None

    def _load_cursor(self) -> str | None:
        if self.db is None:
            return None
        try:
            return self.db.load()
        except sqlite3.Error as exc:
            self._db_failed(f"cannot read the cursor from DB ({exc}); starting as if there were none")
            return None

    # -- delivery -----------------------------------------------------------------
    def tag_of(self, unit: str) -> str:
        """The tag of an entry: ``*`` in Tag stands for its unit, as in Fluent Bit."""
        return f"{self.prefix}{unit}{self.suffix}" if self.dynamic_tag else self.tag

    async def _deliver(self, entries: list[Entry]) -> None:
        """Emit runs of consecutive entries with the same tag, each with the cursor of its last entry."""
        start = 0
        for i in range(1, len(entries) + 1):
            if i < len(entries) and self.tag_of(entries[i].unit) == self.tag_of(entries[start].unit):
                continue
            run = entries[start:i]
            events: list[Event] = [(e.time_ns, e.record) for e in run]
            ack = WindowAck(self.window, self.window.add(run[-1].cursor), self._commit)
            self.last_read = run[-1].cursor
            await self.emit(self.tag_of(run[0].unit), events, ack=ack, nbytes=sum(e.size for e in run))
            start = i

    def _commit(self) -> None:
        """Save the committed cursor (the window moved over delivered entries)."""
        if self.db is not None and self.window.committed is not None:
            try:
                self.db.save(self.window.committed)
            except sqlite3.Error as exc:
                self._db_failed(f"cannot write the cursor to DB ({exc})")

    # -- reporting ----------------------------------------------------------------
    def _db_failed(self, message: str) -> None:
        self.count("shipper_systemd_db_errors_total")
        self.reasons.report(("db",), 1, message)

