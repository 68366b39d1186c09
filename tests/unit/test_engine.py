"""The engine: routing, acknowledgements, retries and backoff, backpressure, shutdown."""

from __future__ import annotations

import asyncio
import io
import random
from dataclasses import dataclass

import orjson
import pytest

from shipper.config.model import ConfigDocument
from shipper.engine.core import Engine
from shipper.engine.dryrun import DryRunPrinter
from shipper.engine.retry import backoff_delay
from shipper.errors import ConfigError, PermanentError, RetryableError
from shipper.options import parse_retry_limit
from shipper.outputs.result import FlushResult
from shipper.packed import Packed
from shipper.pipeline import Pipeline
from shipper.plugin import Filter, Input, Output
from shipper.registry import register
from tests.factory import make_context, make_plugin


@register
class ScriptedInput(Input):
    """Emits the chunks it is given, then finishes; records acknowledgements."""

    name = "test_scripted"

    def __init__(self, settings, context):
        super().__init__(settings, context)
        self.chunks: list[tuple[str, list, object, int]] = []
        self.acked: list[object] = []

    async def run(self):
        for tag, events, name, nbytes in self.chunks:
            await self.emit(tag, events, ack=Named(name, self.acked), nbytes=nbytes)


@dataclass(frozen=True)
class Named:
    """An ack that records its name when the engine acknowledges it."""

    name: object
    acked: list[object]

    def acknowledged(self):
        self.acked.append(self.name)


@register
class ScriptedOutput(Output):
    """Fails according to a script of exceptions, then records what it got."""

    name = "test_scripted_out"

    def __init__(self, settings, context):
        super().__init__(settings, context)
        self.script: list[BaseException | FlushResult | None] = []
        self.received: list[tuple[str, list]] = []
        self.calls = 0
        self.hang = False

    async def flush(self, tag, events):
        self.calls += 1
        if self.hang:
            await asyncio.Event().wait()
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, FlushResult):
                return step
            if step is not None:
                raise step
        encoded = [orjson.dumps(r) for _, r in events]  # raises on a record nested too deep, like a real output
        self.received.append((tag, [orjson.loads(r) for r in encoded]))
        return FlushResult.ok()


@register
class RewriteFilter(Filter):
    """Copies records whose 'route' key is set under that tag (a tiny rewrite_tag)."""

    name = "test_rewrite"

    async def process(self, tag, events):
        routed = [(ts, dict(r)) for ts, r in events if "route" in r]
        if routed:
            self.reemit(routed[0][1].pop("route"), routed)
        return [(ts, r) for ts, r in events if "route" not in r]


def pipeline(inputs, outputs, filters=(), **service):
    context = make_context(**{"flush": "0.05", "grace": "2", "scheduler.base": "0.001", "scheduler.cap": "0.004", **service})
    for plugin in (*inputs, *outputs, *filters):
        plugin.context = context
    return Pipeline(context, list(inputs), list(filters), list(outputs), ConfigDocument(files=["<test>"]))


def ev(*records):
    return [(1_000_000_000 + i, r) for i, r in enumerate(records)]


async def run(p):
    return await asyncio.wait_for(Engine(p).run(), timeout=20)


async def test_routes_by_match_and_acks_after_every_matching_output():
    src = make_plugin("input", "test_scripted")
    a = make_plugin("output", "test_scripted_out", {"match": "app.*"}, instance_name="a")
    b = make_plugin("output", "test_scripted_out", {"match": "*"}, instance_name="b")
    src.chunks = [("app.x", ev({"n": 1}), "t1", 10), ("sys", ev({"n": 2}), "t2", 10)]
    assert await run(pipeline([src], [a, b])) == 0
    assert a.received == [("app.x", [{"n": 1}])]
    assert sorted(b.received) == [("app.x", [{"n": 1}]), ("sys", [{"n": 2}])]
    assert sorted(src.acked) == ["t1", "t2"]


async def test_unmatched_chunks_are_acknowledged_at_once():
    src = make_plugin("input", "test_scripted")
    out = make_plugin("output", "test_scripted_out", {"match": "nothing"})
    src.chunks = [("app", ev({"n": 1}), "t1", 1)]
    await run(pipeline([src], [out]))
    assert src.acked == ["t1"] and out.received == []


async def test_retryable_errors_are_retried_then_delivered():
    src = make_plugin("input", "test_scripted")
    out = make_plugin("output", "test_scripted_out", {"match": "*", "retry_limit": "3"})
    out.script = [RetryableError("throttled"), RetryableError("503")]
    src.chunks = [("t", ev({"n": 1}), "tok", 1)]
    p = pipeline([src], [out])
    await run(p)
    assert out.calls == 3 and out.received == [("t", [{"n": 1}])]
    assert src.acked == ["tok"]
    assert p.context.metrics.value("fluentbit_output_retries_total", name=out.instance_name) == 2


async def test_partial_failure_retries_only_the_failed_records():
    src = make_plugin("input", "test_scripted")
    out = make_plugin("output", "test_scripted_out", {"match": "*"})
    events = ev({"n": 1}, {"n": 2}, {"n": 3})
    out.script = [RetryableError("one failed", events=[events[1]])]
    src.chunks = [("t", events, "tok", 3)]
    await run(pipeline([src], [out]))
    assert out.received == [("t", [{"n": 2}])]
    assert src.acked == ["tok"]


async def test_retry_limit_gives_up_counts_and_acknowledges():
    src = make_plugin("input", "test_scripted")
    out = make_plugin("output", "test_scripted_out", {"match": "*", "retry_limit": "1"})
    out.script = [RetryableError("down")] * 5
    src.chunks = [("t", ev({"n": 1}, {"n": 2}), "tok", 2)]
    p = pipeline([src], [out])
    await run(p)
    assert out.calls == 2  # the first try and one retry
    m = p.context.metrics
    assert m.value("fluentbit_output_retries_failed_total", name=out.instance_name) == 1
    assert m.value("fluentbit_output_dropped_records_total", name=out.instance_name) == 2
    assert src.acked == ["tok"]


async def test_permanent_errors_are_not_retried():
    src = make_plugin("input", "test_scripted")
    out = make_plugin("output", "test_scripted_out", {"match": "*", "retry_limit": "no_limits"})
    out.script = [PermanentError("AccessDenied")]
    src.chunks = [("t", ev({"n": 1}), "tok", 1)]
    p = pipeline([src], [out])
    await run(p)
    assert out.calls == 1 and src.acked == ["tok"]
    assert p.context.metrics.value("fluentbit_output_dropped_records_total", name=out.instance_name) == 1


async def test_a_crashing_output_is_retried_not_fatal():
    src = make_plugin("input", "test_scripted")
    out = make_plugin("output", "test_scripted_out", {"match": "*"})
    out.script = [ValueError("bug")]
    src.chunks = [("t", ev({"n": 1}), "tok", 1)]
    await run(pipeline([src], [out]))
    assert out.received == [("t", [{"n": 1}])]


def nested(depth):
    record = {}
    for _ in range(depth):
        record = {"a": record}
    return record


async def test_a_record_the_output_cannot_encode_is_dropped_alone_and_the_rest_delivered():
    src = make_plugin("input", "test_scripted")
    out = make_plugin("output", "test_scripted_out", {"match": "*", "retry_limit": "no_retries"})
    src.chunks = [("t", ev({"n": 1}, nested(1000), {"n": 2}, {"n": 3}), "tok", 4)]
    p = pipeline([src], [out])
    await run(p)
    assert out.received == [("t", [{"n": 1}, {"n": 2}, {"n": 3}])]
    assert src.acked == ["tok"]
    m = p.context.metrics
    assert m.value("fluentbit_output_dropped_records_total", name=out.instance_name) == 1
    assert m.value("shipper_output_dropped_records_total", name=out.instance_name, reason="unencodable") == 1
    assert m.value("fluentbit_output_retries_total", name=out.instance_name) == 0


async def test_dry_run_shows_a_record_the_output_cannot_encode_as_refused():
    src = make_plugin("input", "test_scripted")
    out = make_plugin("output", "test_scripted_out", {"match": "*"})
    src.chunks = [("t", ev({"n": 1}, nested(1000), {"n": 2}), "tok", 3)]
    p = pipeline([src], [out])
    stream = io.StringIO()
    printer = DryRunPrinter(stream, "jsonl")
    assert await asyncio.wait_for(Engine(p, printer=printer).run(), timeout=20) == 0
    rows = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    assert [row["payload"] for row in rows if "refused" not in row] == ['{"n":1}', '{"n":2}']
    assert [row["refused"] for row in rows if "refused" in row] == ["unencodable"]
    assert "1 refused" in printer.summary([out.instance_name])
    assert p.context.metrics.value("shipper_output_dropped_records_total", name=out.instance_name, reason="unencodable") == 1


async def test_a_flush_result_retries_only_its_retry_list_and_counts_drops_per_reason():
    src = make_plugin("input", "test_scripted")
    out = make_plugin("output", "test_scripted_out", {"match": "*", "retry_limit": "3"})
    events = ev({"n": 1}, {"n": 2}, {"n": 3}, {"n": 4})
    partial = FlushResult([events[1]], "throttled")
    partial.add_dropped("too_old: older than 14 days", 2)
    out.script = [partial]
    src.chunks = [("t", events, "tok", 4)]
    p = pipeline([src], [out])
    await run(p)
    assert out.received == [("t", [{"n": 2}])]
    m = p.context.metrics
    assert m.value("shipper_output_dropped_records_total", name=out.instance_name, reason="too_old") == 2
    assert m.value("fluentbit_output_dropped_records_total", name=out.instance_name) == 2
    assert m.value("fluentbit_output_proc_records_total", name=out.instance_name) == 2
    assert m.value("fluentbit_output_retries_total", name=out.instance_name) == 1


async def test_reemitted_records_go_through_the_chain_and_share_the_ack():
    src = make_plugin("input", "test_scripted")
    rewrite = make_plugin("filter", "test_rewrite", {"match": "in"})
    out_in = make_plugin("output", "test_scripted_out", {"match": "in"}, instance_name="in")
    out_new = make_plugin("output", "test_scripted_out", {"match": "new"}, instance_name="new")
    out_new.script = [RetryableError("once")]
    src.chunks = [("in", ev({"n": 1}, {"n": 2, "route": "new"}), "tok", 2)]
    await run(pipeline([src], [out_in, out_new], [rewrite]))
    assert out_in.received == [("in", [{"n": 1}])]
    assert out_new.received == [("new", [{"n": 2}])]
    assert src.acked == ["tok"]


async def test_shutdown_abandons_what_is_not_delivered_within_grace():
    src = make_plugin("input", "test_scripted")
    out = make_plugin("output", "test_scripted_out", {"match": "*"})
    out.hang = True
    src.chunks = [("t", ev({"n": 1}), "tok", 1)]
    assert await run(pipeline([src], [out], grace="0.3")) == 0
    assert src.acked == []  # not acknowledged: read again after a restart


async def test_backpressure_pauses_an_input_over_its_limit():
    src = make_plugin("input", "test_scripted", {"mem_buf_limit": "100"})
    out = make_plugin("output", "test_scripted_out", {"match": "*"})
    src.chunks = [("t", ev({"n": i}), i, 60) for i in range(5)]
    p = pipeline([src], [out])
    await run(p)
    assert sorted(src.acked) == [0, 1, 2, 3, 4]
    assert p.context.metrics.value("shipper_input_paused_total", name=src.instance_name) >= 1


@pytest.mark.parametrize("text,expected", [("1", 1), ("no_limits", None), ("False", None), ("no_retries", 0), ("7", 7)])
def test_retry_limit_values(text, expected):
    assert parse_retry_limit(text) == expected


@pytest.mark.parametrize("text", ["-1", "lots"])
def test_bad_retry_limits_are_config_errors(text):
    with pytest.raises(ConfigError):
        parse_retry_limit(text)


def test_backoff_is_full_jitter_between_base_and_capped_exponential():
    rng = random.Random(7)
    for attempt in range(1, 12):
        ceiling = min(60.0, 5.0 * 2**attempt)
        delays = [backoff_delay(attempt, 5.0, 60.0, rng) for _ in range(200)]
        assert all(5.0 <= d <= ceiling for d in delays)
        assert max(delays) > (5.0 + ceiling) / 2  # jitter spreads over the range


def test_backoff_follows_a_seeded_clock_exactly():
    assert [backoff_delay(n, 1, 100, random.Random(3)) for n in (1, 2, 3)] == [
        random.Random(3).uniform(1, 2),
        random.Random(3).uniform(1, 4),
        random.Random(3).uniform(1, 8),
    ]


async def test_gauges_report_buffered_bytes_and_the_oldest_unacknowledged_chunk():
    src = make_plugin("input", "test_scripted")
    out = make_plugin("output", "test_scripted_out", {"match": "*"})
    out.hang = True
    src.chunks = [("t", ev({"n": 1}), "tok", 123)]
    p = pipeline([src], [out], grace="0.5")
    await run(p)
    m = p.context.metrics
    # what the output holds (the packed JSON), not the 123 bytes the input read
    assert m.value("shipper_input_buffered_bytes", name=src.instance_name) == Packed.encode(ev({"n": 1})).size
    assert m.value("shipper_oldest_unacknowledged_seconds") > 0
    assert m.value("shipper_output_pending_batches", name=out.instance_name) == 1


async def test_a_backlog_behind_a_failing_flush_goes_out_as_one_batch_per_tag():
    emitted = asyncio.Event()

    class Slow(ScriptedInput):
        async def run(self):
            for i in range(30):
                await self.emit("t", ev({"n": i}), ack=Named(i, self.acked), nbytes=1)
                await asyncio.sleep(0.02)  # paces the input: several Flush ticks pass while the sink is down
            emitted.set()

    class DownUntilEmitted(ScriptedOutput):
        """Down for as long as the input is still emitting, however slow the machine makes it."""

        async def flush(self, tag, events):
            if not emitted.is_set():
                raise RetryableError("down")
            return await super().flush(tag, events)

    src = Slow(make_plugin("input", "test_scripted").settings, make_context())
    out = DownUntilEmitted(make_plugin("output", "test_scripted_out", {"match": "*", "retry_limit": "no_limits"}).settings,
                           make_context())
    p = pipeline([src], [out], **{"scheduler.base": "0.15", "scheduler.cap": "0.2"})
    await run(p)
    assert sorted(r["n"] for _, recs in out.received for r in recs) == list(range(30))
    assert len(out.received) <= 3  # the batch being retried, one queued, one waiting: not one request per tick


async def test_outputs_stopping_see_the_shutdown_deadline_and_a_second_signal_moves_it_to_now():
    class Timed(ScriptedOutput):
        name = "test_scripted_out"
        seen: list[float | None] = []

        async def stop(self):
            runtime = self.context.runtime
            self.seen.append(runtime.shutdown_deadline() - asyncio.get_running_loop().time())

    src = make_plugin("input", "test_scripted")
    out = Timed(make_plugin("output", "test_scripted_out", {"match": "*"}).settings, make_context())
    engine = Engine(pipeline([src], [out], grace="30"))
    assert engine.shutdown_deadline() is None  # running: no deadline yet
    assert await asyncio.wait_for(engine.run(), timeout=20) == 0
    assert 0 < out.seen[0] <= 30  # what is left of Grace when outputs stop
    engine.abort()
    assert engine.shutdown_deadline() <= asyncio.get_running_loop().time()


async def test_an_input_that_raises_is_counted_and_the_engine_exits_1_after_delivering_the_rest(caplog):
    class Broken(ScriptedInput):
        async def run(self):
            await super().run()
            raise OSError("the journal went away")

    good = make_plugin("input", "test_scripted", instance_name="good")
    good.chunks = [("t", ev({"n": 1}), "g", 1)]
    broken = Broken(make_plugin("input", "test_scripted", instance_name="broken").settings, make_context())
    broken.chunks = [("t", ev({"n": 2}), "b", 1)]
    out = make_plugin("output", "test_scripted_out", {"match": "*"})
    p = pipeline([good, broken], [out])
    assert await run(p) == 1  # a supervisor (kubelet, systemd) sees the failure instead of a clean exit
    assert sorted(r["n"] for _, recs in out.received for r in recs) == [1, 2]
    assert p.inputs[1].context.metrics.value("shipper_input_failures_total", name="broken") == 1
    assert "input broken failed" in caplog.text


async def test_a_plugin_that_cannot_start_ends_the_run_with_1_and_its_reason(caplog):
    class Unstartable(ScriptedOutput):
        async def start(self):
            raise PermissionError("store_dir /var/lib/shipper is not writable")

    src = make_plugin("input", "test_scripted")
    src.chunks = [("t", ev({"n": 1}), "a", 1)]
    out = Unstartable(make_plugin("output", "test_scripted_out", {"match": "*"}).settings, make_context())
    assert await run(pipeline([src], [out])) == 1
    assert "cannot start: PermissionError: store_dir /var/lib/shipper is not writable" in caplog.text
    assert src.acked == []  # nothing was read, so nothing is lost
