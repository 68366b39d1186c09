"""The ``tail`` input: follow files, decode container logs, survive rotation, commit on ack.

One task reads every file in rounds: each round reads what is new in each
file (large positional reads, one chunk per read), and when nothing was
new it checks rotation, deletion and multiline flush timeouts, rescans the
``Path`` globs when due, and sleeps until inotify (or the stat-polling
interval) says something changed.  Open files are bounded
(:mod:`shipper.inputs.tail.handles`): when no descriptor is free, an idle
file is closed ("parked") and opened again, by identity, once it changes.  Offsets reach the ``DB`` only when the
engine acknowledges a chunk (:meth:`TailInput.acknowledge`), in file order.
"""

from __future__ import annotations

import os
import time
from functools import partial

from shipper.errors import ConfigError, ConfigErrors
from shipper.events import Event, now_ns
from shipper.inputs.acks import AckWindow, WindowAck
from shipper.inputs.tail.dockermode import DockerModeDecoder
from shipper.inputs.tail.handles import BUDGET
from shipper.inputs.tail.offsets import Left, still_there
from shipper.inputs.tail.paths import PathSet
from shipper.inputs.tail.positions import Positions
from shipper.inputs.tail.reader import TailFile
from shipper.inputs.tail.records import plain_events, with_path
from shipper.inputs.tail.tagging import TagMaker
from shipper.inputs.tail.watcher import INOTIFY_RECHECK, ChangeWatcher
from shipper.multiline import MultilineParser, new_chain
from shipper.multiline.decoder import DecoderChain
from shipper.options import Option, Settings
from shipper.parsers.base import Parser
from shipper.parsers.onigmo import RegexError
from shipper.plugin import Context, Input
from shipper.registry import register

#: bytes read from one file per round before moving to the next file (fairness).
BYTES_PER_ROUND = 4 * 1024 * 1024
#: at most one long-line warning per file per this many seconds.
WARN_EVERY = 60.0


def comma_list(text: str) -> list[str]:
    """Fluent Bit splits Path and Exclude_Path on commas only: paths may contain spaces."""
    return [part.strip() for part in text.split(",") if part.strip()]


@register
class TailInput(Input):
    """Fluent Bit's tail: files matching ``Path``, line by line, with multiline parsers."""

    name = "tail"
    summary = "follow log files (container logs, rotation, multiline, offsets DB)"
    options = (
        Option("path", required=True, help="comma-separated globs of files to read"),
        Option("exclude_path", default="", help="comma-separated fnmatch patterns of paths to skip"),
        Option("key", default="log", help="record key of the line when no parser applies"),
        Option("path_key", help="add the file's path under this key"),
        Option("offset_key", help="add the line's byte offset under this key"),
        Option("tag_regex", help="named captures from the path fill <name> in Tag"),
        Option("read_from_head", "bool", default="false", help="read files found at start-up from the beginning"),
        Option("refresh_interval", "duration", default="60", help="seconds between rescans of Path"),
        Option("rotate_wait", "duration", default="5", help="seconds to keep reading a rotated file"),
        Option("ignore_older", "duration", help="skip files not modified for this long"),
        Option("skip_long_lines", "bool", default="off", help="skip lines longer than Buffer_Max_Size quietly"),
        Option("skip_empty_lines", "bool", default="off", help="drop zero-length lines"),
        Option("buffer_chunk_size", "size", default="32k",
               help="bytes read at a time; each read's lines go down the pipeline as one chunk"),
        Option("buffer_max_size", "size", default="32k", help="longest line kept; longer ones are skipped"),
        Option("db", help="SQLite file where offsets are committed"),
        Option("db.sync", default="normal", choices=("extra", "full", "normal", "off"), help="SQLite synchronous"),
        Option("db.locking", "bool", default="false", help="hold the DB in exclusive locking mode"),
        Option("db.journal_mode", default="wal", choices=("delete", "truncate", "persist", "memory", "wal", "off"),
               help="SQLite journal mode"),
        Option("db.compare_filename", "bool", default="false", ignored=True, help="accepted for compatibility"),
        Option("inotify_watcher", "bool", default="true", help="use inotify; off means stat polling"),
        Option("parser", help="[PARSER] applied to each line"),
        Option("multiline.parser", "list", default=[], help="multiline parsers tried in order per line"),
        Option("exit_on_eof", "bool", default="false", help="stop shipper when every file is read to its end"),
        Option("docker_mode", "bool", default="off",
               help="legacy: join docker json-file lines split by the runtime, then apply Parser"),
        Option("docker_mode_flush", "int", default=4, help="legacy: flush timeout of Docker_Mode, seconds"),
        Option("docker_mode_parser", help="with Docker_Mode: a line this parser matches starts a new record; "
                                           "other lines are joined to the one before"),
        Option("static_batch_size", "size", ignored=True, help="accepted for compatibility"),
        Option("file_cache_advise", "bool", default="on", ignored=True, help="accepted for compatibility"),
        Option("progress_check_interval", "duration", ignored=True, help="accepted for compatibility"),
        Option("progress_check_interval_nsec", "int", ignored=True, help="accepted for compatibility"),
        Option("unicode.encoding", ignored=True, help="accepted for compatibility; input must be UTF-8"),
        Option("generic.encoding", ignored=True, help="accepted for compatibility; input must be UTF-8"),
    )

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        errors: list[ConfigError] = []
        self.key: str = settings["key"]
        self.path_key: str | None = settings.get("path_key")
        self.offset_key: str | None = settings.get("offset_key")
        self.max_line: int = settings["buffer_max_size"]
        self.read_size: int = max(1, settings["buffer_chunk_size"])
        self.reads_per_round = max(1, BYTES_PER_ROUND // self.read_size)
        self.skip_long: bool = settings["skip_long_lines"]
        self.skip_empty: bool = settings["skip_empty_lines"]
        self.read_from_head: bool = settings["read_from_head"]
        self.refresh: float = settings["refresh_interval"]
        self.rotate_wait: float = settings["rotate_wait"]
        self.ignore_older: float | None = settings.get("ignore_older")
        self.exit_on_eof: bool = settings["exit_on_eof"]
        self.parser = None
        if settings.get("parser"):
            self.parser = context.parsers.get(settings["parser"])
            if self.parser is None:
                errors.append(ConfigError(f"tail: parser {settings['parser']!r} is not defined", settings.where("parser")))
        self.multiline: list[MultilineParser] = []
        for name in settings["multiline.parser"]:
            parser = context.multiline_parsers.get(name)
            if parser is None:
                errors.append(ConfigError(f"tail: multiline parser {name!r} is not defined",
                                          settings.where("multiline.parser")))
            else:
                self.multiline.append(parser)
        #: legacy Docker_Mode (without multiline.parser): (Docker_Mode_Parser or None, flush seconds)
        self.docker_mode: tuple[Parser | None, float] | None = None
        if settings["docker_mode"] and not settings["multiline.parser"]:
            first_line = None
            if settings.get("docker_mode_parser"):
                first_line = context.parsers.get(settings["docker_mode_parser"])
                if first_line is None:
                    errors.append(ConfigError(f"tail: parser {settings['docker_mode_parser']!r} is not defined",
                                              settings.where("docker_mode_parser")))
            self.docker_mode = (first_line, float(max(1, settings["docker_mode_flush"])))
        try:
            self.tagger = TagMaker(self.tag, settings.get("tag_regex"))
        except RegexError as exc:
            errors.append(ConfigError(f"tail: invalid Tag_Regex: {exc}", settings.where("tag_regex")))
        if errors:
            raise ConfigErrors(errors)
        dry = context.dry_run
        self.dry = dry is not None
        self.pathset = PathSet(comma_list(settings["path"]), comma_list(settings["exclude_path"]),
                               dry.log_dir if dry else None)
        self.files: dict[tuple[int, int], TailFile] = {}
        #: the file now open under each path (as configured and resolved), for inotify's reports.
        self.by_path: dict[str, TailFile] = {}
        #: files no longer read whose chunks are still in flight; closed when acknowledged.
        self.draining: list[TailFile] = []
        self.positions = Positions(self.instance_name, self.log, self._db_failed, self.count)
        self.watcher: ChangeWatcher | None = None
        self._warned: dict[tuple[str, str], float] = {}
        self._rescan_soon = False
        #: files found but not opened for want of a descriptor, and whether to read them from the start.
        self._unopened: dict[str, bool] = {}

    # -- life cycle -----------------------------------------------------------
    async def start(self) -> None:
        path = self.settings.get("db")
        if path and not self.dry:
            self.positions.open_db(path, self.settings["db.sync"], self.settings["db.locking"],
                                   self.settings["db.journal_mode"])

    def request_stop(self) -> None:
        super().request_stop()
        if self.watcher is not None:
            self.watcher.changed.set()  # wake the loop now rather than at the next stat round

    async def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.close()
        tails = [*self.files.values(), *self.draining]
        self.positions.hand_over(tails)
        for tail in tails:
            self._release(tail)
        self.files.clear()
        self.by_path.clear()
        self.draining.clear()
        self.positions.close()

    async def run(self) -> None:
        self.positions.take_over()
        self.watcher = ChangeWatcher(self.settings["inotify_watcher"] and not self.dry, self.log)
        self._scan(first=True)
        self._recover_rotated()
        last_scan = full_due = time.monotonic()
        changed: set[str] | None = None
        busy: list[TailFile] = []
        while not self.stopping.is_set():
            now = time.monotonic()
            full = changed is None or now >= full_due
            if full:
                targets = list(self.files.values())
                full_due = now + INOTIFY_RECHECK
            else:
                targets = self._changed_files(changed or set(), busy)
            await self._read_round(targets)
            busy = [t for t in targets if not t.at_eof and t.fd >= 0]
            now = time.monotonic()
            if not busy:
                await self._check_files(now, targets)
                if (self.exit_on_eof or self.dry) and not self._unopened and all(t.at_eof for t in self.files.values()):
                    await self._flush_all()
                    if not self.dry and self.context.runtime is not None:
                        self.context.runtime.request_shutdown(f"{self.instance_name}: every file read to its end")
                    return
            if self._rescan_soon or now - last_scan >= self.refresh:
                self._rescan_soon = any(t.rotated_at is not None for t in self.files.values())
                self._scan(first=False)
                last_scan = now
            # files with more to read go first, without waiting; otherwise sleep until a change
            changed = set() if busy else await self.watcher.wait()
        await self._flush_all()

    def _changed_files(self, paths: set[str], busy: list[TailFile]) -> list[TailFile]:
        """The files inotify named, plus those still being read; an unknown path may be a new file."""
        targets = list(busy)
        for path in paths:
            tail = self.by_path.get(path)
            if tail is None:
                self._rescan_soon = True
            elif tail not in targets:
                targets.append(tail)
        return targets

    # -- discovery --------------------------------------------------------------
    def _scan(self, first: bool) -> None:
        """Open files that match Path and are not open yet."""
        cutoff = time.time() - self.ignore_older if self.ignore_older else None
        seen: set[tuple[int, int]] = set()
        matched = self.pathset.scan()
        if first and not matched:
            # a misspelt Path would otherwise read nothing, silently, for ever
            later = "" if self.dry else f"; files that appear are read within Refresh_Interval ({self.refresh:g}s)"
            self.log.warning("%s: Path matches no file yet (searched %s)%s", self.settings.where("path"),
                             ", ".join(self.pathset.searched()), later)
        for found in matched:
            try:
                st = os.stat(found.real)
            except OSError:
                continue
            seen.add((st.st_dev, st.st_ino))
            if (st.st_dev, st.st_ino) in self.files or (cutoff is not None and st.st_mtime < cutoff):
                continue
            tag = self.tagger.tag_for(found.shown)
            if tag is None:
                self._warn(found.shown, "tag_regex", "path does not match Tag_Regex; file not read")
                continue
            from_head = self._unopened.pop(found.real, self.read_from_head or not first)
            fd = self._open(found.real, found.shown)
            if fd is None:
                self._unopened[found.real] = from_head
                continue
            st = os.fstat(fd)
            offset = 0 if self.dry else self.positions.start(fd, st, found, from_head)
            tail = TailFile(found.real, found.shown, tag, fd, st.st_dev, st.st_ino, offset)
            # starting at the end of a line being written: skip its rest rather than ship half a line
            tail.skipping = offset > 0 and os.pread(fd, 1, offset - 1) != b"\n"
            self._add(tail)
        self.positions.keep_seen(seen)
        if self._unopened:
            self._rescan_soon = True
            self._warn("Path", "descriptors", f"{len(self._unopened)} file(s) wait for a free file descriptor "
                       f"(tail may hold {BUDGET.limit} open: RLIMIT_NOFILE minus a quarter kept for outputs and "
                       "the HTTP server); they are opened as read files are closed. Raise ulimit -n to read them sooner")
        self._watch()

    def _recover_rotated(self) -> None:
        """Finish files rotated away while shipper was down (the DB knows them; they left Path)."""
        for row, path in self.positions.rotated_away():
            # over the budget if need be: these are few, their rest exists nowhere else, and the
            # DB forgets them after this call
            fd = self._open(path, path, within_budget=False)
            if fd is None:
                continue
            st = os.fstat(fd)
            offset = row.offset if still_there(fd, st.st_size, row.offset, row.digest) else 0
            tail = TailFile(path, row.name, self.tagger.tag_for(row.name) or self.tag, fd, st.st_dev, st.st_ino,
                            offset)
            tail.rotated_at = time.monotonic()
            self.log.info("%s: rotated to %s while shipper was stopped; reading its rest from offset %d",
                          row.name, path, offset)
            self._add(tail)

    def _add(self, tail: TailFile) -> None:
        tail.window = AckWindow(tail.offset)
        if self.multiline:
            tail.chain = new_chain(self.multiline, self.key, True, self._standalone)
        elif self.docker_mode is not None:
            first_line, flush_seconds = self.docker_mode
            decoder = DockerModeDecoder(self.parser, first_line, self.key, flush_seconds)
            tail.chain = DecoderChain([decoder], self._standalone)
        self.files[tail.key] = tail
        self.by_path[tail.real] = self.by_path[os.path.realpath(tail.real)] = tail
        self.count("fluentbit_input_files_opened_total")
        # a row from the moment the file is opened: if it is rotated away before anything of it
        # was acknowledged and shipper stops, the restart still finds it by inode
        self.positions.save(tail)

    def _standalone(self, line: str, ts: int) -> Event:
        # Fluent Bit hands multiline parsers the line with its newline, and a line
        # no parser takes goes out as it came.
        return ts, {self.key: line + "\n"}

    def _watch(self) -> None:
        if self.watcher is None:
            return
        dirs = set(self.pathset.watch_roots())
        dirs.update(os.path.dirname(os.path.realpath(t.real)) for t in self.files.values())
        self.watcher.watch(dirs)

    # -- reading ----------------------------------------------------------------
    async def _read_round(self, targets: list[TailFile]) -> None:
        """Read what is new in these files (up to BYTES_PER_ROUND each; ``at_eof`` says who is done)."""
        for tail in targets:
            if tail.fd < 0 and (tail.parked is None or not self._unpark(tail)):
                continue
            try:
                if not tail.changed():
                    continue
                if tail.truncated():
                    self._truncated(tail)
                for _ in range(self.reads_per_round):
                    batch = tail.read(self.read_size, self.max_line, want_offsets=self.offset_key is not None,
                                      skip_empty=self.skip_empty)
                    if batch is None:
                        break
                    if batch.long_lines:
                        self._long_lines(tail, batch.long_lines)
                    await self._deliver(tail, self._events(tail, batch.lines, batch.offsets), batch.start,
                                        batch.end, batch.end - batch.start)
                    if tail.at_eof:
                        break
            except OSError as exc:
                self._warn(tail.shown, "read", f"read failed ({exc}); closing the file")
                self._retire(tail)

    def _events(self, tail: TailFile, lines: list[str], offsets: list[int] | None) -> list[Event]:
        ts = now_ns()
        try:
            return self._decode(tail, lines, offsets, ts)
        except Exception:
            # a parser bug must not lose the lines (they are already consumed): ship them raw
            self.count("shipper_tail_decode_errors_total")
            if self._warn(tail.shown, "decode", "decoding failed; the batch is shipped as raw lines", error=True):
                self.log.exception("%s: decoding failed", tail.shown)
            return plain_events(lines, ts, self.key, None, self.path_key, tail.shown, self.offset_key, offsets)

    def _decode(self, tail: TailFile, lines: list[str], offsets: list[int] | None, ts: int) -> list[Event]:
        if tail.chain is None:
            return plain_events(lines, ts, self.key, self.parser, self.path_key, tail.shown, self.offset_key, offsets)
        events: list[Event] = []
        before = tail.chain.truncated
        tail.chain.decode(lines, ts, events)
        if tail.chain.truncated != before:
            self.count("shipper_multiline_truncated_total", tail.chain.truncated - before)
            self._warn(tail.shown, "truncated", "a multiline group reached the 2 MB buffer limit and was split")
        if self.path_key is not None and events:
            events = with_path(events, self.path_key, tail.shown)
        return events

    async def _deliver(self, tail: TailFile, events: list[Event], start: int, end: int, nbytes: int) -> None:
        """Hand events over with a token for the offset that is safe to commit once they are delivered."""
        if tail.chain is not None and tail.chain.pending():
            if tail.pending_since is None:
                tail.pending_since = start
            safe = tail.pending_since
        else:
            tail.pending_since = None
            safe = end
        entry = tail.window.add(safe, acknowledged=not events)
        if events:
            await self.emit(tail.tag, events, ack=WindowAck(tail.window, entry, partial(self._commit, tail)), nbytes=nbytes)
        elif tail.window.advance():
            self._commit(tail)

    def _commit(self, tail: TailFile) -> None:
        if tail in self.draining and not tail.window.inflight:
            self._close_drained(tail)
        else:
            self.positions.save(tail)

    def _db_failed(self, message: str) -> None:
        self.count("shipper_tail_db_errors_total")
        self._warn("DB", "db", message, error=True)

    # -- housekeeping -------------------------------------------------------------
    async def _check_files(self, now: float, targets: list[TailFile]) -> None:
        """At EOF: notice rotation and deletion, retire old files, flush timed-out groups."""
        for tail in targets:
            if not tail.at_eof or tail.fd < 0:
                continue
            if tail.chain is not None and tail.chain.pending() and tail.quiet():
                # the rest of a group may already be in the file, unread: only a quiet file times out
                expired: list[Event] = []
                tail.chain.expire(now, expired)
                if expired:
                    await self._deliver(tail, self._pathed(expired, tail), tail.offset, tail.offset, 0)
            try:
                st = os.stat(tail.real)
                moved = (st.st_dev, st.st_ino) != tail.key
            except OSError:
                moved = True
            if not moved:
                continue
            if tail.rotated_at is None:
                tail.rotated_at = now
                self._rescan_soon = True
                self.count("fluentbit_input_files_rotated_total")
                self.log.info("%s: rotated or removed; reading the old file to its end for %gs",
                              tail.shown, self.rotate_wait)
            elif now - tail.rotated_at >= self.rotate_wait and tail.quiet():
                await self._flush(tail)
                self._retire(tail)

    def _pathed(self, events: list[Event], tail: TailFile) -> list[Event]:
        return with_path(events, self.path_key, tail.shown) if self.path_key is not None else events

    def _truncated(self, tail: TailFile) -> None:
        self.count("shipper_tail_truncations_total")
        self.log.warning("%s: truncated (copytruncate?); reading again from the start", tail.shown)
        tail.restart()
        tail.pending_since = None
        self.positions.save(tail, 0)

    def _retire(self, tail: TailFile) -> None:
        """Stop reading a file; it closes once its in-flight chunks are acknowledged."""
        self.files.pop(tail.key, None)
        for path in (tail.real, os.path.realpath(tail.real)):
            if self.by_path.get(path) is tail:
                del self.by_path[path]
        self.positions.retired(tail)
        self.count("fluentbit_input_files_closed_total")
        if tail.window.inflight:
            self.draining.append(tail)
        else:
            self._close_drained(tail)

    def _close_drained(self, tail: TailFile) -> None:
        if tail in self.draining:
            self.draining.remove(tail)
        self.positions.closing(tail)
        self._release(tail)

    # -- file descriptors ---------------------------------------------------------
    def _open(self, path: str, shown: str, within_budget: bool = True) -> int | None:
        """A descriptor for ``path`` within the budget (parking an idle file if need be), or None."""
        if within_budget and not BUDGET.free() and not self._park_idle():
            return None
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            self._warn(shown, "open", f"cannot open: {exc}")
            return None
        BUDGET.opened()
        return fd

    def _release(self, tail: TailFile) -> None:
        if tail.fd >= 0:
            tail.close()
            BUDGET.closed()

    def _park_idle(self) -> bool:
        """Close the idle file written longest ago (read to its end, nothing in flight or pending)."""
        idle = [t for t in self.files.values()
                if t.fd >= 0 and t.at_eof and t.rotated_at is None and not t.window.inflight
                and (t.chain is None or not t.chain.pending()) and t.quiet()]
        if not idle:
            return False
        tail = min(idle, key=lambda t: t.signature[1])
        tail.parked = Left.of(tail.fd, tail.offset)
        self._release(tail)
        self.count("shipper_tail_files_parked_total")
        return True

    def _unpark(self, tail: TailFile) -> bool:
        """Open a parked file again if it changed; True when it is open (and is the file it was)."""
        left = tail.parked
        assert left is not None
        try:
            st: os.stat_result | None = os.stat(tail.real)
        except OSError:
            st = None
        same = st is not None and (st.st_dev, st.st_ino) == tail.key
        if same and st is not None and (st.st_size, st.st_mtime_ns) == tail.signature:
            return False  # still idle
        path = tail.real if same else self._moved(tail)
        if path is not None:
            fd = self._open(path, tail.shown)
            if fd is None:
                return False  # no descriptor free yet: next round
            opened = os.fstat(fd)
            if (opened.st_dev, opened.st_ino) == tail.key and left.fits(fd, opened.st_size):
                tail.fd, tail.parked = fd, None
                return True
            os.close(fd)
            BUDGET.closed()
        # deleted (or replaced) while closed: what was written after it was parked cannot be read
        self.count("shipper_tail_parked_files_gone_total")
        self.log.info("%s: removed while closed to save a descriptor; done with it", tail.shown)
        self._retire(tail)
        return False

    @staticmethod
    def _moved(tail: TailFile) -> str | None:
        """Where a parked file went when its name now holds another file (rotation): found by inode."""
        directory = os.path.dirname(os.path.realpath(tail.real))
        try:
            entries = list(os.scandir(directory))
        except OSError:
            return None
        return next((e.path for e in entries if e.is_file(follow_symlinks=False) and e.inode() == tail.ino), None)

    async def _flush(self, tail: TailFile) -> None:
        """Emit a file's pending multiline groups now."""
        if tail.chain is None or not tail.chain.pending():
            return
        events: list[Event] = []
        tail.chain.flush(events)
        await self._deliver(tail, self._pathed(events, tail), tail.offset, tail.offset, 0)

    async def _flush_all(self) -> None:
        for tail in list(self.files.values()):
            await self._flush(tail)

    def _long_lines(self, tail: TailFile, count: int) -> None:
        self.count("shipper_tail_long_lines_skipped_total", count)
        if self.skip_long:
            self._warn(tail.shown, "long", f"skipped {count} line(s) longer than Buffer_Max_Size ({self.max_line} bytes)")
        else:
            self._warn(tail.shown, "long", f"skipped {count} line(s) longer than Buffer_Max_Size ({self.max_line} bytes); "
                       "raise Buffer_Max_Size to keep them (Fluent Bit would stop reading this file)", error=True)

    def _warn(self, path: str, what: str, message: str, error: bool = False) -> bool:
        """One warning per file and kind per minute (never a log line per record); True when logged."""
        now = time.monotonic()
        if now - self._warned.get((path, what), -WARN_EVERY) < WARN_EVERY:
            return False
        if len(self._warned) > 1000:  # pods come and go: forget warnings that no longer hold anything back
            self._warned = {k: t for k, t in self._warned.items() if now - t < WARN_EVERY}
        self._warned[(path, what)] = now
        (self.log.error if error else self.log.warning)("%s: %s", path, message)
        return True
