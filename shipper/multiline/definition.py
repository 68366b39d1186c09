"""What a multiline parser is: its type, its rules and its keys.

A :class:`MultilineParser` is an immutable description shared by every
stream that uses it (tail files, multiline filter tags).  The per-stream
state lives in :mod:`shipper.multiline.groups`.  Rules follow Fluent Bit's
``type regex`` model: each rule moves from one of its ``from_states`` to
``to_state`` when its regex matches; rules whose from-states include
``start_state`` open a group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

START_STATE = "start_state"
#: Fluent Bit's FLB_ML_FLUSH_TIMEOUT: how long a group may wait for more lines.
DEFAULT_FLUSH_MS = 4000
#: Fluent Bit's default ``multiline_buffer_limit``: a group never grows past this.
BUFFER_LIMIT = 2 * 1024 * 1024


@dataclass(frozen=True, eq=False)
class StateRule:
    """One ``rule "from_states" "/regex/" "to_state"`` line."""

    from_states: tuple[str, ...]
    regex: re.Pattern[str]
    to_state: str

    @property
    def is_start(self) -> bool:
        return START_STATE in self.from_states


@dataclass(eq=False)
class MultilineParser:
    """A named multiline parser (built-in or ``[MULTILINE_PARSER]``).

    ``type`` is ``regex``, ``endswith`` or ``equal`` for rule-driven parsers,
    or ``cri``/``docker`` for the two container formats, which tail decodes
    with dedicated fast loops.  ``parser`` is a ``[PARSER]`` object applied
    to each line first (a line it cannot parse is offered to the next
    multiline parser in the list).
    """

    name: str
    type: str = "regex"
    rules: tuple[StateRule, ...] = ()
    flush_ms: int = DEFAULT_FLUSH_MS
    key_content: str | None = None
    key_group: str | None = None
    key_pattern: str | None = None
    match_str: str = ""
    negate: bool = False
    parser: Any = None
    #: rules that may follow each rule (its to_state is among their from_states).
    followers: dict[StateRule, tuple[StateRule, ...]] = field(default_factory=dict, repr=False)
    #: rules after which the group is complete (a start rule may follow them).
    closing: frozenset[StateRule] = field(default_factory=frozenset, repr=False)
    #: rules that open a group, in definition order.
    start_rules: tuple[StateRule, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        self.link_rules()

    def link_rules(self) -> None:
        """Precompute each rule's possible successors, and which rules end a group."""
        followers = {}
        closing = set()
        for rule in self.rules:
            nxt = tuple(r for r in self.rules if rule.to_state in r.from_states)
            followers[rule] = tuple(r for r in nxt if not r.is_start)
            if any(r.is_start for r in nxt):
                closing.add(rule)
        self.followers = followers
        self.closing = frozenset(closing)
        self.start_rules = tuple(r for r in self.rules if r.is_start)

    def unknown_states(self) -> list[str]:
        """Target states no rule starts from: Fluent Bit refuses such parsers."""
        known = {s for r in self.rules for s in r.from_states}
        return [r.to_state for r in self.rules if r.to_state not in known]
