"""Per-entry cost of the systemd input's journal reading, against a bare cysystemd loop.

Run: ``python -m bench.journal_micro`` (needs systemd-journal-remote to write the journal).
It writes a journal of 20,000 entries shaped like a node's kubelet/containerd logs, then
times, best of several rounds of CPU time of the whole process (the reading thread
included), reading all of it:

- floor: a bare loop over cysystemd's reader taking each entry's fields, time and cursor,
  what any Python reader on this binding must spend;
- shipper: :class:`shipper.inputs.systemd.journal.Journal` reading rounds of Max_Entries
  (5000) on its own thread into records, as the input does.
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
from pathlib import Path

from bench.timing import best_cpu_seconds
from shipper.inputs.systemd.journal import Journal, Shape, Start
from tests.journald import write_journal

N = 20_000
ROUNDS = 5
UNITS = ("kubelet.service", "containerd.service", "sshd.service", "docker.service")


def node_entry(i: int) -> dict[str, str]:
    return {
        "_SYSTEMD_UNIT": UNITS[i % 4], "_HOSTNAME": "ip-10-0-1-23.ec2.internal", "PRIORITY": "6",
        "MESSAGE": f"I1207 03:00:00.{i % 1000000:06d} 2211 kubelet.go:1234] sync pod {i} status ok",
        "_PID": "2211", "SYSLOG_IDENTIFIER": "kubelet", "_TRANSPORT": "stdout", "_COMM": "kubelet",
        "_EXE": "/usr/bin/kubelet", "_CMDLINE": "/usr/bin/kubelet --config /etc/kubernetes/kubelet/config.json",
        "_UID": "0", "_GID": "0",
    }


def floor(directory: Path) -> int:
    from cysystemd.reader import JournalReader  # type: ignore[import-not-found]

    reader = JournalReader()
    reader.open_directory(str(directory))
    reader.seek_head()
    count = 0
    while (entry := reader.next()) is not None:
        _ = (entry.data, entry.get_realtime_usec(), entry.cursor)
        count += 1
    return count


def shipper_read(directory: Path) -> int:
    async def read_all() -> int:
        journal = Journal(str(directory), [], False, Shape())
        await journal.open(None, Start())
        count = 0
        while entries := await journal.read(5000, 1_000_000):
            count += len(entries)
        await journal.close()
        return count

    return asyncio.run(read_all())


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "journal"
        write_journal(directory, [node_entry(i) for i in range(N)])
        assert floor(directory) == shipper_read(directory) == N
        floor_s = best_cpu_seconds(lambda: floor(directory), ROUNDS, gc.collect)
        ours_s = best_cpu_seconds(lambda: shipper_read(directory), ROUNDS, gc.collect)
    print(f"{N} journal entries, 14 fields each; CPU per entry, best of {ROUNDS}")
    print(f"  floor (bare cysystemd loop)  {floor_s / N * 1e6:6.1f} µs")
    print(f"  shipper Journal.read          {ours_s / N * 1e6:6.1f} µs   ({ours_s / floor_s:.2f}x the floor)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
