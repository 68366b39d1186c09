"""What every test shares: fixtures registered for the whole suite, and logging put back after each test.

A test asks for ``moto_server``, ``moto_proxy`` or ``delivery_stream`` by parameter name, without importing
them: an imported fixture shadowed by a parameter of the same name reads as a redefinition to the linter, and
would hide a real one. ``aws_env`` (fake credentials, no shared files, no IMDS) is opt-in with
``pytestmark = pytest.mark.usefixtures("aws_env")``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

pytest_plugins = ["tests.servers.moto", "tests.integration.aws_helpers"]


def _shipper_levels() -> dict[str, int]:
    loggers = logging.root.manager.loggerDict.items()
    return {name: lg.level for name, lg in loggers if name.startswith("shipper") and isinstance(lg, logging.Logger)}


@pytest.fixture(autouse=True)
def isolated_logging() -> Iterator[None]:
    """Undo what a test did to logging: the CLI run in-process (``main(["test", ...])``) installs shipper's
    handler and sets the ``shipper`` loggers' levels, which would otherwise silence later tests' records."""
    root = logging.getLogger()
    handlers, root_level, levels = list(root.handlers), root.level, _shipper_levels()
    yield
    for handler in root.handlers:
        if handler not in handlers and not type(handler).__module__.startswith("_pytest"):
            root.removeHandler(handler)
    root.setLevel(root_level)
    for name in _shipper_levels():
        logging.getLogger(name).setLevel(levels.get(name, logging.NOTSET))
