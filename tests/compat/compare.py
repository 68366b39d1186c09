"""Compare what shipper produced with what Fluent Bit produced, as the golden README says.

Every function returns a list of human-readable differences (empty = same), so a
failing case says precisely what differs instead of dumping two blobs.

- Records compare per tag, in order; values compare strictly as JSON (``1``,
  ``1.0`` and ``true`` differ).  Once the values agree, key order is compared
  too, at every level: every output writes records as JSON text in that order
  (file lines, CloudWatch messages, Firehose records, OpenSearch documents),
  and Fluent Bit defines it (``Path_Key`` first, ``Move_to_start``, the
  ``kubernetes`` map's fixed order).
- ``time: null`` in an expectation means "wall clock": the actual time must fall
  inside the run's window (start - 2 s ... end + 2 s).  Actual times inside the
  window are normalised to null before comparing, so an exact expected time met
  by a wall-clock time is reported as such.
- Bulk bodies compare as bytes; CloudWatch messages and Firehose objects as text;
  AWS calls per group/stream (see :func:`compare_requests`).
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

#: the AWS calls that carry records; every other call creates a resource.
DATA_CALLS = ("PutLogEvents", "PutRecordBatch")
MAX_REPORTED = 8


@dataclass(frozen=True)
class Window:
    """The wall-clock interval of a run, in nanoseconds, with the README's 2 s slack."""

    start_ns: int
    end_ns: int

    @classmethod
    def around(cls, start_ns: int, end_ns: int) -> Window:
        return cls(start_ns - 2_000_000_000, end_ns + 2_000_000_000)

    def normalise_ns(self, value: Any) -> Any:
        """null for a wall-clock time, the value itself otherwise."""
        if isinstance(value, int) and not isinstance(value, bool) and self.start_ns <= value <= self.end_ns:
            return None
        return value

    def normalise_ms(self, value: Any) -> Any:
        """The same for CloudWatch's millisecond timestamps."""
        if isinstance(value, int) and not isinstance(value, bool) and self.start_ns // 1_000_000 <= value <= self.end_ns // 1_000_000:
            return None
        return value


def same(a: Any, b: Any) -> bool:
    """JSON equality that tells ints, floats and booleans apart; maps compare as maps."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 300 else text[:297] + "..."


def record_differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """What differs between two records: missing, extra and changed keys, ordered-map key order."""
    if not isinstance(actual, dict):
        return [f"record is {_show(actual)}, expected a map"]
    out = []
    missing = [k for k in expected if k not in actual]
    extra = [k for k in actual if k not in expected]
    if missing:
        out.append(f"missing keys {missing}")
    if extra:
        out.append(f"extra keys {extra} = {_show({k: actual[k] for k in extra})}")
    for key, value in expected.items():
        if key in actual and not same(value, actual[key]):
            out.append(f"{key!r}: expected {_show(value)}, got {_show(actual[key])}")
    if not out:
        out.extend(order_differences(expected, actual))
    return out


def order_differences(expected: Any, actual: Any, where: str = "record") -> list[str]:
    """Where two equal values order their map keys differently (every output writes JSON text in that order)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if list(expected) != list(actual):
            return [f"{where} key order: expected {list(expected)}, got {list(actual)}"]
        return [p for k in expected for p in order_differences(expected[k], actual[k], f"{where}[{k!r}]")]
    if isinstance(expected, list) and isinstance(actual, list):
        return [p for i, (e, a) in enumerate(zip(expected, actual, strict=False)) for p in order_differences(e, a, f"{where}[{i}]")]
    return []


def _by_tag(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        grouped[r["tag"]].append(r)
    return grouped


def compare_records(expected: list[dict[str, Any]], actual: list[dict[str, Any]], window: Window) -> list[str]:
    """Same tags, and per tag the same records with the same times, in the same order."""
    exp_tags, act_tags = _by_tag(expected), _by_tag(actual)
    out = []
    for tag in [t for t in exp_tags if t not in act_tags]:
        out.append(f"tag {tag!r}: no records (expected {len(exp_tags[tag])})")
    for tag in [t for t in act_tags if t not in exp_tags]:
        out.append(f"unexpected tag {tag!r}: {len(act_tags[tag])} records, first {_show(act_tags[tag][0]['record'])}")
    for tag in [t for t in exp_tags if t in act_tags]:
        exp, act = exp_tags[tag], act_tags[tag]
        if len(exp) != len(act):
            out.append(f"tag {tag!r}: {len(act)} records, expected {len(exp)}")
        for i, (e, a) in enumerate(zip(exp, act, strict=False)):
            where = f"tag {tag!r} record {i}"
            problems = record_differences(e["record"], a["record"])
            got_time = window.normalise_ns(a["time"])
            if e["time"] != got_time:
                shown = "wall clock" if got_time is None else got_time
                problems.append(f"time: expected {e['time'] if e['time'] is not None else 'wall clock'}, got {shown}")
            out.extend(f"{where}: {p}" for p in problems)
        for i, a in enumerate(act[len(exp):], start=len(exp)):
            out.append(f"tag {tag!r} record {i}: extra {_show(a['record'])}")
        for i, e in enumerate(exp[len(act):], start=len(act)):
            out.append(f"tag {tag!r} record {i}: missing {_show(e['record'])}")
    return out[:MAX_REPORTED] + ([f"... and {len(out) - MAX_REPORTED} more"] if len(out) > MAX_REPORTED else [])


def compare_bulk(expected: bytes, bodies: list[bytes]) -> list[str]:
    """The ``_bulk`` bodies, concatenated, byte for byte; the first differing line is shown."""
    actual = b"".join(bodies)
    if actual == expected:
        return []
    exp_lines, act_lines = expected.split(b"\n"), actual.split(b"\n")
    for i, (e, a) in enumerate(zip(exp_lines, act_lines, strict=False)):
        if e != a:
            return [f"bulk line {i + 1}: expected {e.decode(errors='replace')}", f"bulk line {i + 1}: got      {a.decode(errors='replace')}"]
    return [f"bulk body has {len(act_lines)} lines, expected {len(exp_lines)}"]


def compare_cloudwatch(expected: dict[str, Any], actual: dict[str, Any], window: Window) -> list[str]:
    """Groups, streams, and per stream the events (timestamp normalised, message text)."""
    out = []
    for group in sorted(expected.keys() | actual.keys()):
        exp_streams, act_streams = expected.get(group), actual.get(group)
        if exp_streams is None or act_streams is None:
            out.append(f"log group {group!r}: {'unexpected' if exp_streams is None else 'missing'}")
            continue
        for stream in sorted(exp_streams.keys() | act_streams.keys()):
            exp, act = exp_streams.get(stream), act_streams.get(stream)
            if exp is None or act is None:
                out.append(f"log stream {group}/{stream}: {'unexpected' if exp is None else 'missing'}")
                continue
            got = [{"timestamp": window.normalise_ms(e["timestamp"]), "message": e["message"]} for e in act]
            if got != exp:
                out.append(f"log stream {group}/{stream}: expected {_show(exp)}, got {_show(got)}")
    return out


def compare_firehose(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """The S3 objects behind each delivery stream, in order, as text."""
    out = []
    for stream in sorted(expected.keys() | actual.keys()):
        exp, act = expected.get(stream, []), actual.get(stream, [])
        if exp != act:
            out.append(f"delivery stream {stream!r}: expected objects {_show(exp)}, got {_show(act)}")
    return out


def _resource(call: dict[str, Any]) -> tuple[str, ...]:
    """The group/stream or delivery stream a call concerns."""
    body = call.get("body") or {}
    if "DeliveryStreamName" in body:
        return ("firehose", body["DeliveryStreamName"])
    return ("logs", body.get("logGroupName", ""), body.get("logStreamName", ""))


def normalise_call(call: dict[str, Any], window: Window) -> dict[str, Any]:
    """A recorded API call in the golden shape: wall-clock timestamps null, Firehose data decoded."""
    body = json.loads(json.dumps(call.get("body") or {}))
    for event in body.get("logEvents", []):
        event["timestamp"] = window.normalise_ms(event.get("timestamp"))
    out: dict[str, Any] = {"target": call["target"], "body": body}
    if "Records" in body:
        out["decoded_data"] = [base64.b64decode(r["Data"]).decode("utf-8", "replace") for r in body["Records"]]
    return out


def _calls_per_resource(calls: list[dict[str, Any]]) -> dict[tuple[str, ...], dict[str, Any]]:
    """Per resource: which creation calls were made, and the data sent, in order, across calls."""
    out: dict[tuple[str, ...], dict[str, Any]] = defaultdict(lambda: {"created": set(), "data": []})
    for call in calls:
        summary = out[_resource(call)]
        name = call["target"].rsplit(".", 1)[-1]
        if name in DATA_CALLS:
            summary["data"].extend(call["body"].get("logEvents") or call.get("decoded_data") or [])
        else:
            summary["created"].add(name)
    return out


def compare_requests(expected: list[dict[str, Any]], actual: list[dict[str, Any]], window: Window) -> list[str]:
    """The AWS calls per group/stream/delivery stream: the same creation calls, the same data in order.

    How many times a creation call is attempted (Fluent Bit's CreateLogStream that
    fails before CreateLogGroup, a group created once per stream) depends on which
    request happens to come first, and how events are split into PutLogEvents or
    PutRecordBatch calls is batching; neither changes what reaches the service,
    so they are not compared.  What each resource received is, event by event.
    """
    exp = _calls_per_resource(expected)
    act = _calls_per_resource([normalise_call(c, window) for c in actual])
    out = []
    for resource in sorted(exp.keys() | act.keys()):
        where = "/".join(resource[1:]).rstrip("/")
        e, a = exp.get(resource), act.get(resource)
        if e is None or a is None:
            out.append(f"calls for {where}: {'unexpected' if e is None else 'missing'}")
            continue
        if e["created"] != a["created"]:
            out.append(f"calls for {where}: expected {sorted(e['created'])}, got {sorted(a['created'])}")
        if e["data"] != a["data"]:
            out.append(f"data sent to {where}: expected {_show(e['data'])}, got {_show(a['data'])}")
    return out


def _dry_run_by_destination(entries: list[dict[str, Any]], key: str) -> dict[tuple[str, ...], list[str]]:
    grouped: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for entry in entries:
        where = entry.get("destination") or {}
        if key in where:
            grouped[tuple(str(v) for v in where.values())].append(entry["payload"])
    return dict(grouped)


def compare_dry_run(
    bulk: bytes | None, cloudwatch: dict[str, Any] | None, requests: list[dict[str, Any]] | None, entries: list[dict[str, Any]]
) -> list[str]:
    """``shipper dry-run`` must print exactly what the real outputs sent: documents, messages, records.

    OpenSearch: per bulk item its index, operation, ``_id`` and document line;
    CloudWatch: per group/stream the messages in order; Firehose: per delivery
    stream the decoded records in order.
    """
    out = []
    if bulk is not None:
        lines = bulk.decode().splitlines()
        expected = []
        for action_line, document in zip(lines[::2], lines[1::2], strict=False):
            (operation, meta), = json.loads(action_line).items()
            expected.append([meta.get("_index"), operation, meta.get("_id"), document])
        actual = [
            [e["destination"].get("index"), e["destination"].get("operation"), e["destination"].get("id"), e["payload"]]
            for e in entries
            if "index" in (e.get("destination") or {})
        ]
        out += [f"dry-run bulk item {i}: expected {_show(x)}, got {_show(y)}" for i, (x, y) in enumerate(zip(expected, actual, strict=False)) if x != y]
        if len(expected) != len(actual):
            out.append(f"dry-run shows {len(actual)} bulk items, the output sent {len(expected)}")
    if cloudwatch is not None:
        expected_cw: dict[tuple[str, ...], list[str]] = {
            (g, s): [e["message"] for e in events] for g, streams in cloudwatch.items() for s, events in streams.items()
        }
        actual_cw = _dry_run_by_destination(entries, "log_group")
        for where in sorted(expected_cw.keys() | actual_cw.keys()):
            if expected_cw.get(where) != actual_cw.get(where):
                out.append(f"dry-run {'/'.join(where)}: expected {_show(expected_cw.get(where))}, got {_show(actual_cw.get(where))}")
    firehose_calls = [c for c in requests or [] if "decoded_data" in c]
    if firehose_calls:
        expected_fh: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for call in firehose_calls:
            expected_fh[(call["body"]["DeliveryStreamName"],)].extend(call["decoded_data"])
        actual_fh = _dry_run_by_destination(entries, "delivery_stream")
        for where in sorted(expected_fh.keys() | actual_fh.keys()):
            if expected_fh.get(where) != actual_fh.get(where):
                out.append(f"dry-run {where[0]}: expected {_show(expected_fh.get(where))}, got {_show(actual_fh.get(where))}")
    return out
