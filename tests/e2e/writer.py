"""A log writer for the reliability tests: numbered lines across N files, with rotation.

Run as a process next to ``shipper run`` so that a ``kill -9`` of the shipper
never disturbs the writer::

    python -m tests.e2e.writer DIR --files 20 --lines 2000 --rate 4000 \
        --rotate-every 700 --rotation rename

Every line is ``<file>:<seq> <padding>`` where ``<file>`` is the two-digit
file number and ``<seq>`` counts from 0 per file across rotations, so the
reader can compare sets: :func:`expected_lines` lists what was written and
:func:`parse_line` turns a delivered message back into ``(file, seq)``.

Rotation every ``--rotate-every`` lines of a file:

- ``rename``: ``app-07.log`` becomes ``app-07.log.<generation>`` and a new
  ``app-07.log`` is created (logrotate's default, kubelet's scheme); the
  rotated name never changes again, so tail can find it by inode.
- ``copytruncate``: the file is copied to ``app-07.log.<generation>`` and
  truncated in place (the writer holds no line back meanwhile, so what the
  file held is in the copy; a reader that had not reached the end misses the
  rest unless it also reads the copies, as with logrotate).
- ``mixed``: even-numbered files rename, odd-numbered ones copytruncate.

The rate is paced per 10 ms tick; when the writer finishes it creates
``DIR/.done`` so a test knows every line is on disk.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TICK = 0.01
DONE_MARKER = ".done"


def file_name(index: int) -> str:
    return f"app-{index:02d}.log"


def make_line(index: int, seq: int, width: int) -> str:
    """One numbered line of about ``width`` characters plus the newline."""
    head = f"{index:02d}:{seq:07d} "
    return head + "x" * max(0, width - len(head)) + "\n"


def parse_line(message: str) -> tuple[int, int] | None:
    """``(file, seq)`` of a delivered line, or None when it is not one of ours."""
    head = message[:10]
    if len(head) < 10 or head[2] != ":":
        return None
    try:
        return int(head[:2]), int(head[3:10])
    except ValueError:
        return None


def expected_lines(files: int, lines: int) -> set[tuple[int, int]]:
    return {(f, s) for f in range(files) for s in range(lines)}


@dataclass
class Plan:
    directory: Path
    files: int = 20
    lines: int = 2000
    rate: float = 4000.0
    rotate_every: int = 700
    rotation: str = "rename"
    width: int = 100

    def mode(self, index: int) -> str:
        if self.rotation == "mixed":
            return "rename" if index % 2 == 0 else "copytruncate"
        return self.rotation


def rotate(path: Path, generation: int, mode: str) -> None:
    rotated = path.with_name(f"{path.name}.{generation}")
    if mode == "rename":
        os.rename(path, rotated)
        path.touch()
    elif mode == "copytruncate":
        shutil.copyfile(path, rotated)
        os.truncate(path, 0)
    else:
        raise ValueError(f"unknown rotation {mode!r}")


def schedule(plan: Plan) -> Iterator[list[tuple[int, int]]]:
    """Lines to write per tick, round-robin over files: lists of ``(file, seq)``."""
    per_tick = max(1, round(plan.rate * TICK))
    order = ((f, s) for s in range(plan.lines) for f in range(plan.files))
    batch: list[tuple[int, int]] = []
    for item in order:
        batch.append(item)
        if len(batch) == per_tick:
            yield batch
            batch = []
    if batch:
        yield batch


def write(plan: Plan) -> None:
    plan.directory.mkdir(parents=True, exist_ok=True)
    paths = [plan.directory / file_name(i) for i in range(plan.files)]
    for path in paths:
        path.touch()
    generations = [0] * plan.files
    started = time.monotonic()
    for tick, batch in enumerate(schedule(plan)):
        per_file: dict[int, list[str]] = {}
        for index, seq in batch:
            if seq and seq % plan.rotate_every == 0:
                _append(paths[index], per_file.pop(index, []))
                generations[index] += 1
                rotate(paths[index], generations[index], plan.mode(index))
            per_file.setdefault(index, []).append(make_line(index, seq, plan.width))
        for index, lines in per_file.items():
            _append(paths[index], lines)
        delay = started + (tick + 1) * TICK - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    (plan.directory / DONE_MARKER).touch()


def _append(path: Path, lines: list[str]) -> None:
    if not lines:
        return
    with open(path, "a", encoding="ascii") as fh:
        fh.write("".join(lines))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--lines", type=int, default=2000, help="lines per file")
    parser.add_argument("--rate", type=float, default=4000.0, help="lines per second, all files together")
    parser.add_argument("--rotate-every", type=int, default=700, help="lines per file between rotations")
    parser.add_argument("--rotation", choices=("rename", "copytruncate", "mixed"), default="rename")
    parser.add_argument("--width", type=int, default=100, help="characters per line")
    args = parser.parse_args(argv)
    write(Plan(args.directory, args.files, args.lines, args.rate, args.rotate_every, args.rotation, args.width))


if __name__ == "__main__":
    main()
