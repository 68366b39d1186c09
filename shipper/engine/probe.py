"""Observation points in the engine, for ``shipper test`` and ``shipper tap``.

When a probe is set, the engine shows it each chunk an input hands in, what
each filter makes of a chunk, and each piece routed to an output.  Without
one the engine pays a single ``is None`` test per chunk, filter and route, so
the hook costs nothing in production unless ``HTTP_Tap`` is on.

A probe must not change or keep the event lists it is shown: they belong to
the pipeline and the next plugin may change them in place.
"""

from __future__ import annotations

from typing import Any, Protocol

from shipper.events import Event

#: what a filter re-emitted under new tags (rewrite_tag) while processing one chunk.
Reemitted = list[tuple[str, list[Event]]]


class Probe(Protocol):
    """Receives the engine's observations; every method is called synchronously in the chain."""

    def ingested(self, name: str, tag: str, events: list[Event]) -> None:
        """Input ``name`` handed in ``events`` under ``tag``."""

    def before_filter(self, name: str, tag: str, events: list[Event]) -> Any:
        """Filter ``name`` is about to process ``events``; the result comes back in :meth:`filtered`."""

    def filtered(self, name: str, tag: str, before: Any, events: list[Event], reemitted: Reemitted) -> None:
        """Filter ``name`` returned ``events`` and re-emitted ``reemitted``."""

    def routed(self, name: str, tag: str, events: list[Event]) -> None:
        """Output ``name`` accepted ``events`` under ``tag``."""
