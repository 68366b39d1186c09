"""How many tailed files may be open at once: the process's file limit, minus a reserve.

A node can hold more log files than ``ulimit -n`` allows open (Fluent Bit
users hit this too), and a tail that takes every descriptor starves
everything else: outputs cannot connect, the monitoring server cannot
accept, and nothing is delivered.  So tail holds at most
``RLIMIT_NOFILE - reserve`` files open across every tail input of the
process, the reserve (a quarter of the limit, at least 64) staying free for
outputs, the ``DB``, storage chunks and the HTTP server.  A tail that needs
a descriptor when none is free closes one of its idle files first (read to
the end, nothing in flight) and opens it again, by identity, when it
changes; a file that finds no descriptor waits for the next round.

``shipper run`` first raises its soft limit to the hard one (at most
:data:`RAISED_LIMIT`): hosts often start services at 1,024 with a hard limit
far higher, and tail should not close files it has no need to close.
"""

from __future__ import annotations

import resource

#: descriptors kept for everything but tailed files: at least this many ...
MIN_RESERVE = 64
#: ... or this fraction of the limit.
RESERVE_FRACTION = 4
#: tail may always hold this many, however low the limit.
MIN_FILES = 8
#: how far ``shipper run`` raises its soft limit towards the hard one.
RAISED_LIMIT = 65536


def raise_file_limit() -> None:
    """Soft ``RLIMIT_NOFILE`` up to the hard limit (at most RAISED_LIMIT); never lowered."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = RAISED_LIMIT if hard == resource.RLIM_INFINITY else min(hard, RAISED_LIMIT)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def file_limit() -> int:
    """Tailed files this process may hold open (the soft ``RLIMIT_NOFILE`` minus the reserve)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 20
    return max(MIN_FILES, soft - max(MIN_RESERVE, soft // RESERVE_FRACTION))


class FileBudget:
    """The count of tailed files open in this process, shared by every tail input."""

    def __init__(self) -> None:
        self.held = 0

    @property
    def limit(self) -> int:
        return file_limit()

    def free(self) -> bool:
        return self.held < self.limit

    def opened(self) -> None:
        self.held += 1

    def closed(self) -> None:
        self.held -= 1


#: one budget per process: tail inputs (and the pipelines of successive reloads) share it.
BUDGET = FileBudget()
