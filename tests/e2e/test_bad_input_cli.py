"""Mistakes a user makes in a config: ``check`` and ``run`` name the file and line, never a traceback."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import shipper

UNSET_VARIABLES = """\
[INPUT]
    Name  tail
    Path  ${SHIPPER_TEST_UNSET_PATH}

[OUTPUT]
    Name              cloudwatch_logs
    Match             *
    region            ${SHIPPER_TEST_UNSET_REGION}
    log_group_name    /aws/app
    log_stream_prefix node-
"""


@pytest.mark.parametrize("command", ["check", "run"])
def test_a_required_option_left_empty_by_an_unset_variable_is_an_error(write, command):
    conf = write("fluent-bit.conf", UNSET_VARIABLES)
    result = shipper(command, "-c", str(conf), timeout=30)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"error: {conf}:3: [INPUT] tail: option 'Path' is required and its value is empty" in result.stderr
    assert f"error: {conf}:8: [OUTPUT] cloudwatch_logs: option 'region' is required and its value is empty" in result.stderr
    # the warning that says why is printed with the errors
    assert f"warning: {conf}:8: variable ${{SHIPPER_TEST_UNSET_REGION}} is not set" in result.stderr


@pytest.mark.parametrize(
    ("plugin", "line", "expected"),
    [
        ("cloudwatch_logs", "region us east 1", "region 'us east 1' is not a region name"),
        ("cloudwatch", "region eu_west_1", "region 'eu_west_1' is not a region name"),
        ("cloudwatch_logs", "endpoint logs at localhost", "endpoint 'logs at localhost' is neither a URL nor a host name"),
        ("cloudwatch_logs", "endpoint https://", "endpoint 'https://' is not a URL with a host"),
    ],
)
@pytest.mark.parametrize("command", ["check", "run"])
def test_a_region_or_endpoint_botocore_would_refuse_is_a_config_error(write, command, plugin, line, expected):
    settings = [line] if line.startswith("region") else ["region us-east-1", line]
    conf = write(
        "fluent-bit.conf",
        "[INPUT]\n    Name dummy\n    Samples 1\n\n[OUTPUT]\n"
        f"    Name {plugin}\n    Match *\n    log_group_name g\n    log_stream_prefix p-\n"
        + "".join(f"    {setting}\n" for setting in settings),
    )
    result = shipper(command, "-c", str(conf), timeout=30)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"error: {conf}:{9 + len(settings)}: {expected}" in result.stderr


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("AWS_Region us_west_2", "aws_region 'us_west_2' is not a region name"),
        ("AWS_External_ID x", "aws_external_id must be 2 to 1224 characters"),
    ],
)
def test_opensearch_aws_settings_are_checked_like_the_aws_outputs(write, line, expected):
    region = "" if line.startswith("AWS_Region") else "    AWS_Region us-west-2\n"
    conf = write(
        "fluent-bit.conf",
        "[INPUT]\n    Name dummy\n    Samples 1\n\n[OUTPUT]\n"
        f"    Name es\n    Match *\n    Host search.example\n    AWS_Auth On\n{region}    {line}\n",
    )
    result = shipper("check", "-c", str(conf), timeout=30)
    assert result.returncode == 2, result.stderr
    assert f"error: {conf}:{11 if region else 10}: {expected}" in result.stderr


def test_a_tail_path_that_matches_nothing_is_reported_with_its_line(write, tmp_path):
    conf = write(
        "fluent-bit.conf",
        f"[INPUT]\n    Name tail\n    Path {tmp_path}/contaners/*.log\n    Exit_On_Eof On\n\n"
        "[OUTPUT]\n    Name stdout\n    Match *\n",
    )
    ran = shipper("run", "-c", str(conf), timeout=30)
    assert ran.returncode == 0, ran.stderr
    assert f"{conf}:3: Path matches no file yet (searched {tmp_path}/contaners/*.log); files that appear" in ran.stderr
    (tmp_path / "logs").mkdir()
    dry = shipper("dry-run", "-c", str(conf), "--log-dir", str(tmp_path / "logs"), timeout=30)
    assert dry.returncode == 0, dry.stderr
    assert f"{conf}:3: Path matches no file yet (searched {tmp_path}/logs/*.log)\n" in dry.stderr
