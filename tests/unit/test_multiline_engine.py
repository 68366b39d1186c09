"""The multiline engine: container partials, stack-trace rules, timeouts, limits, config errors."""

from __future__ import annotations

import random
import time

import pytest

from shipper.config.model import Section
from shipper.errors import ConfigError, Location
from shipper.multiline import build_multiline_parsers, new_chain
from shipper.multiline.definition import BUFFER_LIMIT
from shipper.multiline.timestamps import Rfc3339Cache
from shipper.options import Property

PARSERS = build_multiline_parsers([], {}, [])


def chain(*names: str):
    return new_chain([PARSERS[n] for n in names], "log", True, lambda line, ts: (ts, {"log": line + "\n"}))


def decode(names: tuple[str, ...], lines: list[str], flush: bool = True) -> list[dict]:
    state = chain(*names)
    out: list = []
    state.decode(lines, 7, out)
    if flush:
        state.flush(out)
    return [record for _, record in out]


def cri_lines(messages: list[tuple[str, str]], rng: random.Random) -> list[str]:
    """Split each (stream, text) into P pieces plus an F piece, interleaving the two streams."""
    pending = {"stdout": [], "stderr": []}
    lines = []
    for stream, text in messages:
        cuts = sorted(rng.sample(range(1, len(text)), min(3, len(text) - 1))) if len(text) > 1 else []
        pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        pending[stream].append(pieces)
    streams = ["stdout", "stderr"]
    while any(pending.values()):
        stream = rng.choice([s for s in streams if pending[s]])
        pieces = pending[stream][0]
        piece = pieces.pop(0)
        lines.append(f"2024-03-05T10:15:30.000000001Z {stream} {'P' if pieces else 'F'} {piece}")
        if not pieces:
            pending[stream].pop(0)
    return lines


def test_cri_partials_reassemble_exactly_per_stream() -> None:
    rng = random.Random(7)
    messages = [(rng.choice(["stdout", "stderr"]), "".join(rng.choice("ab c{}\"\\é") for _ in range(rng.randrange(2, 60))))
                for _ in range(300)]
    records = decode(("cri",), cri_lines(messages, rng))
    for stream in ("stdout", "stderr"):
        assert [r["log"] for r in records if r["stream"] == stream] == [t for s, t in messages if s == stream]


def test_cri_keeps_first_piece_time_and_p_flag_and_parses_offsets() -> None:
    state = chain("cri")
    out: list = []
    state.decode(["2024-03-05T12:15:31.25+02:00 stdout P a", "2024-03-05T10:15:40.5Z stdout F b"], 0, out)
    assert out == [(1709633731250000000, {"time": "2024-03-05T12:15:31.25+02:00", "stream": "stdout", "_p": "P",
                                          "log": "ab"})]


def test_docker_partials_join_until_the_newline() -> None:
    lines = ['{"log":"a","stream":"stdout","time":"2024-03-05T10:15:30.000000000Z"}',
             '{"log":"err\\n","stream":"stderr","time":"2024-03-05T10:15:31.000000000Z"}',
             '{"log":"b\\n","stream":"stdout","time":"2024-03-05T10:15:32.000000000Z"}']
    assert [r["log"] for r in decode(("docker",), lines)] == ["err\n", "ab\n"]


def test_docker_then_cri_list_picks_the_parser_per_line_and_passes_other_lines_through() -> None:
    lines = ['{"log":"d\\n","stream":"stdout","time":"2024-03-05T10:15:30.000000000Z"}',
             "2024-03-05T10:15:30.000000000Z stdout F c",
             "neither format"]
    assert [r["log"] for r in decode(("docker", "cri"), lines)] == ["d\n", "c", "neither format\n"]


JAVA = ["2024-03-05 ERROR boom", "java.lang.IllegalStateException: bad", "\tat a.b(C.java:1)",
        "Caused by: java.io.IOException: x", "\t... 2 more", "next line"]


def test_java_trace_groups_and_ends_lines_with_newlines() -> None:
    assert [r["log"] for r in decode(("java",), JAVA)] == [
        "2024-03-05 ERROR boom\n",
        "java.lang.IllegalStateException: bad\n\tat a.b(C.java:1)\nCaused by: java.io.IOException: x\n\t... 2 more\n",
        "next line\n",
    ]


def test_python_traceback_closes_on_the_exception_line() -> None:
    lines = ["Traceback (most recent call last):", '  File "x.py", line 1, in <module>', "    f()",
             "ValueError: nope", "after"]
    assert [r["log"] for r in decode(("python",), lines)] == [
        'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\n    f()\nValueError: nope\n',
        "after\n",
    ]


def test_pending_group_waits_for_its_flush_timeout() -> None:
    state = chain("cri")
    out: list = []
    state.decode(["2024-03-05T10:15:30.000000000Z stdout P half"], 0, out)
    state.expire(time.monotonic(), out)
    assert out == [] and state.pending()
    state.expire(time.monotonic() + PARSERS["cri"].flush_ms / 1000 + 0.1, out)
    assert [r["log"] for _, r in out] == ["half"] and not state.pending()


@pytest.mark.parametrize("name", ["cri", "java"])
def test_a_group_over_the_buffer_limit_is_split_not_lost(name: str) -> None:
    piece = "x" * 300_000
    count = BUFFER_LIMIT // len(piece) + 3
    if name == "cri":
        lines = [f"2024-03-05T10:15:30.000000000Z stdout P {piece}"] * count
        lines.append("2024-03-05T10:15:30.000000000Z stdout F end")
        expected = piece * count + "end"
    else:
        lines = ["java.lang.Error: big"] + [f"\tat {piece}"] * count
        expected = "java.lang.Error: big\n" + f"\tat {piece}\n" * count
    state = chain(name)
    out: list = []
    state.decode(lines, 0, out)
    state.flush(out)
    assert len(out) >= 2 and state.truncated >= 1
    assert "".join(r["log"] for _, r in out) == expected


def section(*pairs: tuple[str, str]) -> Section:
    return Section("multiline_parser", [Property(k, v, Location("p.conf", i + 1)) for i, (k, v) in enumerate(pairs)],
                   Location("p.conf", 1))


def test_custom_parser_from_a_section() -> None:
    errors: list[ConfigError] = []
    parsers = build_multiline_parsers([section(
        ("name", "brackets"), ("type", "regex"), ("flush_timeout", "1000"),
        ("rule", r'"start_state" "/^\[\d+\]/" "cont"'), ("rule", r'"cont" "/^\s+/" "cont"'))], {}, errors)
    assert errors == [] and parsers["brackets"].flush_ms == 1000
    out: list = []
    new_chain([parsers["brackets"]], "log", True, lambda line, ts: (ts, {"log": line + "\n"})).decode(
        ["[1] a", "  b", "orphan", "[2] c"], 0, out)
    assert [r["log"] for _, r in out] == ["[1] a\n  b\n", "orphan\n"]


def test_bad_sections_report_every_problem_with_its_line() -> None:
    errors: list[ConfigError] = []
    build_multiline_parsers([
        section(("name", "a"), ("rule", '"start_state" "/x/"')),
        section(("name", "b"), ("rule", '"start_state" "/(/" "cont"')),
        section(("name", "c"), ("rule", '"start_state" "/x/" "nowhere"')),
        section(("name", "d"), ("parser", "missing"), ("type", "endswith"), ("match_string", "\\")),
    ], {}, errors)
    text = "\n".join(str(e) for e in errors)
    assert "p.conf:2" in text and "needs" in text
    assert "invalid rule regex" in text
    assert "'nowhere' is not the from-state" in text
    assert "parser 'missing' is not defined" in text


def test_rfc3339_cache_parses_fractions_and_zones() -> None:
    cache = Rfc3339Cache()
    assert cache.parse("2024-03-05T10:15:30Z") == 1709633730 * 10**9
    assert cache.parse("2024-03-05T10:15:30.5Z") == 1709633730 * 10**9 + 500_000_000
    assert cache.parse("2024-03-05T11:15:30.000000001+01:00") == 1709633730 * 10**9 + 1
    assert cache.parse("not a time") is None
