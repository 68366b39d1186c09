"""What a pod asks of its logs through ``fluentbit.io/`` annotations.

``fluentbit.io/parser[_stream][-container]`` proposes a parser and
``fluentbit.io/exclude[_stream][-container]`` drops records; they are honoured
only when ``K8S-Logging.Parser`` / ``K8S-Logging.Exclude`` allow them.  As in
Fluent Bit, a container-specific annotation wins over a pod-wide one whatever
their order, and a pod-wide one fills only what is still unset.  Decided once
per container when its metadata is cached, never per record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

PREFIX = "fluentbit.io/"
_TRUE_WORDS = frozenset({"true", "on", "yes"})


@dataclass(slots=True)
class LoggingProps:
    """Per-container choices; ``None`` means "no annotation said anything"."""

    stdout_parser: str | None = None
    stderr_parser: str | None = None
    stdout_exclude: bool | None = None
    stderr_exclude: bool | None = None

    @property
    def active(self) -> bool:
        """True when records need a per-record look at their stream."""
        return bool(self.stdout_parser or self.stderr_parser or self.stdout_exclude or self.stderr_exclude)

    def excluded(self, stream: Any) -> bool:
        """Fluent Bit's rule: a record without a known stream is dropped only if both streams are."""
        if stream == "stdout":
            return bool(self.stdout_exclude)
        if stream == "stderr":
            return bool(self.stderr_exclude)
        return bool(self.stdout_exclude and self.stderr_exclude)

    def parser_for(self, stream: Any) -> str | None:
        if stream == "stdout":
            return self.stdout_parser
        if stream == "stderr":
            return self.stderr_parser
        return self.stdout_parser if self.stdout_parser == self.stderr_parser else None


def _split(prop: str) -> tuple[str, str | None, str | None] | str:
    """``parser_stderr-app`` -> ("parser", "stderr", "app"); an error message when malformed."""
    for kind in ("parser", "exclude"):
        if prop.startswith(kind):
            rest = prop[len(kind) :]
            break
    else:
        return "unknown annotation"
    stream = None
    if rest.startswith("_"):
        for name in ("stdout", "stderr"):
            if rest.startswith(name, 1):
                stream, rest = name, rest[1 + len(name) :]
                break
        else:
            return "invalid stream in annotation"
    container = None
    if rest.startswith("-"):
        container, rest = rest[1:], ""
        if not container:
            return "invalid container in annotation"
    if rest:
        return "invalid annotation"
    return kind, stream, container


def logging_props(
    annotations: Mapping[str, Any],
    container_name: str | None,
    allow_parser: bool,
    allow_exclude: bool,
    parser_exists: Callable[[str], bool],
    warn: Callable[[str], None],
) -> LoggingProps:
    """Read the ``fluentbit.io/`` annotations that apply to one container."""
    props = LoggingProps()
    for key, value in annotations.items():
        if not key.startswith(PREFIX) or len(key) == len(PREFIX):
            continue
        parts = _split(key[len(PREFIX) :])
        if isinstance(parts, str):
            warn(f"{parts} {key!r}")
            continue
        kind, stream, container = parts
        if container is not None and container != container_name:
            continue
        specific = container is not None
        text = str(value)
        if kind == "parser":
            if not allow_parser:
                warn(f"annotation {key!r} not allowed (K8S-Logging.Parser is off)")
                continue
            if not parser_exists(text):
                warn(f"annotation {key!r} names parser {text!r}, which does not exist")
                continue
            if stream in (None, "stdout") and (specific or props.stdout_parser is None):
                props.stdout_parser = text
            if stream in (None, "stderr") and (specific or props.stderr_parser is None):
                props.stderr_parser = text
        else:
            if not allow_exclude:
                warn(f"annotation {key!r} not allowed (K8S-Logging.Exclude is off)")
                continue
            exclude = text.strip().lower() in _TRUE_WORDS
            if stream in (None, "stdout") and (specific or props.stdout_exclude is None):
                props.stdout_exclude = exclude
            if stream in (None, "stderr") and (specific or props.stderr_exclude is None):
                props.stderr_exclude = exclude
    return props
