"""The multiline parsers Fluent Bit ships: cri, docker, go, python, java, ruby.

The stack-trace parsers are rule tables with the same states and regexes as
Fluent Bit's built-ins (which themselves follow fluentd's
``detect_exceptions`` plugin), so groups start and end on the same lines.
"""

from __future__ import annotations

from shipper.multiline.definition import MultilineParser, StateRule
from shipper.parsers.onigmo import compile_onigmo

RuleSpec = tuple[str, str, str]

JAVA: tuple[RuleSpec, ...] = (
    ("start_state, java_start_exception", r"/(.)(?:Exception|Error|Throwable|V8 errors stack trace)[:\r\n]/",
     "java_after_exception"),
    ("java_after_exception", r"/^[\t ]*nested exception is:[\t ]*/", "java_start_exception"),
    ("java_after_exception", r"/^[\r\n]*$/", "java_after_exception"),
    ("java_after_exception, java", r"/^[\t ]+(?:eval )?at /", "java"),
    ("java_after_exception, java", r"/^[\t ]+--- End of inner exception stack trace ---$/", "java"),
    ("java_after_exception, java", r"/^--- End of stack trace from previous location where exception was thrown ---$/",
     "java"),
    ("java_after_exception, java", r"/^[\t ]*(?:Caused by|Suppressed):/", "java_after_exception"),
    ("java_after_exception, java", r"/^[\t ]*... \d+ (?:more|common frames omitted)/", "java"),
)

PYTHON: tuple[RuleSpec, ...] = (
    ("start_state", r"/^Traceback \(most recent call last\):$/", "python"),
    ("python", r"/^[\t ]+File /", "python_code"),
    ("python_code", r"/[^\t ]/", "python"),
    ("python", r"/^(?:[^\s.():]+\.)*[^\s.():]+:/", "start_state"),
)

GO: tuple[RuleSpec, ...] = (
    ("start_state", r"/\bpanic: /", "go_after_panic"),
    ("start_state", r"/http: panic serving/", "go_goroutine"),
    ("go_after_panic", r"/^$/", "go_goroutine"),
    ("go_after_panic, go_after_signal, go_frame_1", r"/^$/", "go_goroutine"),
    ("go_after_panic", r"/^\[signal /", "go_after_signal"),
    ("go_goroutine", r"/^goroutine \d+ \[[^\]]+\]:$/", "go_frame_1"),
    ("go_frame_1", r"/^(?:[^\s.:]+\.)*[^\s.():]+\(|^created by /", "go_frame_2"),
    ("go_frame_2", r"/^\s/", "go_frame_1"),
)

RUBY: tuple[RuleSpec, ...] = (
    ("start_state, ruby_start_exception", r"/^.+:\d+:in\s+.*/", "ruby_after_exception"),
    ("ruby_after_exception, ruby", r"/^\s+from\s+.*:\d+:in\s+.*/", "ruby"),
)


def make_rule(from_states: str, regex: str, to_state: str) -> StateRule:
    """A rule from its three config strings (``from_states`` is comma-separated)."""
    states = tuple(s.strip() for s in from_states.split(",") if s.strip())
    return StateRule(states, compile_onigmo(regex, line_anchors=False), to_state.strip())


def builtin_parsers() -> dict[str, MultilineParser]:
    """Fresh instances of every built-in multiline parser, by name."""
    tables = {"java": JAVA, "python": PYTHON, "go": GO, "ruby": RUBY}
    parsers = {
        name: MultilineParser(name=name, type="regex", rules=tuple(make_rule(*spec) for spec in table))
        for name, table in tables.items()
    }
    parsers["cri"] = MultilineParser(name="cri", type="cri", key_content="log", key_group="stream", key_pattern="_p")
    parsers["docker"] = MultilineParser(name="docker", type="docker", key_content="log", match_str="\n")
    return parsers
