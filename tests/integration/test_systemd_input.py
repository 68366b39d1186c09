"""The systemd input on real journal files (written by systemd-journal-remote), with a fake pipeline."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from shipper.errors import ConfigError, ConfigErrors
from shipper.inputs import systemd as systemd_module
from shipper.inputs.systemd import SystemdInput, journal as journal_module
from shipper.plugin import DryRun
from tests.factory import make_context, make_plugin
from tests.journald import write_journal
from tests.poll import wait_for_async
from tests.unit.test_tail_input import FakeRuntime

KUBELET = {"_SYSTEMD_UNIT": "kubelet.service", "_HOSTNAME": "node-a", "MESSAGE": "kubelet started", "_PID": "41"}
CONTAINERD = {"_SYSTEMD_UNIT": "containerd.service", "_HOSTNAME": "node-b", "MESSAGE": "containerd up"}
SSHD = {"_SYSTEMD_UNIT": "sshd.service", "_HOSTNAME": "node-a", "MESSAGE": "session opened"}
KERNEL = {"_TRANSPORT": "kernel", "MESSAGE": "eth0: link up"}


def make_systemd(props: list[tuple[str, str]] | dict[str, str], pipeline: FakeRuntime | None = None,
                 dry_run: DryRun | None = None, instance: str | None = None) -> tuple[SystemdInput, FakeRuntime]:
    context = make_context()
    context.dry_run = dry_run
    plugin = make_plugin("input", "systemd", props, context=context, instance_name=instance)
    assert isinstance(plugin, SystemdInput)
    context.runtime = pipeline or FakeRuntime()
    return plugin, context.runtime  # type: ignore[return-value]


class Running:
    """A started systemd input, reading in a task until the block ends."""

    def __init__(self, plugin: SystemdInput) -> None:
        self.plugin = plugin
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SystemdInput:
        await self.plugin.start()
        self.task = asyncio.create_task(self.plugin.run())
        return self.plugin

    async def __aexit__(self, *exc: object) -> None:
        self.plugin.request_stop()
        assert self.task is not None
        await asyncio.wait_for(self.task, 10)
        await self.plugin.stop()


async def read_all(props: dict[str, str] | list[tuple[str, str]], count: int) -> FakeRuntime:
    """Run the input (as the daemon does) until ``count`` records came, then stop it."""
    plugin, pipeline = make_systemd(props)
    async with Running(plugin):
        await wait_for_async(lambda: len(pipeline.records) >= count, 20)
    return pipeline


async def read_dry(journal: Path, props: dict[str, str] | list[tuple[str, str]] = ()) -> FakeRuntime:
    """Read a whole journal directory the way dry-run does: from its start to its end, then finish."""
    plugin, pipeline = make_systemd(props, dry_run=DryRun(journal_dir=journal))
    await plugin.start()
    try:
        await asyncio.wait_for(plugin.run(), 20)
    finally:
        await plugin.stop()
    return pipeline


async def test_records_times_and_tags_from_the_unit(tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    start = 1_700_000_000_123_456
    write_journal(journal, [KUBELET, {"MESSAGE": "line one\nline two", "TAG": ["a", "b"]}], start_usec=start)
    pipeline = await read_dry(journal, {"tag": "host.*.journal"})
    assert pipeline.tags == ["host.kubelet.service.journal", "host.unknown.journal"]
    (t1, first), (t2, second) = [e for _, events in pipeline.chunks for e in events]
    assert (t1, t2) == (start * 1000, (start + 1) * 1000)
    assert {k: first[k] for k in KUBELET} == KUBELET and first["_BOOT_ID"]
    assert second["MESSAGE"] == "line one\nline two" and second["TAG"] == ["a", "b"]
    assert not any(k.startswith("__") for k in first)  # cursor and timestamps are not fields


async def test_tag_without_star_and_default_tag(tmp_path: Path) -> None:
    write_journal(tmp_path / "j", [KUBELET, SSHD])
    pipeline = await read_dry(tmp_path / "j", {"tag": "journal"})
    assert pipeline.tags == ["journal", "journal"] and len(pipeline.chunks) == 1
    pipeline = await read_dry(tmp_path / "j")
    assert pipeline.tags == ["systemd.0", "systemd.0"]


@pytest.mark.parametrize("filter_type, filters, expected", [
    (None, ["_SYSTEMD_UNIT=kubelet.service", "_SYSTEMD_UNIT=containerd.service"], ["kubelet started", "containerd up"]),
    ("Or", ["_SYSTEMD_UNIT=kubelet.service", "_HOSTNAME=node-a"], ["kubelet started", "session opened"]),
    ("And", ["_SYSTEMD_UNIT=kubelet.service", "_HOSTNAME=node-a"], ["kubelet started"]),
    ("and", ["_HOSTNAME=node-a", "_SYSTEMD_UNIT=sshd.service"], ["session opened"]),
    # And means every filter, even two values of one field (journald alone would OR those)
    ("And", ["_SYSTEMD_UNIT=kubelet.service", "_SYSTEMD_UNIT=sshd.service"], []),
    (None, ["_TRANSPORT=kernel"], ["eth0: link up"]),
])
async def test_filters_combine_as_fluent_bit_does(
    tmp_path: Path, filter_type: str | None, filters: list[str], expected: list[str]
) -> None:
    write_journal(tmp_path / "j", [KUBELET, CONTAINERD, SSHD, KERNEL, {"MESSAGE": "end", "_HOSTNAME": "node-z"}])
    props = [("systemd_filter", f) for f in filters]
    props += [("systemd_filter_type", filter_type)] if filter_type else []
    pipeline = await read_dry(tmp_path / "j", props)
    assert [r["MESSAGE"] for r in pipeline.records] == expected


async def test_strip_underscores_lowercase_and_max_fields(tmp_path: Path) -> None:
    write_journal(tmp_path / "j", [{"_SYSTEMD_UNIT": "kubelet.service", "MESSAGE": "m", "PID": "1", "_PID": "2"}])
    pipeline = await read_dry(tmp_path / "j", {"strip_underscores": "on", "lowercase": "on"})
    record = pipeline.records[0]
    assert record["systemd_unit"] == "kubelet.service" and record["message"] == "m"
    assert sorted(record["pid"]) == ["1", "2"]  # _PID and PID became one key: both values kept, as a list
    assert "boot_id" in record and not any(k.startswith("_") or k != k.lower() for k in record)
    pipeline = await read_dry(tmp_path / "j", {"max_fields": "2"})
    assert len(pipeline.records[0]) == 2


async def test_max_entries_bounds_each_round(tmp_path: Path) -> None:
    write_journal(tmp_path / "j", [{"MESSAGE": f"m{i}"} for i in range(10)])
    pipeline = await read_dry(tmp_path / "j", {"max_entries": "3", "tag": "t"})
    assert [len(events) for _, events in pipeline.chunks] == [3, 3, 3, 1]
    assert [r["MESSAGE"] for r in pipeline.records] == [f"m{i}" for i in range(10)]


async def test_follows_new_entries_and_read_from_tail_skips_old_ones(tmp_path: Path) -> None:
    # journald's layout: /var/log/journal/<machine-id>/*.journal, files added as it rotates
    journal = tmp_path / "journal"
    machine = journal / "4f8e0c2b9a6d4e1f8a7b6c5d4e3f2a1b"
    write_journal(machine, [{"MESSAGE": "old"}])
    plugin, pipeline = make_systemd({"path": str(journal), "read_from_tail": "on"})
    async with Running(plugin):
        await wait_for_async(lambda: plugin.journal is not None, 20)  # opened and at the end
        write_journal(machine, [{"MESSAGE": "new 1"}, {"MESSAGE": "new 2"}])
        await wait_for_async(lambda: len(pipeline.records) == 2, 20)
        write_journal(machine, [{"MESSAGE": "in a new file"}], name="system@0001.journal")
        await wait_for_async(lambda: len(pipeline.records) == 3, 20)
    assert [r["MESSAGE"] for r in pipeline.records] == ["new 1", "new 2", "in a new file"]


async def test_a_journal_file_deleted_while_followed_is_left_and_new_files_are_read(tmp_path: Path) -> None:
    # journald vacuums old files and starts new ones while the input follows the directory
    machine = tmp_path / "journal" / "4f8e0c2b9a6d4e1f8a7b6c5d4e3f2a1b"
    old = write_journal(machine, [{"MESSAGE": "before"}], name="system@old.journal")
    plugin, pipeline = make_systemd({"path": str(machine.parent)})
    async with Running(plugin):
        await wait_for_async(lambda: len(pipeline.records) == 1, 20)
        old.unlink()
        write_journal(machine, [{"MESSAGE": "after 1"}, {"MESSAGE": "after 2"}], name="system.journal")
        await wait_for_async(lambda: len(pipeline.records) == 3, 20)
    assert [r["MESSAGE"] for r in pipeline.records] == ["before", "after 1", "after 2"]
    assert plugin.metrics.value("shipper_systemd_read_errors_total", name="systemd.0") == 0


async def test_a_damaged_journal_file_does_not_hide_the_others(tmp_path: Path) -> None:
    write_journal(tmp_path / "j", [KUBELET, SSHD])
    (tmp_path / "j" / "system@damaged.journal").write_bytes(b"LPKSHHRH" + b"\x00\xff" * 4096)
    pipeline = await read_dry(tmp_path / "j")
    assert [r["MESSAGE"] for r in pipeline.records] == ["kubelet started", "session opened"]


async def test_read_since_minutes_ago_starts_that_far_back(tmp_path: Path) -> None:
    now_usec = time.time_ns() // 1000
    write_journal(tmp_path / "j", [{"MESSAGE": "two hours ago"}], start_usec=now_usec - 7200 * 1_000_000)
    write_journal(tmp_path / "j", [{"MESSAGE": "a minute ago"}], start_usec=now_usec - 60 * 1_000_000)
    pipeline = await read_all({"path": str(tmp_path / "j"), "read_since_minutes_ago": "30"}, 1)
    assert [r["MESSAGE"] for r in pipeline.records] == ["a minute ago"]


async def test_journal_is_read_off_the_event_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: set[str] = set()
    real = journal_module.make_record

    def spy(data: dict[str, Any], shape: Any) -> Any:
        threads.add(threading.current_thread().name)
        return real(data, shape)

    monkeypatch.setattr(journal_module, "make_record", spy)
    write_journal(tmp_path / "j", [KUBELET])
    await read_all({"path": str(tmp_path / "j")}, 1)
    await read_dry(tmp_path / "j")
    assert threads and threading.current_thread().name not in threads
    assert all(name.startswith("journal") for name in threads)


def cursor_in(db: Path) -> str | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT cursor FROM in_systemd_cursor").fetchone()
    return row[0] if row else None


async def test_cursor_is_committed_only_when_acknowledged_in_order(tmp_path: Path) -> None:
    journal, db = tmp_path / "j", tmp_path / "state" / "systemd.db"
    write_journal(journal, [{"MESSAGE": f"m{i}"} for i in range(6)])
    props = {"path": str(journal), "db": str(db), "max_entries": "2", "tag": "t"}
    plugin, pipeline = make_systemd(props, FakeRuntime(ack=False))
    async with Running(plugin):
        await wait_for_async(lambda: len(pipeline.acks) == 3, 20)
        assert cursor_in(db) is None  # read but not delivered: nothing committed
        pipeline.acks[1].acknowledged()
        assert cursor_in(db) is None  # the first chunk is still out
        pipeline.acks[0].acknowledged()
        committed = cursor_in(db)
    exported = export_cursors(journal)
    assert committed == exported[3]  # through the second chunk, not the third
    # a restart resumes after the committed entry: the unacknowledged chunk is read again
    again = await read_all(props, 2)
    assert [r["MESSAGE"] for r in again.records] == ["m4", "m5"]
    assert cursor_in(db) == exported[5]


async def test_a_fluent_bit_cursor_db_is_resumed(tmp_path: Path) -> None:
    journal, db = tmp_path / "j", tmp_path / "systemd.db"
    write_journal(journal, [{"MESSAGE": f"m{i}"} for i in range(3)])
    with sqlite3.connect(db) as conn:  # the table Fluent Bit's in_systemd writes
        conn.execute("CREATE TABLE in_systemd_cursor (cursor TEXT NOT NULL, updated INTEGER)")
        conn.execute("INSERT INTO in_systemd_cursor VALUES (?, 1700000000)", (export_cursors(journal)[0],))
    pipeline = await read_all({"path": str(journal), "db": str(db)}, 2)
    assert [r["MESSAGE"] for r in pipeline.records] == ["m1", "m2"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM in_systemd_cursor").fetchone()[0] == 1


async def test_an_unusable_cursor_starts_as_if_there_were_none(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="shipper")  # whatever level earlier tests left the logger at
    journal, db = tmp_path / "j", tmp_path / "systemd.db"
    write_journal(journal, [{"MESSAGE": "m0"}])
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE in_systemd_cursor (cursor TEXT NOT NULL, updated INTEGER)")
        conn.execute("INSERT INTO in_systemd_cursor VALUES ('not a cursor', 0)")
    pipeline = await read_all({"path": str(journal), "db": str(db)}, 1)
    assert [r["MESSAGE"] for r in pipeline.records] == ["m0"]
    assert "cursor is not valid" in caplog.text


async def test_a_reload_resumes_where_the_previous_input_stopped(tmp_path: Path) -> None:
    write_journal(tmp_path / "j", [{"MESSAGE": "m0"}])
    first = await read_all({"path": str(tmp_path / "j"), "read_from_tail": "off"}, 1)
    assert len(first.records) == 1
    write_journal(tmp_path / "j", [{"MESSAGE": "m1"}])
    second = await read_all({"path": str(tmp_path / "j")}, 1)  # same instance name, no DB
    assert [r["MESSAGE"] for r in second.records] == ["m1"]


async def test_a_missing_directory_is_reported_and_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="shipper")
    monkeypatch.setattr(systemd_module, "REOPEN_EVERY", 0.05)
    journal = tmp_path / "not-yet"
    plugin, pipeline = make_systemd({"path": str(journal)})
    async with Running(plugin):
        await wait_for_async(lambda: plugin.metrics.value("shipper_systemd_open_errors_total", name="systemd.0") >= 1, 20)
        assert "does not exist" in caplog.text and "mount the host's journal" in caplog.text
        write_journal(journal, [{"MESSAGE": "late"}])
        await wait_for_async(lambda: len(pipeline.records) == 1, 20)


async def test_a_read_error_opens_the_journal_again_after_the_last_entry_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_journal(tmp_path / "j", [{"MESSAGE": f"m{i}"} for i in range(4)])
    real = journal_module.Journal._read
    calls: list[int] = []

    def flaky(self: journal_module.Journal, max_entries: int, max_bytes: int) -> Any:
        calls.append(max_entries)
        if len(calls) == 2:
            raise SystemError("Bad message", "EBADMSG")
        return real(self, max_entries, max_bytes)

    monkeypatch.setattr(journal_module.Journal, "_read", flaky)
    plugin, pipeline = make_systemd({"path": str(tmp_path / "j"), "max_entries": "2"})
    async with Running(plugin):
        await wait_for_async(lambda: len(pipeline.records) == 4, 20)
    assert [r["MESSAGE"] for r in pipeline.records] == ["m0", "m1", "m2", "m3"]  # nothing lost, nothing twice
    assert plugin.metrics.value("shipper_systemd_read_errors_total", name="systemd.0") == 1


async def test_dry_run_reads_the_journal_dir_from_its_start_and_finishes(tmp_path: Path) -> None:
    write_journal(tmp_path / "j", [KUBELET, SSHD])
    props = {"path": "/var/log/journal", "read_from_tail": "on", "db": str(tmp_path / "db"),
             "systemd_filter": "_SYSTEMD_UNIT=kubelet.service"}
    plugin, pipeline = make_systemd(props, dry_run=DryRun(journal_dir=tmp_path / "j"))
    await plugin.start()
    await asyncio.wait_for(plugin.run(), 20)
    await plugin.stop()
    assert plugin.path == str(tmp_path / "j")
    assert [r["MESSAGE"] for r in pipeline.records] == ["kubelet started"]
    assert not (tmp_path / "db").exists()


@pytest.mark.parametrize("props, message", [
    ({"systemd_filter": "_systemd_unit=kubelet.service"}, "upper-case field name"),
    ({"systemd_filter": "kubelet.service"}, "is not FIELD=value"),
    ({"systemd_filter_type": "xor"}, "expected one of and, or"),
    ({"max_entries": "0"}, "max_entries must be at least 1"),
    ({"read_from_tail": "maybe"}, "expected a boolean"),
])
def test_bad_options_are_config_errors(props: dict[str, str], message: str) -> None:
    with pytest.raises((ConfigError, ConfigErrors)) as info:
        make_systemd(props)
    assert message in str(info.value)


def export_cursors(journal: Path) -> list[str]:
    """Each entry's cursor, as journalctl reports it (our own reader is not the judge of itself)."""
    out = subprocess.run(["journalctl", "-D", str(journal), "-o", "export", "--no-pager"], capture_output=True,
                         text=True, check=True).stdout
    return [line.split("=", 1)[1] for line in out.splitlines() if line.startswith("__CURSOR=")]
