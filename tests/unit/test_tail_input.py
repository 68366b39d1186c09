"""The tail input driven directly, with a tiny fake pipeline, on real files in tmp dirs.

:class:`FakeRuntime` and :func:`run_tail` are shared with the other
``test_tail_*`` modules.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from shipper.inputs.tail import TailInput
from shipper.multiline import build_multiline_parsers
from shipper.plugin import Ack, DryRun
from tests.factory import make_context, make_plugin
from tests.poll import wait_for_async


class FakeRuntime:
    """Collects chunks; acknowledges at once unless ``ack`` is False (then the acks wait in ``acks``)."""

    def __init__(self, ack: bool = True) -> None:
        self.ack = ack
        self.chunks: list[tuple[str, list[tuple[int, dict[str, Any]]]]] = []
        self.acks: list[Ack] = []
        self.shutdown: str | None = None
        self.on_chunk: Any = None

    async def ingest(self, source: Any, tag: str, events: list, ack: Ack | None, nbytes: int) -> None:
        self.chunks.append((tag, events))
        if self.on_chunk is not None:
            self.on_chunk(len(self.chunks))
        if ack is None:
            return
        if self.ack:
            ack.acknowledged()
        else:
            self.acks.append(ack)

    def reemit(self, tag: str, events: list) -> None:
        raise AssertionError("tail never re-emits")

    def request_shutdown(self, reason: str) -> None:
        self.shutdown = reason

    @property
    def records(self) -> list[dict[str, Any]]:
        return [record for _, events in self.chunks for _, record in events]

    @property
    def tags(self) -> list[str]:
        return [tag for tag, events in self.chunks for _ in events]


def make_tail(props: dict[str, str], pipeline: FakeRuntime | None = None, dry_run: DryRun | None = None,
              instance: str | None = None) -> tuple[TailInput, FakeRuntime]:
    context = make_context()
    context.multiline_parsers = build_multiline_parsers([], {}, [])
    context.dry_run = dry_run
    plugin = make_plugin("input", "tail", props, context=context, instance_name=instance)
    assert isinstance(plugin, TailInput)
    context.runtime = pipeline or FakeRuntime()
    return plugin, context.runtime  # type: ignore[return-value]


async def run_tail(plugin: TailInput, timeout: float = 20.0) -> None:
    """Start, run to EOF (the props must say Exit_On_Eof), stop."""
    await plugin.start()
    try:
        await asyncio.wait_for(plugin.run(), timeout)
    finally:
        await plugin.stop()


async def stop_tail(plugin: TailInput, task: asyncio.Task[None]) -> None:
    """Stop a tail started with ``asyncio.create_task(plugin.run())`` and release its files and DB."""
    plugin.request_stop()
    await asyncio.wait_for(task, 10)
    await plugin.stop()


def lines_of(pipeline: FakeRuntime, key: str = "log") -> list[str]:
    return [r[key] for r in pipeline.records]


async def test_tag_star_path_key_and_glob_order(tmp_path: Path) -> None:
    (tmp_path / "b.log").write_text("b1\n")
    (tmp_path / "a.log").write_text("a1\na2\n")
    (tmp_path / "c.txt").write_text("not matched\n")
    plugin, pipe = make_tail({"path": f"{tmp_path}/*.log", "tag": "kube.*", "path_key": "file",
                              "read_from_head": "on", "exit_on_eof": "on"})
    await run_tail(plugin)
    prefix = "kube." + str(tmp_path).strip("/").replace("/", ".")
    assert pipe.tags == [f"{prefix}.a.log"] * 2 + [f"{prefix}.b.log"]
    assert pipe.records[0] == {"file": str(tmp_path / "a.log"), "log": "a1"}
    assert pipe.shutdown is not None


async def test_offset_key_skip_empty_and_crlf(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_bytes(b"first\n\nthird\r\n   \nlast\npartial")
    plugin, pipe = make_tail({"path": str(tmp_path / "app.log"), "offset_key": "offset", "key": "message",
                              "skip_empty_lines": "on", "read_from_head": "on", "exit_on_eof": "on"})
    await run_tail(plugin)
    assert pipe.records == [
        {"offset": 0, "message": "first"},
        {"offset": 7, "message": "third"},
        {"offset": 14, "message": "   "},
        {"offset": 18, "message": "last"},
    ]


async def test_empty_lines_kept_by_default_and_invalid_utf8_replaced(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_bytes(b"ok\xff\xfe bad\n\ncaf\xc3\xa9\n")
    plugin, pipe = make_tail({"path": str(tmp_path / "app.log"), "read_from_head": "on", "exit_on_eof": "on"})
    await run_tail(plugin)
    assert lines_of(pipe) == ["ok\ufffd\ufffd bad", "", "café"]


async def test_read_from_head_off_starts_at_the_end(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text("old line\n")
    plugin, pipe = make_tail({"path": str(tmp_path / "app.log"), "exit_on_eof": "on"})
    await run_tail(plugin)
    assert pipe.records == []


async def test_one_megabyte_lines_pass_with_a_large_buffer(tmp_path: Path) -> None:
    big = "x" * 1_000_000
    (tmp_path / "app.log").write_text(f"before\n{big}\nafter\n")
    plugin, pipe = make_tail({"path": str(tmp_path / "app.log"), "buffer_max_size": "2M",
                              "read_from_head": "on", "exit_on_eof": "on"})
    await run_tail(plugin)
    assert lines_of(pipe) == ["before", big, "after"]


@pytest.mark.parametrize("skip", ["on", "off"])
async def test_long_lines_are_skipped_and_counted_but_the_file_goes_on(tmp_path: Path, skip: str) -> None:
    big = "y" * 3_000_000  # longer than one 1 MiB read: skipped across reads
    (tmp_path / "app.log").write_text(f"before\n{big}\nmiddle\n{'z' * 40_000}\nafter\n")
    plugin, pipe = make_tail({"path": str(tmp_path / "app.log"), "skip_long_lines": skip,
                              "read_from_head": "on", "exit_on_eof": "on"})
    await run_tail(plugin)
    assert lines_of(pipe) == ["before", "middle", "after"]
    assert plugin.metrics.value("shipper_tail_long_lines_skipped_total", name="tail.0") == 2


async def test_tag_regex_names_and_unmatched_files(tmp_path: Path) -> None:
    (tmp_path / "web-1_shop_nginx-abc.log").write_text("hit\n")
    (tmp_path / "other.log").write_text("ignored\n")
    plugin, pipe = make_tail({
        "path": f"{tmp_path}/*.log", "tag": "k8s.<ns>.<pod>.<ctr>.<missing>",
        "tag_regex": r"(?<pod>[^_/]+)_(?<ns>[^_/]+)_(?<ctr>[^/]+)-(?<id>[a-f0-9]+)\.log$",
        "read_from_head": "on", "exit_on_eof": "on"})
    await run_tail(plugin)
    assert pipe.tags == ["k8s.shop.web-1.nginx._"]


async def test_exclude_path_and_several_globs(tmp_path: Path) -> None:
    for name in ("app/main.log", "app/debug.log", "sys/kern.txt", "sys/debug/x.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name + "\n")
    plugin, pipe = make_tail({"path": f"{tmp_path}/app/*.log, {tmp_path}/sys/*.txt, {tmp_path}/sys/*/*.txt",
                              "exclude_path": "*debug*", "read_from_head": "on", "exit_on_eof": "on"})
    await run_tail(plugin)
    assert lines_of(pipe) == ["app/main.log", "sys/kern.txt"]


async def test_dry_run_reads_log_dir_but_shows_the_configured_path(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("one\n2024-01-01T00:00:00Z stdout P never finished\n")
    plugin, pipe = make_tail({"path": "/var/log/containers/*.log", "tag": "kube.*", "path_key": "path",
                              "multiline.parser": "cri"}, dry_run=DryRun(log_dir=tmp_path))
    await run_tail(plugin)
    assert pipe.tags[0] == "kube.var.log.containers.a.log"
    assert pipe.records[-1] == {"path": "/var/log/containers/a.log", "time": "2024-01-01T00:00:00Z",
                                "stream": "stdout", "_p": "P", "log": "never finished"}
    assert pipe.shutdown is None  # dry-run returns; the engine ends when every input has


async def test_restart_with_db_resumes_exactly_and_waits_for_the_newline(tmp_path: Path) -> None:
    log, db = tmp_path / "app.log", tmp_path / "tail.db"
    log.write_text("1\n2\n3\npart")
    props = {"path": str(log), "db": str(db), "read_from_head": "on", "exit_on_eof": "on"}
    plugin, pipe = make_tail(props)
    await run_tail(plugin)
    assert lines_of(pipe) == ["1", "2", "3"]
    with log.open("a") as handle:
        handle.write("ial\n4\n")
    plugin, pipe = make_tail(props)
    await run_tail(plugin)
    assert lines_of(pipe) == ["partial", "4"]
    plugin, pipe = make_tail(props)
    await run_tail(plugin)
    assert lines_of(pipe) == []


async def test_file_replaced_while_stopped_is_read_from_zero(tmp_path: Path) -> None:
    log, db = tmp_path / "app.log", tmp_path / "tail.db"
    log.write_text("aaaa\nbbbb\n")
    props = {"path": str(log), "db": str(db), "exit_on_eof": "on", "read_from_head": "on"}
    plugin, pipe = make_tail(props)
    await run_tail(plugin)
    # same inode, same length, other bytes: the digest tells them apart
    with log.open("r+") as handle:
        handle.write("cccc\ndddd\neeee\n")
    props["read_from_head"] = "off"
    plugin, pipe = make_tail(props)
    await run_tail(plugin)
    assert lines_of(pipe) == ["cccc", "dddd", "eeee"]
    # a new inode under a name the DB knows
    log.unlink()
    log.write_text("ffff\n")
    plugin, pipe = make_tail(props)
    await run_tail(plugin)
    assert lines_of(pipe) == ["ffff"]


async def test_file_rotated_while_stopped_is_finished_by_inode(tmp_path: Path) -> None:
    log, db = tmp_path / "app.log", tmp_path / "tail.db"
    log.write_text("1\n2\n")
    props = {"path": str(log), "db": str(db), "exit_on_eof": "on", "read_from_head": "on"}
    plugin, pipe = make_tail(props)
    await run_tail(plugin)
    with log.open("a") as handle:
        handle.write("3\n4\n")
    log.rename(tmp_path / "app.log.1")
    log.write_text("new 1\n")
    props["read_from_head"] = "off"
    plugin, pipe = make_tail(props)
    await run_tail(plugin)
    assert sorted(lines_of(pipe)) == ["3", "4", "new 1"]


async def test_offsets_commit_only_contiguously_when_acks_come_out_of_order(tmp_path: Path) -> None:
    log, db = tmp_path / "app.log", tmp_path / "tail.db"
    log.write_text("line1\nline2\nline3\n")
    plugin, pipe = make_tail({"path": str(log), "db": str(db), "read_from_head": "on", "exit_on_eof": "on",
                              "buffer_chunk_size": "8"},
                             FakeRuntime(ack=False))
    await plugin.start()
    await asyncio.wait_for(plugin.run(), 10)

    def committed() -> int | None:
        rows = sqlite3.connect(db).execute("SELECT offset FROM shipper_tail_files").fetchall()
        return rows[0][0] if rows else None

    assert len(pipe.acks) == 3 and committed() == 0  # the row exists from the start; nothing acknowledged yet
    pipe.acks[2].acknowledged()
    pipe.acks[1].acknowledged()
    assert committed() == 0
    pipe.acks[0].acknowledged()
    assert committed() == 18
    await plugin.stop()


async def test_file_deleted_mid_read_is_read_to_its_end(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    plugin, pipe = make_tail({"path": str(log), "read_from_head": "on", "exit_on_eof": "on", "rotate_wait": "0",
                              "buffer_chunk_size": "64"})
    pipe.on_chunk = lambda n: log.unlink() if n == 1 else None
    await run_tail(plugin)
    assert lines_of(pipe) == [f"line {i}" for i in range(100)]
    assert not log.exists()


async def test_unknown_parsers_are_config_errors() -> None:
    from shipper.errors import ConfigErrors

    with pytest.raises(ConfigErrors) as info:
        make_tail({"path": "/x", "parser": "nope", "multiline.parser": "cri, nosuch"})
    text = str(info.value)
    assert "parser 'nope' is not defined" in text and "multiline parser 'nosuch' is not defined" in text


async def test_docker_mode_without_a_parser_ships_the_joined_json_file_line(tmp_path: Path) -> None:
    # Fluent Bit hands the joined line to Parser; with none, the line itself is the log (tests/e2e has the usual case)
    (tmp_path / "d.log").write_text('{"log":"a ","stream":"stdout","time":"2024-03-05T10:15:30.000000000Z"}\n'
                                    '{"log":"b\\n","stream":"stdout","time":"2024-03-05T10:15:31.000000000Z"}\n')
    plugin, pipe = make_tail({"path": str(tmp_path / "d.log"), "docker_mode": "on",
                              "read_from_head": "on", "exit_on_eof": "on"})
    await run_tail(plugin)
    assert pipe.records == [{"log": '{"log":"a b\\n","stream":"stdout","time":"2024-03-05T10:15:31.000000000Z"}'}]


async def test_files_are_closed_after_stop(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("x\n")
    (tmp_path / "b.log").write_text("y\n")
    plugin, _ = make_tail({"path": f"{tmp_path}/*.log", "read_from_head": "on", "exit_on_eof": "on"})
    await plugin.start()
    await asyncio.wait_for(plugin.run(), 10)
    opened = list(plugin.files.values())
    await plugin.stop()
    assert len(opened) == 2 and all(tail.fd == -1 for tail in opened)


async def test_an_unopenable_db_is_reported_and_reading_goes_on(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text("kept\n")
    (tmp_path / "db").mkdir()  # a directory cannot be opened as a database
    plugin, pipe = make_tail({"path": str(tmp_path / "app.log"), "db": str(tmp_path / "db"),
                              "read_from_head": "on", "exit_on_eof": "on"})
    await run_tail(plugin)
    assert lines_of(pipe) == ["kept"]
    assert plugin.metrics.value("shipper_tail_db_errors_total", name="tail.0") == 1


async def test_db_directory_is_created(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text("a\n")
    db = tmp_path / "state" / "deep" / "tail.db"
    plugin, pipe = make_tail({"path": str(tmp_path / "app.log"), "db": str(db), "read_from_head": "on",
                              "exit_on_eof": "on"})
    await run_tail(plugin)
    assert db.exists() and lines_of(pipe) == ["a"]


async def test_starting_at_the_end_mid_line_skips_the_rest_of_that_line(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("old\nhalf of a li")
    plugin, pipe = make_tail({"path": str(log), "refresh_interval": "0.1"})
    await plugin.start()
    task = asyncio.create_task(plugin.run())
    try:
        # opened (and positioned at its end) before the rest of the line is written
        await wait_for_async(lambda: plugin.metrics.value("fluentbit_input_files_opened_total", name="tail.0") == 1,
                             10, what="file opened")
        with log.open("a") as handle:
            handle.write("ne\nnew\n")
        await wait_for_async(lambda: bool(pipe.records), 10, what="a record")
    finally:
        await stop_tail(plugin, task)
    assert lines_of(pipe) == ["new"]
    assert plugin.metrics.value("shipper_tail_long_lines_skipped_total", name="tail.0") == 0


async def test_paths_may_contain_spaces(tmp_path: Path) -> None:
    (tmp_path / "my logs").mkdir()
    (tmp_path / "my logs" / "a.log").write_text("spaced\n")
    plugin, pipe = make_tail({"path": f" {tmp_path}/my logs/*.log ,{tmp_path}/none/*.log",
                              "read_from_head": "on", "exit_on_eof": "on"})
    await run_tail(plugin)
    assert lines_of(pipe) == ["spaced"]


async def test_file_rotated_while_stopped_before_any_ack_is_found(tmp_path: Path) -> None:
    log, db = tmp_path / "app.log", tmp_path / "tail.db"
    log.write_text("1\n2\n")
    props = {"path": str(log), "db": str(db), "exit_on_eof": "on", "read_from_head": "on"}
    plugin, pipe = make_tail(props, FakeRuntime(ack=False))
    await run_tail(plugin)  # read, never acknowledged: like a kill -9 before delivery
    assert lines_of(pipe) == ["1", "2"]
    log.rename(tmp_path / "app.log.1")
    log.write_text("3\n")
    plugin, pipe = make_tail({**props, "read_from_head": "off"})
    await run_tail(plugin)
    assert sorted(lines_of(pipe)) == ["1", "2", "3"]


async def test_a_reloaded_tail_goes_on_where_the_previous_one_committed(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("1\n2\n")
    props = {"path": str(log), "exit_on_eof": "on", "read_from_head": "on"}
    plugin, pipe = make_tail(props, instance="reload-test")
    await run_tail(plugin)
    with log.open("a") as handle:
        handle.write("3\n")
    plugin, pipe = make_tail(props, instance="reload-test")  # no DB: only the in-process handover knows
    await run_tail(plugin)
    assert lines_of(pipe) == ["3"]


async def test_a_failing_parser_never_loses_lines(tmp_path: Path) -> None:
    class Broken:
        def parse_lines(self, lines: list) -> list:
            raise RuntimeError("parser bug")

    (tmp_path / "app.log").write_text("a\nb\n")
    context = make_context()
    context.parsers = {"broken": Broken()}
    plugin = make_plugin("input", "tail", {"path": str(tmp_path / "app.log"), "parser": "broken",
                                           "read_from_head": "on", "exit_on_eof": "on"}, context=context)
    pipe = context.runtime = FakeRuntime()
    await run_tail(plugin)  # type: ignore[arg-type]
    assert lines_of(pipe) == ["a", "b"]
    assert plugin.metrics.value("shipper_tail_decode_errors_total", name="tail.0") == 1


async def test_the_reload_handover_waits_until_the_new_tail_runs(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("1\n")
    props = {"path": str(log), "exit_on_eof": "on", "read_from_head": "on"}
    old, _ = make_tail(props, instance="reload-order")
    await old.start()
    await asyncio.wait_for(old.run(), 10)
    new, pipe = make_tail(props, instance="reload-order")  # a reload builds the new pipeline first...
    await old.stop()  # ...then stops the old one
    with log.open("a") as handle:
        handle.write("2\n")
    await run_tail(new)
    assert lines_of(pipe) == ["2"]


@pytest.mark.parametrize("chunk_size,most_lines", [("64", 8), ("32k", 1000)])
async def test_reads_are_buffer_chunk_size_bytes_and_each_read_is_one_chunk(
    tmp_path: Path, chunk_size: str, most_lines: int
) -> None:
    log = tmp_path / "app.log"
    log.write_text("".join(f"line {i:03d}\n" for i in range(1000)))  # 9 bytes a line
    plugin, pipe = make_tail({"path": str(log), "read_from_head": "on", "exit_on_eof": "on",
                              "buffer_chunk_size": chunk_size})
    await run_tail(plugin)
    assert lines_of(pipe) == [f"line {i:03d}" for i in range(1000)]
    assert max(len(events) for _, events in pipe.chunks) <= most_lines  # 64 bytes hold at most 7 whole lines
    assert len(pipe.chunks) >= 1000 // most_lines
