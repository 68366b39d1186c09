"""Which files a tail input reads: ``Path`` globs minus ``Exclude_Path``.

In dry-run the directory of every pattern is replaced by ``--log-dir`` for
finding files, while the path shown to tags, ``Path_Key`` and exclusion
stays the original one, so everything downstream behaves as in production.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Found:
    """A file to tail: where it really is, and the path tags and Path_Key see."""

    real: str
    shown: str


def _static_prefix(pattern: str) -> str:
    """The leading directories of a glob that contain no wildcard."""
    parts = []
    for part in os.path.dirname(pattern).split(os.sep):
        if glob.has_magic(part):
            break
        parts.append(part)
    return os.sep.join(parts) or os.sep


class PathSet:
    """The ``Path`` patterns of one input, and the exclusions applied to them."""

    def __init__(self, patterns: list[str], excludes: list[str], log_dir: Path | None = None) -> None:
        self.patterns = patterns
        self.excludes = excludes
        self.log_dir = str(log_dir) if log_dir is not None else None

    def _where(self, pattern: str) -> tuple[str, str]:
        """The glob to run and the directory it stands for (they differ only in dry-run)."""
        if self.log_dir is None:
            return pattern, os.path.dirname(pattern)
        return os.path.join(self.log_dir, os.path.basename(pattern)), os.path.dirname(pattern)

    def watch_roots(self) -> list[str]:
        """Directories whose new entries can bring new files."""
        roots = {_static_prefix(self._where(p)[0]) for p in self.patterns}
        return sorted(r for r in roots if os.path.isdir(r))

    def searched(self) -> list[str]:
        """The globs really searched, for telling a user that none matched."""
        return [self._where(os.path.expanduser(p))[0] for p in self.patterns]

    def scan(self) -> list[Found]:
        """Every regular file matching a pattern and no exclusion, in glob (sorted) order."""
        found: list[Found] = []
        seen: set[str] = set()
        for pattern in self.patterns:
            search, shown_dir = self._where(os.path.expanduser(pattern))
            for real in sorted(glob.glob(search)):
                if real in seen or not os.path.isfile(real):
                    continue
                shown = real if self.log_dir is None else os.path.join(shown_dir, os.path.basename(real))
                if any(fnmatch.fnmatchcase(shown, ex) or fnmatch.fnmatchcase(real, ex) for ex in self.excludes):
                    continue
                seen.add(real)
                found.append(Found(real, shown))
        return found
