"""glibc's allocator: large buffers in mappings of their own, and the heap's free pages handed back.

Packed pieces (:mod:`shipper.packed`, 30-150 KB each with 32k reads),
decoded batches and request bodies are made and freed all the time, while
small long-lived objects are allocated in between.  Two things kept RSS
above what ``Mem_Buf_Limit`` counts:

- glibc serves a buffer over its mmap threshold (128 KB at first) with its
  own ``mmap`` and unmaps it on free, but after the first such free it
  raises the threshold, and from then on those buffers come from the heap
  (under overload with 1 MiB reads: +95 MB over idle instead of +74 MB);
- freed heap space pinned by neighbours stays resident until
  ``malloc_trim`` hands its pages back.

So the threshold is pinned, and the engine trims after batches are done.
Through issue 16's 60 s outage with ``Mem_Buf_Limit 50M``, peak RSS was
141-148 MB, against 184 MB without the trim (a 16 KB threshold instead gave
149-161 MB and cost about 5% CPU in page faults).
"""

from __future__ import annotations

import ctypes
import time

#: glibc's ``mallopt`` parameter number for the mmap threshold.
M_MMAP_THRESHOLD = -3
#: glibc's initial threshold, kept from moving.
MMAP_THRESHOLD = 128 * 1024
#: seconds between two trims (each walks the heap's free chunks: well under a millisecond).
TRIM_EVERY = 0.2

_libc = ctypes.CDLL(None)
_last_trim = 0.0


def fix_mmap_threshold() -> bool:
    """Pin glibc's mmap threshold; False where the C library has no ``mallopt`` (or ignores it)."""
    mallopt = getattr(_libc, "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def release_free_memory() -> None:
    """Hand the heap's free pages back to the system (``malloc_trim``), at most every :data:`TRIM_EVERY` seconds."""
    global _last_trim
    now = time.monotonic()
    if now - _last_trim < TRIM_EVERY:
        return
    _last_trim = now
    trim = getattr(_libc, "malloc_trim", None)
    if trim is not None:
        trim(0)
