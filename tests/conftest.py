"""Fixtures shared by several test directories, registered once for the whole suite.

A test asks for ``moto_server``, ``moto_proxy`` or ``delivery_stream`` by parameter name, without importing
them: an imported fixture shadowed by a parameter of the same name reads as a redefinition to the linter, and
would hide a real one. ``aws_env`` (fake credentials, no shared files, no IMDS) is opt-in with
``pytestmark = pytest.mark.usefixtures("aws_env")``.
"""

pytest_plugins = ["tests.servers.moto", "tests.integration.aws_helpers"]
