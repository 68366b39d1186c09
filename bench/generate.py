"""A deterministic generator of realistic container logs.

``N`` pods, each one file named as kubelet names them under
``/var/log/containers`` (``<pod>_<namespace>_<container>-<64 hex>.log``), in
CRI or docker json-file format.  Messages are mostly JSON application logs
of about 170 bytes (``json_share``), the rest plain text: access-log lines,
Java stack traces (one CRI line per trace line) and long lines the runtime
split into partial pieces (CRI ``P``/``F``, docker ``log`` without ``\\n``).
The same seed always gives the same bytes, so runs compare.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

BASE_SECOND = 1_709_633_730  # 2024-03-05T10:15:30Z
_LEVELS = ("info", "info", "info", "debug", "warn", "error")
_WORDS = ("order", "payment", "cache", "session", "user", "catalog", "inventory", "shipment", "token", "queue")
_TRACE = (
    "java.lang.IllegalStateException: connection pool exhausted",
    "\tat com.example.db.Pool.acquire(Pool.java:42)",
    "\tat com.example.db.Repo.find(Repo.java:17)",
    "\tat com.example.App.handle(App.java:88)",
    "Caused by: java.net.SocketTimeoutException: connect timed out",
    "\tat java.base/java.net.Socket.connect(Socket.java:633)",
    "\t... 3 more",
)


@dataclass(frozen=True)
class Spec:
    """What to generate."""

    size_mb: float = 100.0
    pods: int = 100
    fmt: str = "cri"  # cri, docker or mixed
    json_share: float = 0.75
    seed: int = 42
    #: the first record's second; a sink that rejects old events (CloudWatch: 14 days) needs a recent one.
    base_second: int = BASE_SECOND

    def key(self) -> str:
        return hashlib.sha1(repr(self).encode()).hexdigest()[:12]


@dataclass
class Summary:
    """What was generated: bytes, physical lines, and records after partials are joined."""

    files: int = 0
    bytes: int = 0
    lines: int = 0
    records: int = 0


_PREFIXES: dict[int, str] = {}


def _stamp(base_second: int, millis: int) -> str:
    """An RFC 3339 nanosecond stamp ``millis`` after ``base_second`` (the sub-ms digits vary)."""
    second, ms = divmod(millis, 1000)
    second += base_second
    prefix = _PREFIXES.get(second)
    if prefix is None:
        prefix = _PREFIXES[second] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{prefix}.{ms:03d}{(millis * 7919) % 1_000_000:06d}Z"


def _messages(rng: random.Random, json_share: float) -> list[list[str]]:
    """One message as its physical pieces: one piece per line, or split partials."""
    roll = rng.random()
    if roll < json_share:
        word = rng.choice(_WORDS)
        body = (f'{{"level":"{rng.choice(_LEVELS)}","logger":"com.example.{word}.Service",'
                f'"msg":"processed {word} request for customer {rng.randrange(10**6)}",'
                f'"request_id":"{rng.getrandbits(64):016x}","latency_ms":{rng.randrange(1, 900)}}}')
        return [[body]]
    if roll < json_share + 0.02:
        return [[line] for line in _TRACE]
    if roll < json_share + 0.04:
        text = "payload " + "x" * rng.randrange(300, 3000)
        size = 256
        return [[text[i:i + size] for i in range(0, len(text), size)]]
    path = f"/api/v1/{rng.choice(_WORDS)}/{rng.randrange(10**5)}"
    return [[(f'10.0.{rng.randrange(256)}.{rng.randrange(256)} - - "GET {path} HTTP/1.1" 200 {rng.randrange(10**4)} '
              f'"-" "kube-probe/1.29" {rng.randrange(1000)}ms')]]


def _cri(stamp: str, stream: str, pieces: list[str]) -> str:
    last = len(pieces) - 1
    return "".join(f"{stamp} {stream} {'F' if i == last else 'P'} {p}\n" for i, p in enumerate(pieces))


def _docker(stamp: str, stream: str, pieces: list[str]) -> str:
    last = len(pieces) - 1
    return "".join(
        orjson.dumps({"log": p + ("\n" if i == last else ""), "stream": stream, "time": stamp}).decode() + "\n"
        for i, p in enumerate(pieces)
    )


def file_name(index: int, rng: random.Random) -> str:
    pod = f"app{index:03d}-{rng.getrandbits(40):010x}-{rng.getrandbits(20):05x}"
    return f"{pod}_bench_main-{rng.getrandbits(256):064x}.log"


def parse_file_name(name: str) -> tuple[str, str, str]:
    """(pod, namespace, container) of a name :func:`file_name` made, as kubelet's names split."""
    pod, namespace, rest = name.removesuffix(".log").split("_", 2)
    return pod, namespace, rest.rsplit("-", 1)[0]


def generate(spec: Spec, out_dir: Path) -> Summary:
    """Write the files of ``spec`` into ``out_dir`` (created); returns what was written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(spec.seed)
    per_file = int(spec.size_mb * 1_000_000 / spec.pods)
    summary = Summary()
    for index in range(spec.pods):
        name = file_name(index, rng)
        docker = spec.fmt == "docker" or (spec.fmt == "mixed" and index % 2 == 1)
        render = _docker if docker else _cri
        parts: list[str] = []
        size = 0
        millis = index * 13
        while size < per_file:
            stream = "stderr" if rng.random() < 0.1 else "stdout"
            for pieces in _messages(rng, spec.json_share):
                text = render(_stamp(spec.base_second, millis), stream, pieces)
                parts.append(text)
                size += len(text)
                summary.lines += len(pieces)
                summary.records += 1
                millis += 1
        data = "".join(parts).encode()
        (out_dir / name).write_bytes(data)
        summary.files += 1
        summary.bytes += len(data)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--size-mb", type=float, default=Spec.size_mb)
    parser.add_argument("--pods", type=int, default=Spec.pods)
    parser.add_argument("--format", dest="fmt", choices=("cri", "docker", "mixed"), default=Spec.fmt)
    parser.add_argument("--json-share", type=float, default=Spec.json_share)
    parser.add_argument("--seed", type=int, default=Spec.seed)
    args = parser.parse_args()
    spec = Spec(args.size_mb, args.pods, args.fmt, args.json_share, args.seed)
    print(generate(spec, args.out_dir))


if __name__ == "__main__":
    main()
