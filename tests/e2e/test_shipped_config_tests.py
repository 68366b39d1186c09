"""Every config we ship comes with ``shipper test`` cases, and they pass through the real CLI.

config/ keeps each config's tests beside it (``<name>.test.yaml``); deploy/
keeps them in deploy/tests/, where ``kubectl apply -f deploy/<dir>/`` does not
pick them up.  The deploy configs run with the environment their pods give
them (tests/deploy/shipped.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.deploy.shipped import (
    CONFIG_TESTS,
    DEPLOY,
    SAMPLE_ENV,
    VARIABLE_RE,
    config_variables,
    shipped_configs,
)
from tests.e2e.conftest import shipper

ROOT = DEPLOY.parent
CONFIG = ROOT / "config"

#: each shipped config and its test file.
SHIPPED_TESTS = {
    CONFIG / "fluent-bit.conf": CONFIG / "fluent-bit.test.yaml",
    CONFIG / "fluent-bit.yaml": CONFIG / "fluent-bit.test.yaml",  # the YAML twin passes the same cases
    CONFIG / "sidecar.conf": CONFIG / "sidecar.test.yaml",
    CONFIG / "fargate-aws-logging.yaml": CONFIG / "fargate-aws-logging.test.yaml",
    DEPLOY / "image" / "fluent-bit.conf": CONFIG_TESTS / "image.test.yaml",
    DEPLOY / "daemonset" / "configmap.yaml": CONFIG_TESTS / "daemonset.test.yaml",
    DEPLOY / "sidecar" / "configmap.yaml": CONFIG_TESTS / "sidecar.test.yaml",
    DEPLOY / "fargate" / "cloudwatch" / "aws-logging.yaml": CONFIG_TESTS / "fargate-cloudwatch.test.yaml",
    DEPLOY / "fargate" / "firehose" / "aws-logging.yaml": CONFIG_TESTS / "fargate-firehose.test.yaml",
    DEPLOY / "fargate" / "opensearch" / "aws-logging.yaml": CONFIG_TESTS / "fargate-opensearch.test.yaml",
}


def test_every_shipped_config_has_tests() -> None:
    shipped = {c.path for c in shipped_configs()}
    shipped |= {p for p in CONFIG.iterdir() if p.suffix in (".conf", ".yaml") and ".test." not in p.name}
    shipped.discard(CONFIG / "parsers.conf")  # parsers only: included by the others
    assert shipped == set(SHIPPED_TESTS)
    assert all(p.is_file() for p in SHIPPED_TESTS.values())
    assert set(CONFIG_TESTS.iterdir()) <= set(SHIPPED_TESTS.values())  # no orphaned test file


@pytest.mark.parametrize("config", SHIPPED_TESTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_config_passes_its_tests(config: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SAMPLE_ENV}
    used = config_variables(config) | set(VARIABLE_RE.findall(config.read_text()))  # also a plain YAML config's
    env.update({name: SAMPLE_ENV[name] for name in used if name in SAMPLE_ENV})
    tests = SHIPPED_TESTS[config]
    result = shipper("test", "-c", str(config.relative_to(ROOT)), str(tests.relative_to(ROOT)), cwd=ROOT, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    cases = tests.read_text().count("\n  - name: ")
    assert result.stdout.endswith(f"{cases} passed, 0 failed\n")
