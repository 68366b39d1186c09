"""``shipper test`` through the real CLI: passing cases, broken cases that name their cause, JUnit XML.

The config (shipper_test/shop.conf) is tail -> kubernetes -> grep -> modify ->
rewrite_tag -> CloudWatch Logs and Firehose; its cases are in pass.yaml and
broken.yaml next to it.  Every case fixes its clock with ``now:``, so these
tests pass on any date.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from tests.e2e.conftest import shipper

HERE = Path(__file__).parent / "shipper_test"
CONFIG = str(HERE / "shop.conf")


def blocks(stdout: str) -> dict[str, str]:
    """The report split per case: {case name: its status line and explanation}."""
    found: dict[str, str] = {}
    name = ""
    for line in stdout.splitlines():
        if line.startswith(("PASS ", "FAIL ", "ERROR ")):
            name = line.split(" ", 1)[1].rsplit("  (", 1)[0]
            found[name] = line + "\n"
        elif name and line.startswith("    "):
            found[name] += line + "\n"
    return found


def test_passing_cases_exit_0() -> None:
    result = shipper("test", "-c", CONFIG, str(HERE / "pass.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.endswith("5 passed, 0 failed\n")
    assert all(b.startswith("PASS") for b in blocks(result.stdout).values())


def test_broken_cases_exit_1_and_say_why(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    result = shipper("test", "-c", CONFIG, str(HERE / "broken.yaml"), "--junit", str(junit))
    assert result.returncode == 1, result.stderr
    report = blocks(result.stdout)
    assert result.stdout.endswith("0 passed, 8 failed\n")

    dropped = report["debug lines are shipped"]
    assert "cloudwatch_logs.0: expected 1 record(s), would send 0" in dropped
    assert "dropped by grep.1: 1 record(s)" in dropped
    assert "filter grep.1: 1 -> 0, dropped 1" in dropped

    changed = report["errors carry env staging"]
    assert '-  "env": "staging",' in changed and '+  "env": "prod",' in changed
    assert "env changed by: modify.2" in changed

    moved = report["errors stay in CloudWatch"]
    assert "re-tagged by rewrite_tag.3: 1 record(s) now tagged alerts.kube.var.log.containers.web-1_shop_" in moved
    assert "its Match 'kube.*' does not accept tag(s) alerts.kube." in moved

    assert "no output named 'cloudwatch'; the config has cloudwatch_logs.0, alerts" in report["a misspelt output"]
    assert report["a path no input reads"].startswith("ERROR")
    assert "no tail input reads /var/log/app/x.log (Path patterns: /var/log/containers/*.log)" in report["a path no input reads"]

    excluded = report["the shipper's own log is shipped"]
    assert "no input handed in any record" in excluded
    assert "tail.0 skips /var/log/containers/shipper-abcde_logging_shipper-" in excluded
    assert ": Exclude_Path /var/log/containers/shipper*" in excluded

    extra = report["warnings are not shipped"]
    assert "cloudwatch_logs.0: expected 0 record(s), would send 1" in extra
    assert 'would send: {"time":"2026-12-07T10:00:00.000000000Z"' in extra and '"msg":"slow"' in extra

    refused = report["a line from January is shipped in December"]
    assert "refused by the destination: 1 record(s)" in refused
    assert "14 days" in refused


def test_junit_xml_parses_and_counts_every_case(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    shipper("test", "-c", CONFIG, str(HERE / "pass.yaml"), str(HERE / "broken.yaml"), "--junit", str(junit))
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("13", "7", "1")
    suites = {Path(s.get("name", "")).name: s for s in root.findall("testsuite")}
    assert set(suites) == {"pass.yaml", "broken.yaml"}
    passing, broken = suites["pass.yaml"], suites["broken.yaml"]
    assert (passing.get("tests"), passing.get("failures"), passing.get("errors")) == ("5", "0", "0")
    assert all(not list(case) for case in passing.findall("testcase"))
    cases = {c.get("name"): c for c in broken.findall("testcase")}
    assert len(cases) == 8 and all(c.get("classname") == "broken" for c in cases.values())
    failure = cases["debug lines are shipped"].find("failure")
    assert failure is not None
    assert failure.get("message") == "cloudwatch_logs.0: expected 1 record(s), would send 0"
    assert "dropped by grep.1" in (failure.text or "")
    error = cases["a path no input reads"].find("error")
    assert error is not None and "no tail input reads" in (error.get("message") or "")
    assert all(float(c.get("time", "-1")) >= 0 and int(c.get("line", "0")) > 0 for c in cases.values())


def test_a_malformed_test_file_is_reported_with_its_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "tests:\n"
        "  - name: fine\n"
        "    input: {tag: a, records: [{x: 1}]}\n"
        "    expect: [{output: alerts, count: 0}]\n"
        "  - name: misspelt matcher\n"
        "    input: {tag: a, records: [{x: 1}]}\n"
        "    expect: [{output: alerts, payload: {contain: {x: 1}}}]\n"
    )
    result = shipper("test", "-c", CONFIG, str(bad))
    assert result.returncode == 2
    assert f"{bad}: line 5: test 'misspelt matcher': expect[0].payload: unknown key(s) contain" in result.stderr
    assert result.stdout == ""


def test_a_broken_config_is_reported_once_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "broken.conf"
    config.write_text((HERE / "shop.conf").read_text().replace("Name     grep", "Name     grpe"))
    result = shipper("test", "-c", str(config), str(HERE / "pass.yaml"))
    assert result.returncode == 2
    assert "unknown plugin 'grpe'" in result.stderr and result.stderr.count("grpe") == 1
