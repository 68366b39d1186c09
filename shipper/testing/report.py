"""How ``shipper test`` shows results: a text report, and JUnit XML for CI systems.

The JUnit shape is the one CI servers read (GitLab, Jenkins, GitHub
reporters): ``<testsuites>`` with one ``<testsuite>`` per test file and one
``<testcase>`` per case; an expectation that fails is a ``<failure>``, a case
that could not run an ``<error>``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from shipper.testing.runner import CaseResult


def failure_text(result: CaseResult) -> str:
    """The explanation of a failed case: each failing expectation, then the records' path."""
    if result.error is not None:
        return result.error
    lines = [line for block in result.failures for line in block]
    lines += ["what happened:", *("  " + line for line in result.trace)]
    return "\n".join(lines)


def write_text(results: Sequence[CaseResult], stream: TextIO) -> None:
    for result in results:
        where = f"{result.file.path}:{result.case.line}"
        if result.passed:
            stream.write(f"PASS {result.case.name}  ({where})\n")
            continue
        stream.write(f"{'ERROR' if result.error else 'FAIL'} {result.case.name}  ({where})\n")
        stream.write("".join(f"    {line}\n" for line in failure_text(result).splitlines()))
    failed = sum(1 for r in results if not r.passed)
    stream.write(f"{len(results) - failed} passed, {failed} failed\n")


def junit_xml(results: Sequence[CaseResult]) -> ET.ElementTree:
    root = ET.Element("testsuites", name="shipper test")
    by_file: dict[Path, list[CaseResult]] = {}
    for result in results:
        by_file.setdefault(result.file.path, []).append(result)
    for path, cases in by_file.items():
        suite = ET.SubElement(
            root, "testsuite",
            name=str(path),
            tests=str(len(cases)),
            failures=str(sum(1 for r in cases if r.failures and r.error is None)),
            errors=str(sum(1 for r in cases if r.error is not None)),
            skipped="0",
            time=f"{sum(r.seconds for r in cases):.3f}",
        )
        for result in cases:
            case = ET.SubElement(
                suite, "testcase",
                name=result.case.name, classname=path.stem, file=str(path), line=str(result.case.line),
                time=f"{result.seconds:.3f}",
            )
            if result.passed:
                continue
            text = failure_text(result)
            kind = "error" if result.error is not None else "failure"
            element = ET.SubElement(case, kind, message=text.splitlines()[0] if text else kind, type=kind)
            element.text = text
    root.set("tests", str(len(results)))
    root.set("failures", str(sum(1 for r in results if r.failures and r.error is None)))
    root.set("errors", str(sum(1 for r in results if r.error is not None)))
    return ET.ElementTree(root)


def write_junit(results: Sequence[CaseResult], path: Path) -> None:
    tree = junit_xml(results)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
