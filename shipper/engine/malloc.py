"""Tell glibc's allocator to give large buffers back to the system as soon as they are freed.

Packed pieces (:mod:`shipper.packed`, 30-150 KB each with 32k reads),
decoded batches and request bodies are made and freed all the time.  glibc
serves a buffer over its mmap threshold (128 KB at first) with its own
``mmap`` and returns it on free, but it raises the threshold after the first
such free, and everything under the threshold comes from the heap, where
small long-lived objects allocated in between pin the freed space.  A fixed
threshold of 16 KB keeps every such buffer in its own mapping: through a
60 s outage with ``Mem_Buf_Limit 50M``, peak RSS was 157-161 MB instead of
184 MB (two runs each).  glibc stops mapping past 65,536 live mappings
(``M_MMAP_MAX``), so a huge backlog falls back to the heap rather than failing.
"""

from __future__ import annotations

import ctypes

#: glibc's ``mallopt`` parameter number for the mmap threshold.
M_MMAP_THRESHOLD = -3
#: buffers at least this big get their own mapping (a 32k read packs to 30 KB or more).
MMAP_THRESHOLD = 16 * 1024


def fix_mmap_threshold() -> bool:
    """Pin glibc's mmap threshold; False where the C library has no ``mallopt`` (or ignores it)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
