"""What the image's build stage does, without Docker: build shipper's wheel, install it into a
fresh virtualenv, and run the installed ``shipper`` on every config deploy/ ships.

Offline: the wheel is built without build isolation (the running environment's setuptools and
wheel) and the virtualenv sees the running environment's site-packages for dependencies, so
only shipper itself comes from the wheel; the test checks that it does.  The running environment
is often itself a virtualenv, whose packages ``--system-site-packages`` would not reach (that
flag means the base interpreter's), so a ``.pth`` file in the new venv names them instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from shipper import __version__
from tests.deploy.shipped import ROOT, SAMPLE_ENV, shipped_configs

pytestmark = pytest.mark.slow


def run(*args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=180, env=env, cwd=cwd)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with shipper installed from a freshly built wheel."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    source.mkdir()
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
    shutil.copy2(ROOT / "pyproject.toml", source)
    shutil.copytree(ROOT / "shipper", source / "shipper", ignore=shutil.ignore_patterns("__pycache__"))
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", work / "dist", source)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheels = list((work / "dist").glob("shipper-*.whl"))
    assert len(wheels) == 1
    env_dir = work / "venv"
    # No pip inside the venv (ensurepip is most of a venv's creation time): the running pip installs into it.
    created = run(sys.executable, "-m", "venv", "--without-pip", env_dir)
    assert created.returncode == 0, created.stderr
    inner = run(env_dir / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    assert inner.returncode == 0, inner.stderr
    # Plain path lines: the running environment's .pth files (an editable shipper) are not processed.
    outer = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (Path(inner.stdout.strip()) / "running-environment.pth").write_text("\n".join(outer) + "\n")
    installed = run(
        sys.executable, "-m", "pip", "--python", env_dir / "bin" / "python", "install", "--no-deps", "--no-index", wheels[0]
    )
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    return env_dir


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SAMPLE_ENV and k != "PYTHONPATH"}
    return {**env, **extra}


def test_installed_package_comes_from_the_wheel(venv: Path, tmp_path: Path) -> None:
    where = run(venv / "bin" / "python", "-c", "import shipper; print(shipper.__file__)", env=clean_env({}), cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(venv)


def test_version(venv: Path, tmp_path: Path) -> None:
    result = run(venv / "bin" / "shipper", "--version", env=clean_env({}), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"shipper {__version__}"


@pytest.mark.parametrize("config", shipped_configs(), ids=lambda c: c.id)
def test_installed_shipper_checks_shipped_configs(venv: Path, tmp_path: Path, config) -> None:
    result = run(venv / "bin" / "shipper", "check", "-c", config.path, env=clean_env(config.env), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "configuration OK" in result.stdout
