"""Cutting records into API requests by count and bytes, the rule PutRecordBatch and PutRecords share.

Both services take at most N records and M bytes per call; a record over its
own limit is left out before packing, so every record here fits a request.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence


def pack(sizes: Sequence[int], max_items: int, max_bytes: int) -> Iterator[slice]:
    """Consecutive slices of positions whose count and byte total stay within the limits, in order."""
    start = total = 0
    for position, size in enumerate(sizes):
        if position > start and (position - start >= max_items or total + size > max_bytes):
            yield slice(start, position)
            start, total = position, 0
        total += size
    if start < len(sizes):
        yield slice(start, len(sizes))
