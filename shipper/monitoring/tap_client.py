"""``shipper tap``: print the JSON lines a daemon's ``/api/v1/tap`` streams.

Plain ``urllib``: the command reads one long response line by line, which
needs neither asyncio nor aiohttp's start-up cost.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import TextIO

import orjson

EXIT_FAILED = 1


def tap_url(base: str, name: str, match: str, limit: int | None, rate: float | None) -> str:
    query = {"name": name, "match": match}
    if limit is not None:
        query["limit"] = str(limit)
    if rate is not None:
        query["rate"] = f"{rate:g}"
    return f"{base.rstrip('/')}/api/v1/tap?{urllib.parse.urlencode(query)}"


def _refusal(error: urllib.error.HTTPError) -> str:
    """What the daemon said when it refused the tap, in words."""
    if error.code == 404 and not error.headers.get("Content-Type", "").startswith("application/json"):
        return "the daemon does not serve taps: set HTTP_Tap On (and HTTP_Server On) in its [SERVICE] section"
    try:
        body = orjson.loads(error.read())
    except orjson.JSONDecodeError:
        return f"HTTP {error.code}"
    message = str(body.get("error", f"HTTP {error.code}"))
    if body.get("instances"):
        message += f"; instances: {', '.join(body['instances'])}"
    return message


def stream_tap(base: str, name: str, match: str, limit: int | None, rate: float | None, out: TextIO) -> int:
    """Copy the tap's lines to ``out`` until the daemon ends the stream (the limit) or Ctrl-C."""
    url = tap_url(base, name, match, limit, rate)
    try:
        with urllib.request.urlopen(url) as response:
            for line in response:
                out.write(line.decode("utf-8", "replace"))
                out.flush()
    except urllib.error.HTTPError as exc:
        print(f"error: tap {name}: {_refusal(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except urllib.error.URLError as exc:
        print(f"error: cannot reach the daemon at {base} ({exc.reason}); is HTTP_Server On?", file=sys.stderr)
        return EXIT_FAILED
    return 0
