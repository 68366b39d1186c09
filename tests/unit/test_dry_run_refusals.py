"""Dry-run never drops silently: each output marks what its destination would refuse, and why.

The clock is fixed through ``DryRun.now_ns`` (dry-run's ``--now``), so these
tests give the same answer on any date.
"""

from __future__ import annotations

import io
import json

import pytest

from shipper.engine.dryrun import DryRunPrinter
from shipper.outputs.cloudwatch_logs.request import MAX_AGE_MS, MAX_FUTURE_MS
from shipper.outputs.kinesis_firehose.request import MAX_RECORD_BYTES
from shipper.outputs.opensearch import output as opensearch
from shipper.plugin import DryRun, DryRunBatch
from tests.factory import make_context, make_plugin

NOW_NS = 1_795_000_000 * 10**9  # 2026-11-18, fixed
MS = 1_000_000


def dry_context():
    context = make_context()
    context.dry_run = DryRun(now_ns=NOW_NS)
    return context


def refusals(batch: DryRunBatch) -> list[str | None]:
    return [item.refused for item in batch.items]


def test_cloudwatch_marks_old_new_empty_and_keyless_records() -> None:
    out = make_plugin("output", "cloudwatch_logs",
                      {"region": "us-east-1", "log_group_name": "g", "log_stream_name": "s", "log_key": "log"},
                      dry_context())
    now_ms = NOW_NS // MS
    events = [
        (NOW_NS, {"log": "sent"}),
        ((now_ms - MAX_AGE_MS - 1) * MS, {"log": "old"}),
        ((now_ms + MAX_FUTURE_MS + 1) * MS, {"log": "future"}),
        (NOW_NS, {"log": ""}),
        (NOW_NS, {"other": 1}),
    ]
    batch = out.dry_run("t", events)
    assert sorted(map(str, refusals(batch))) == sorted(map(str, [None, "too_old", "too_new", "empty", "missing_log_key"]))
    by_reason = {item.refused: item.payload for item in batch.items}
    assert by_reason[None] == "sent" and by_reason["too_old"] == "old" and by_reason["too_new"] == "future"
    assert set(batch.reasons) >= {"too_old", "too_new", "empty", "missing_log_key"}
    assert batch.requests == 1


def test_cloudwatch_judges_by_the_dry_run_clock_not_the_machine_clock() -> None:
    out = make_plugin("output", "cloudwatch_logs",
                      {"region": "us-east-1", "log_group_name": "g", "log_stream_name": "s"}, dry_context())
    five_years_ago = NOW_NS - 5 * 365 * 86_400 * 10**9
    assert refusals(out.dry_run("t", [(NOW_NS, {"a": 1})])) == [None]
    assert refusals(out.dry_run("t", [(five_years_ago, {"a": 1})])) == ["too_old"]


def test_cloudwatch_retention_shorter_than_14_days_is_named() -> None:
    out = make_plugin("output", "cloudwatch_logs",
                      {"region": "us-east-1", "log_group_name": "g", "log_stream_name": "s", "log_retention_days": "3"},
                      dry_context())
    four_days_ago = NOW_NS - 4 * 86_400 * 10**9
    assert refusals(out.dry_run("t", [(four_days_ago, {"a": 1})])) == ["expired"]


def test_firehose_marks_records_over_the_record_limit_and_without_log_key() -> None:
    out = make_plugin("output", "kinesis_firehose",
                      {"region": "us-east-1", "delivery_stream": "d", "log_key": "log"}, dry_context())
    events = [(NOW_NS, {"log": "ok"}), (NOW_NS, {"log": "x" * (MAX_RECORD_BYTES + 1)}), (NOW_NS, {"other": 1})]
    batch = out.dry_run("t", events)
    assert refusals(batch) == [None, "too_large", "missing_log_key"]
    assert batch.items[2].payload == '{"other":1}'  # the whole record, so the user sees what lacked the key
    assert batch.requests == 1


def test_firehose_judges_size_after_compression() -> None:
    out = make_plugin("output", "kinesis_firehose",
                      {"region": "us-east-1", "delivery_stream": "d", "log_key": "log", "compression": "gzip"}, dry_context())
    assert refusals(out.dry_run("t", [(NOW_NS, {"log": "x" * (MAX_RECORD_BYTES + 1)})])) == [None]


def test_opensearch_marks_documents_over_the_content_length(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opensearch, "MAX_CONTENT_LENGTH", 200)
    out = make_plugin("output", "opensearch", {}, dry_context())
    batch = out.dry_run("t", [(NOW_NS, {"a": "small"}), (NOW_NS, {"a": "y" * 300})])
    assert refusals(batch) == [None, "too_large"]


def test_printer_counts_refusals_by_reason_and_marks_rows() -> None:
    out = make_plugin("output", "kinesis_firehose",
                      {"region": "us-east-1", "delivery_stream": "d", "log_key": "log"}, dry_context())
    batch = out.dry_run("t", [(NOW_NS, {"log": "ok"}), (NOW_NS, {"x": 1}), (NOW_NS, {"y": 2})])
    stream = io.StringIO()
    printer = DryRunPrinter(stream, "jsonl")
    printer.write("kinesis_firehose.0", "t", batch)
    rows = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [row.get("refused") for row in rows] == [None, "missing_log_key", "missing_log_key"]
    assert set(rows[0]) == {"output", "destination", "tag", "time", "payload"}  # sent rows keep the contract
    summary = printer.summary(["kinesis_firehose.0"]).splitlines()
    assert summary[0] == "dry-run: kinesis_firehose.0: 1 records, 3 bytes, 1 requests, 2 refused"
    assert summary[1].startswith("dry-run: kinesis_firehose.0: refused 2 as missing_log_key: ")


def test_pretty_rows_say_refused_and_why_and_the_summary_points_at_now() -> None:
    out = make_plugin("output", "cloudwatch_logs",
                      {"region": "us-east-1", "log_group_name": "g", "log_stream_name": "s"}, dry_context())
    stream = io.StringIO()
    printer = DryRunPrinter(stream, "pretty")
    printer.write("cloudwatch_logs.0", "t", out.dry_run("t", [(0, {"a": 1})]))
    assert "REFUSED too_old: older than 14 days" in stream.getvalue()
    assert "--now" in printer.summary(["cloudwatch_logs.0"])


def test_with_now_the_summary_names_it_instead_of_pointing_at_it() -> None:
    out = make_plugin("output", "cloudwatch_logs",
                      {"region": "us-east-1", "log_group_name": "g", "log_stream_name": "s"}, dry_context())
    printer = DryRunPrinter(io.StringIO(), "jsonl")
    printer.write("cloudwatch_logs.0", "t", out.dry_run("t", [(NOW_NS + 3 * 3600 * 10**9, {"a": 1})]))
    summary = printer.summary(["cloudwatch_logs.0"], NOW_NS)
    assert "refused 1 as too_new" in summary
    assert "judged by the clock" not in summary
    assert summary.endswith("time windows were judged as of --now 2026-11-18T11:06:40.000000000Z")
