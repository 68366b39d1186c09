"""``store_dir``: the objects being built, on disk, so that nothing is lost across a crash.

Layout under ``<store_dir>/<bucket>/<output instance>/``:

- ``index``: the next ``$INDEX``, written before an object using it is created,
  so a number is never given twice, even across kill -9;
- ``objects/<id>/state.json``: one object being built (:class:`ObjectState`): its
  tag and key, its multipart upload id and the ETags of the parts uploaded so far;
- ``objects/<id>/<n>.seg``: bytes not uploaded yet.  Segment ``n`` becomes part
  ``n - first_segment + 1``; the last segment is open for appends.

A flush appends one block to the open segment, then records the segment's new
length in the state file (written to a temporary name and renamed).  After a
crash a segment is cut back to the recorded length: bytes beyond it belong to
a flush that never returned, whose records the input sends again.  Segment
files already uploaded (number below ``first_segment + len(etags)``) are deleted.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

from shipper.atomicfile import write_atomic
from shipper.outputs.s3.keys import random_alphanumeric
from shipper.storage import safe_name

log = logging.getLogger("shipper.output.s3")

STATE = "state.json"
SEGMENT = ".seg"


@dataclass
class ObjectState:
    """One S3 object being built for one tag."""

    id: str
    tag: str
    key: str
    #: wall-clock creation time, for ``upload_timeout``.
    created: float
    records: int = 0
    #: bytes appended (compressed), for ``total_file_size``.
    size: int = 0
    #: the open segment and its committed length.
    segment: int = 1
    segment_size: int = 0
    #: records per segment not yet uploaded, by segment number (text keys: JSON).
    segment_records: dict[str, int] = field(default_factory=dict)
    upload_id: str | None = None
    #: segment number that is part 1 of the current upload.
    first_segment: int = 1
    etags: list[str] = field(default_factory=list)
    #: records in the parts uploaded so far.
    uploaded_records: int = 0
    #: no more appends: upload what is left and complete the object.
    completing: bool = False
    failures: int = 0

    @property
    def next_part_segment(self) -> int:
        """The segment to upload next."""
        return self.first_segment + len(self.etags)

    def sealed_segments(self) -> range:
        """Segments that are complete and not uploaded yet."""
        return range(self.next_part_segment, self.segment)


class ObjectStore:
    """The objects of one s3 output instance under ``store_dir``."""

    def __init__(self, root: Path, sync: bool = False) -> None:
        self.root = root
        self.sync = sync
        self.objects: dict[str, ObjectState] = {}
        #: the key of each tag's newest object, so a new object never takes it again.
        self._last_key: dict[str, str] = {}
        self._seq = itertools.count()

    @classmethod
    def for_output(cls, store_dir: Path, bucket: str, instance: str, sync: bool = False) -> ObjectStore:
        return cls(store_dir / safe_name(bucket) / safe_name(instance), sync)

    # -- files --------------------------------------------------------------
    def _dir(self, state: ObjectState) -> Path:
        return self.root / "objects" / state.id

    def segment_path(self, state: ObjectState, number: int) -> Path:
        return self._dir(state) / f"{number}{SEGMENT}"

    def _write_atomic(self, path: Path, data: bytes) -> None:
        write_atomic(path, data, self.sync)

    def save(self, state: ObjectState) -> None:
        self._write_atomic(self._dir(state) / STATE, orjson.dumps(asdict(state)))

    # -- $INDEX -------------------------------------------------------------
    def peek_index(self) -> int:
        try:
            return int((self.root / "index").read_text().strip() or 0)
        except (OSError, ValueError):
            return 0

    def take_index(self) -> int:
        """The next ``$INDEX``; the one after it is on disk before this one is used."""
        index = self.peek_index()
        self.root.mkdir(parents=True, exist_ok=True)
        self._write_atomic(self.root / "index", str(index + 1).encode())
        return index

    # -- objects ------------------------------------------------------------
    def create(self, tag: str, key: str) -> ObjectState:
        """A new object for ``tag``.

        Two objects of one tag started within the same second get the same key
        from a format whose finest part is seconds, and the second upload would
        replace the first; such a key gets ``-`` and 8 random characters.
        """
        if key == self._last_key.get(tag) or any(s.key == key for s in self.objects.values()):
            key = f"{key}-{random_alphanumeric()}"
            log.info("s3: key already used by an object of tag %s; this one is %s", tag, key)
        self._last_key[tag] = key
        state = ObjectState(id=f"{time.time_ns()}-{next(self._seq)}", tag=tag, key=key, created=time.time())
        self._dir(state).mkdir(parents=True, exist_ok=True)
        self.save(state)
        self.objects[state.id] = state
        return state

    def append(self, state: ObjectState, block: bytes, records: int) -> None:
        """Add one block to the open segment; durable (as storage.sync says) when this returns."""
        with open(self.segment_path(state, state.segment), "ab") as fh:
            fh.truncate(state.segment_size)  # drop what an interrupted append left; O_APPEND writes after it
            fh.write(block)
            if self.sync:
                fh.flush()
                os.fsync(fh.fileno())
        state.segment_size += len(block)
        state.size += len(block)
        state.records += records
        number = str(state.segment)
        state.segment_records[number] = state.segment_records.get(number, 0) + records
        self.save(state)

    def seal(self, state: ObjectState) -> None:
        """Close the open segment (if it has bytes); later appends start the next one."""
        if state.segment_size:
            state.segment += 1
            state.segment_size = 0
            self.save(state)

    def read_segment(self, state: ObjectState, number: int) -> bytes:
        data = self.segment_path(state, number).read_bytes()
        if number == state.segment:
            return data[: state.segment_size]
        return data

    def part_uploaded(self, state: ObjectState, number: int, etag: str) -> None:
        state.etags.append(etag)
        state.uploaded_records += state.segment_records.pop(str(number), 0)
        self.save(state)
        self.segment_path(state, number).unlink(missing_ok=True)

    def upload_lost(self, state: ObjectState) -> int:
        """The multipart upload is gone (aborted outside shipper): start a new one; returns records lost."""
        lost = state.uploaded_records
        state.first_segment = state.next_part_segment
        state.etags = []
        state.uploaded_records = 0
        state.upload_id = None
        self.save(state)
        return lost

    def pending_records(self, state: ObjectState) -> int:
        return sum(state.segment_records.values())

    def remove(self, state: ObjectState) -> None:
        self.objects.pop(state.id, None)
        shutil.rmtree(self._dir(state), ignore_errors=True)

    def buffered_bytes(self) -> int:
        """Bytes in store_dir not uploaded yet (for ``store_dir_limit_size``)."""
        total = 0
        for state in self.objects.values():
            for number in range(state.next_part_segment, state.segment + 1):
                path = self.segment_path(state, number)
                total += state.segment_size if number == state.segment else _size(path)
        return total

    def open_object(self, tag: str) -> ObjectState | None:
        for state in self.objects.values():
            if state.tag == tag and not state.completing:
                return state
        return None

    # -- recovery -----------------------------------------------------------
    def recover(self) -> list[ObjectState]:
        """Objects left by an earlier run, oldest first, cleaned up; unreadable ones are moved aside."""
        base = self.root / "objects"
        if not base.is_dir():
            return []
        found = []
        for directory in sorted(base.iterdir(), key=_age):
            try:
                state = ObjectState(**orjson.loads((directory / STATE).read_bytes()))
            except (OSError, ValueError, TypeError) as exc:
                self._quarantine(directory, str(exc))
                continue
            for path in directory.glob(f"*{SEGMENT}"):
                number = int(path.stem) if path.stem.isdigit() else -1
                if number < state.next_part_segment:
                    path.unlink()  # uploaded before the crash
                elif number == state.segment and path.stat().st_size > state.segment_size:
                    os.truncate(path, state.segment_size)
            for temp in directory.glob("*.tmp"):
                temp.unlink()
            self.objects[state.id] = state
            self._last_key[state.tag] = state.key
            found.append(state)
        return found

    def _quarantine(self, directory: Path, reason: str) -> None:
        target = self.root / "corrupt" / directory.name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(directory, target)
        log.error("s3: buffered object %s cannot be read (%s); moved to %s", directory, reason, target)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _age(path: Path) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in path.name.split("-"))
    except ValueError:
        return (2**63,)
