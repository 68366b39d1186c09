"""Where configuration files come from: the disk, or the data keys of a ConfigMap.

The readers never open files themselves.  They ask :class:`Files` to find an
``@INCLUDE`` or ``Parsers_File`` path and to read it, so a Kubernetes
manifest's ``data`` keys can stand in for files: ``@INCLUDE
/fluent-bit/etc/application-log.conf`` inside a ConfigMap resolves to the
sibling key ``application-log.conf``, exactly as it would once Kubernetes
mounted the ConfigMap.  A file's *name* is also what error messages show:
a path on disk, or ``manifest.yaml[key]`` for a virtual file.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import posixpath
from collections.abc import Mapping, Sequence

GLOB_CHARS = frozenset("*?[")


class Files:
    """Find and read config files, with a ConfigMap's data keys (if any) first."""

    def __init__(self, manifest: str | None = None, data: Mapping[str, str] | None = None) -> None:
        self.manifest = manifest
        self._virtual: dict[str, str] = {}
        self._keys: dict[str, str] = {}
        for key, text in (data or {}).items():
            name = self.virtual_name(key)
            self._virtual[name] = text
            self._keys[key] = name

    def virtual_name(self, key: str) -> str:
        """How a ConfigMap key is named in messages: ``manifest.yaml[key]``."""
        return f"{self.manifest}[{key}]"

    def key(self, name: str) -> str | None:
        """The ConfigMap key behind a virtual file name, or None for a disk file."""
        if name not in self._virtual:
            return None
        return name[len(str(self.manifest)) + 1 : -1]

    def find(self, path: str, bases: Sequence[str]) -> str | None:
        """Resolve ``path``: a sibling ConfigMap key first, then each base directory in turn."""
        sibling = self._keys.get(posixpath.basename(path))
        if sibling is not None:
            return sibling
        if os.path.isabs(path):
            return path if os.path.isfile(path) else None
        for base in bases:
            candidate = os.path.normpath(os.path.join(base, path)) if base else path
            if os.path.isfile(candidate):
                return candidate
        return None

    def glob(self, pattern: str, bases: Sequence[str]) -> list[str]:
        """Every file a glob names, sorted; matching ConfigMap keys win over the disk."""
        keys = sorted(k for k in self._keys if fnmatch.fnmatchcase(k, posixpath.basename(pattern)))
        if keys and not GLOB_CHARS & set(posixpath.dirname(pattern)):
            return [self._keys[k] for k in keys]
        if os.path.isabs(pattern):
            return sorted(p for p in glob.glob(pattern) if os.path.isfile(p))
        for base in bases:
            found = sorted(p for p in glob.glob(os.path.join(base, pattern) if base else pattern) if os.path.isfile(p))
            if found:
                return [os.path.normpath(p) for p in found]
        return []

    def read(self, name: str) -> str:
        """The text of a file, line ends untouched (raises OSError for an unreadable disk file)."""
        if name in self._virtual:
            return self._virtual[name]
        with open(name, encoding="utf-8", errors="replace", newline="") as handle:
            return handle.read()

    def directory(self, name: str) -> str:
        """The directory relative paths in ``name`` start from (a manifest's own for its keys)."""
        if name in self._virtual:
            return os.path.dirname(str(self.manifest))
        return os.path.dirname(name)

    def identity(self, name: str) -> str:
        """What makes two names the same file (for "included twice" and cycles)."""
        return name if name in self._virtual else os.path.realpath(name)

    def real_path(self, name: str) -> str:
        """The disk file behind ``name`` (the manifest for a ConfigMap key), for hot reload."""
        return str(self.manifest) if name in self._virtual else name
