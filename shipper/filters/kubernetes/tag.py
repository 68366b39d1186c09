"""Which pod a chunk belongs to, read from its tag.

A node's tail input tags ``/var/log/containers/<pod>_<ns>_<container>-<id>.log``
as ``kube.var.log.containers.<same>``.  Fluent Bit skips ``len(Kube_Tag_Prefix)``
characters of the tag without comparing them (golden case 37) and *searches*
the rest with the pod regex; we do the same so the same tags give the same
pods.  Results are memoised per tag: a chunk's tag repeats for the life of a
log file, so the regex runs once per file, not once per chunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Fluent Bit's default tag regex (kube_regex.h), in Python's group syntax.
DEFAULT_TAG_REGEX = (
    r"(?P<pod_name>[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*)"
    r"_(?P<namespace_name>[^_]+)_(?P<container_name>.+)-(?P<docker_id>[a-z0-9]{64})\.log$"
)

#: memoised tags per parser; a node has a few thousand containers at most.
_MEMO_LIMIT = 8192


@dataclass(frozen=True, slots=True)
class PodRef:
    """What a tag tells about its records' pod and container (any part may be missing)."""

    pod_name: str | None
    namespace_name: str | None
    container_name: str | None
    docker_id: str | None
    container_hash: str | None = None

    @property
    def key(self) -> tuple[str, str] | None:
        """The (namespace, pod) cache key, or None when the tag names no pod."""
        if self.namespace_name and self.pod_name:
            return (self.namespace_name, self.pod_name)
        return None

    def tag_fields(self) -> dict[str, str]:
        """The ``kubernetes`` map Fluent Bit builds from the tag alone, in its key order."""
        fields = {
            "pod_name": self.pod_name,
            "namespace_name": self.namespace_name,
            "container_name": self.container_name,
            "docker_id": self.docker_id,
        }
        return {k: v for k, v in fields.items() if v}


class TagParser:
    """Turns tags into :class:`PodRef`; returns None for tags the regex does not match."""

    def __init__(self, prefix: str, regex: re.Pattern[str] | None = None) -> None:
        self.prefix_len = len(prefix)
        self.regex = regex or re.compile(DEFAULT_TAG_REGEX)
        self._memo: dict[str, PodRef | None] = {}

    def parse(self, tag: str) -> PodRef | None:
        try:
            return self._memo[tag]
        except KeyError:
            pass
        ref = self._parse(tag)
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[tag] = ref
        return ref

    def _parse(self, tag: str) -> PodRef | None:
        # Fluent Bit refuses tags not longer than prefix + 1 and never compares the prefix.
        if self.prefix_len + 1 >= len(tag):
            return None
        # Slice rather than search(tag, pos): a custom regex's ``^`` must anchor after the prefix.
        match = self.regex.search(tag[self.prefix_len :])
        if match is None:
            return None
        groups = match.groupdict()
        return PodRef(
            pod_name=groups.get("pod_name") or None,
            namespace_name=groups.get("namespace_name") or None,
            container_name=groups.get("container_name") or None,
            docker_id=groups.get("docker_id") or None,
            container_hash=groups.get("container_hash") or None,
        )
