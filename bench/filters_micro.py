"""Per-record cost of the parsers and record filters on 10,000-record chunks.

Run: ``python -m bench.filters_micro``.  Each case builds its plugin once,
prepares fresh copies of the chunk outside the timed region (filters may
change records in place), and reports the best of several rounds of one
``process`` call (or one ``parse_lines`` batch) divided by the chunk size.
Times are CPU time of this process (``time.process_time``), best of several
rounds, so other load on a shared machine inflates them less.
The last line is the ``parser(json) + grep + modify`` pipeline of issue 4.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import Any

import orjson

from bench.timing import best_cpu_seconds
from shipper.config.model import Section
from shipper.errors import ConfigError, Location
from shipper.options import Property
from shipper.parsers import Parser, build_parsers
from shipper.plugin import Context, Filter
from tests.factory import make_context, make_plugin

N = 10_000
ROUNDS = 15
LEVELS = ("info", "debug", "warn", "error")


def app_record(i: int) -> dict[str, Any]:
    return {
        "time": f"2024-03-05T10:00:{i % 60:02d}.{i:09d}Z",
        "stream": "stdout",
        "_p": "F",
        "log": orjson.dumps(
            {"ts": f"2024-03-05T10:00:{i % 60:02d}.{i % 1000:03d}Z", "level": LEVELS[i % 4], "msg": "request served", "status": 200 + i % 5}
        ).decode(),
        "kubernetes": {"pod_name": "web-1", "namespace_name": "shop", "labels": {"app": "web"}},
    }


def parsed_record(i: int) -> dict[str, Any]:
    return {"level": LEVELS[i % 4], "msg": "request served", "status": 200 + i % 5, "http_path": "/a", "http_code": "200",
            "kubernetes": {"pod_name": "web-1", "namespace_name": "shop", "labels": {"app": "web"}}}


PARSERS = {
    "json_ts": {"format": "json", "time_key": "ts", "time_format": "%Y-%m-%dT%H:%M:%S.%L%z"},
    "json": {"format": "json"},
    "cri": {"format": "regex", "regex": r"^(?<time>[^ ]+) (?<stream>stdout|stderr) (?<logtag>[^ ]*) (?<message>.*)$",
            "time_key": "time", "time_format": "%Y-%m-%dT%H:%M:%S.%L%z", "time_keep": "on"},
    "logfmt": {"format": "logfmt"},
}


def make_parsers() -> dict[str, Parser]:
    sections = [
        Section("parser", [Property("name", n, Location("b", 1))] + [Property(k, v, Location("b", 1)) for k, v in p.items()], Location("b", 1))
        for n, p in PARSERS.items()
    ]
    errors: list[ConfigError] = []
    parsers = build_parsers(sections, errors)
    assert not errors, errors
    return parsers


def best_us(run: Callable[[], Any], prepare: Callable[[], Any] = lambda: None) -> float:
    """Best CPU time per record of ``run``, in microseconds."""
    return best_cpu_seconds(run, ROUNDS, prepare) / N * 1e6


def filter_us(plugins: list[Filter], make_record: Callable[[int], dict[str, Any]]) -> float:
    chunks: list[list] = []
    done: list[list] = []

    def prepare() -> None:
        done.clear()  # free the previous round's records outside the timed region
        chunks.append([(i, make_record(i)) for i in range(N)])
        gc.collect()  # do not charge the filter for collecting the chunk we just built

    async def chain() -> None:
        events = chunks.pop()
        done.append(events)
        for plugin in plugins:
            events = await plugin.process("kube.var.log.containers.web-1_shop_app.log", events)
        done.append(events)

    loop = asyncio.new_event_loop()
    try:
        return best_us(lambda: loop.run_until_complete(chain()), prepare)
    finally:
        loop.close()


def main() -> None:
    parsers = make_parsers()
    context: Context = make_context()
    context.parsers = parsers

    def f(name: str, *props: tuple[str, str]) -> Filter:
        return make_plugin("filter", name, [("match", "kube.*"), *props], context=context)  # type: ignore[return-value]

    json_lines = [app_record(i)["log"] for i in range(N)]
    cri_lines = [f"2024-03-05T10:00:{i % 60:02d}.{i:09d}Z stdout F hello world {i}" for i in range(N)]
    logfmt_lines = [f'level={LEVELS[i % 4]} msg="request served" status={200 + i % 5} path=/a' for i in range(N)]
    rows: list[tuple[str, float]] = [
        ("reference: orjson.loads of the same lines", best_us(lambda: [orjson.loads(line) for line in json_lines])),
        ("parser json, Time_Key+%L%z (parse_lines)", best_us(lambda: parsers["json_ts"].parse_lines(json_lines))),
        ("parser json, no time (parse_lines)", best_us(lambda: parsers["json"].parse_lines(json_lines))),
        ("parser regex cri, time kept (parse_lines)", best_us(lambda: parsers["cri"].parse_lines(cri_lines))),
        ("parser logfmt, 4 pairs (parse_lines)", best_us(lambda: parsers["logfmt"].parse_lines(logfmt_lines))),
        ("filter parser json_ts on log, Reserve_Data", filter_us([f("parser", ("key_name", "log"), ("parser", "json_ts"), ("reserve_data", "on"))], app_record)),
        ("filter grep Regex level ^(warn|error)$", filter_us([f("grep", ("regex", "level ^(warn|error)$"))], parsed_record)),
        ("filter grep Exclude $kubernetes['labels']['app']", filter_us([f("grep", ("exclude", "$kubernetes['labels']['app'] ^db$"))], parsed_record)),
        ("filter modify Add + Remove (in place)", filter_us([f("modify", ("add", "cluster prod"), ("remove", "http_code"))], parsed_record)),
        ("filter modify Rename (rebuilds the map)", filter_us([f("modify", ("rename", "msg message"))], parsed_record)),
        ("filter modify Condition + Set", filter_us([f("modify", ("condition", "Key_value_equals level error"), ("set", "alert yes"))], parsed_record)),
        ("filter record_modifier Record x2", filter_us([f("record_modifier", ("record", "cluster prod"), ("record", "region eu"))], parsed_record)),
        ("filter record_modifier Remove_key", filter_us([f("record_modifier", ("remove_key", "http_code"))], parsed_record)),
        ("filter nest http_* under http", filter_us([f("nest", ("operation", "nest"), ("wildcard", "http_*"), ("nest_under", "http"))], parsed_record)),
        ("filter nest lift kubernetes", filter_us([f("nest", ("operation", "lift"), ("nested_under", "kubernetes"), ("add_prefix", "k8s_"))], parsed_record)),
        ("filter throttle (under the limit)", filter_us([f("throttle", ("rate", "1000000000"))], parsed_record)),
    ]
    rewrite = f("rewrite_tag", ("rule", r"$level ^(error)$ alerts.$TAG[1] false"))
    rewrite.reemit = lambda tag, events: None  # type: ignore[method-assign]
    rows.append(("filter rewrite_tag (1 in 4 re-emitted)", filter_us([rewrite], parsed_record)))
    rows.append(
        (
            "pipeline parser(json) + grep + modify",
            filter_us(
                [
                    f("parser", ("key_name", "log"), ("parser", "json_ts"), ("reserve_data", "on")),
                    f("grep", ("exclude", "level ^debug$")),
                    f("modify", ("add", "cluster prod"), ("remove", "_p")),
                ],
                app_record,
            ),
        )
    )
    width = max(len(name) for name, _ in rows)
    reference = rows[0][1]
    print(f"{'case':<{width}}  us/record  x loads  (N={N}, CPU time, best of {ROUNDS})")
    for name, cost in rows:
        # the ratio to orjson.loads stays comparable when a shared machine is busy
        print(f"{name:<{width}}  {cost:9.3f}  {cost / reference:7.2f}")


if __name__ == "__main__":
    main()
