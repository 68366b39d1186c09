"""Cost of the engine's probe hook (``shipper test``, ``HTTP_Tap``) on the filter chain.

Run: ``python -m bench.probe_micro``.  The engine's filter chain (grep,
modify, record_modifier) runs over 1,000-record chunks three ways: with no
probe (``HTTP_Tap Off``, the default), with a tap hub no client is tapping
(``HTTP_Tap On``), and with ``shipper test``'s tracer, which copies each chunk
before every filter.  Times are the best CPU time of several rounds per
record, and each is shown as a ratio to the first, measured in the same run.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from bench.timing import best_cpu_seconds
from shipper.config.loader import load_config
from shipper.engine.core import Engine
from shipper.monitoring.tap import TapHub
from shipper.pipeline import build
from shipper.testing.trace import Tracer

CHUNK = 1_000
CHUNKS = 200
ROUNDS = 7
CONFIG = """
[INPUT]
    Name    dummy
    Tag     app.web
[FILTER]
    Name    grep
    Match   app.*
    Exclude level ^debug$
[FILTER]
    Name    modify
    Match   app.*
    Add     env prod
[FILTER]
    Name    record_modifier
    Match   app.*
    Record  node n1
[OUTPUT]
    Name    null
    Match   *
"""


def chain_ns(engine: Engine, probe: Any) -> float:
    """Best CPU nanoseconds per record of the filter chain over CHUNKS chunks."""
    chunks: list[list] = []

    def prepare() -> None:
        chunks[:] = [[(1, {"level": "info", "msg": f"m{i}", "n": i}) for i in range(CHUNK)] for _ in range(CHUNKS)]
        if isinstance(probe, Tracer):
            probe.steps.clear()

    async def chain() -> None:
        for chunk in chunks:
            await engine._run_chain("app.web", chunk, 0)

    return best_cpu_seconds(lambda: asyncio.run(chain()), ROUNDS, prepare) / (CHUNK * CHUNKS) * 1e9


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "chain.conf")
        path.write_text(CONFIG)
        document = load_config(str(path), [])
        results = []
        for label, probe in (("no probe", None), ("idle tap hub", TapHub()), ("test tracer", Tracer())):
            engine = Engine(build(document), probe=probe)
            results.append((label, chain_ns(engine, probe)))
    floor = results[0][1]
    for label, ns in results:
        print(f"{label:>14}: {ns:8.1f} ns/record  {ns / floor:6.2f}x")


if __name__ == "__main__":
    main()
