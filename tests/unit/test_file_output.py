"""The ``file`` output names a file after the tag, and a tag is data: it never leaves ``Path``.

A ``rewrite_tag`` rule can build a tag from a log line (``$log``), so a line
holding ``/../`` could otherwise choose where shipper writes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shipper.outputs.file import FileOutput
from tests.factory import make_plugin


def file_output(props: dict[str, str]) -> FileOutput:
    plugin = make_plugin("output", "file", props)
    assert isinstance(plugin, FileOutput)
    return plugin


#: tags that try to leave Path; ``{root}`` is the test's own directory, so a failure writes nowhere else.
ESCAPES = ["../../escaped", "x/../../../escaped", "..", ".", "{root}/escaped", "x\0y", "..\\..\\win"]


@pytest.mark.parametrize("tag", ESCAPES)
async def test_a_tag_cannot_write_outside_path(tmp_path: Path, tag: str) -> None:
    out = tmp_path / "a" / "b" / "out"
    out.mkdir(parents=True)
    plugin = file_output({"path": str(out), "format": "plain"})
    await plugin.flush(tag.format(root=tmp_path), [(0, {"log": "hello"})])
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) == 1
    assert written[0].parent == out
    assert written[0].read_text() == '{"log":"hello"}\n'


async def test_an_ordinary_tag_is_the_file_name(tmp_path: Path) -> None:
    plugin = file_output({"path": str(tmp_path), "format": "plain"})
    await plugin.flush("kube.var.log.containers.web-1_default_nginx-abc.log", [(0, {"a": 1})])
    assert (tmp_path / "kube.var.log.containers.web-1_default_nginx-abc.log").read_text() == '{"a":1}\n'


async def test_the_file_option_is_configuration_and_is_used_as_given(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    plugin = file_output({"path": str(tmp_path), "file": "sub/records.log", "format": "plain"})
    await plugin.flush("../elsewhere", [(0, {"a": 1})])
    assert (tmp_path / "sub" / "records.log").exists()
