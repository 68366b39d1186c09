"""``shipper test``: unit tests for a pipeline config, run through the real pipeline with no network.

:mod:`~shipper.testing.spec` reads the YAML test files,
:mod:`~shipper.testing.runner` runs each case in dry-run mode,
:mod:`~shipper.testing.matchers` and :mod:`~shipper.testing.trace` say what
went wrong and where, :mod:`~shipper.testing.report` prints text and JUnit XML.
"""
