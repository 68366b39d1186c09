"""The file output writes the records' packed JSON as it is, byte for byte what it writes from dicts."""

from __future__ import annotations

import pytest

from shipper.jsonfmt import EncodedMap
from shipper.outputs.result import FlushResult
from shipper.packed import EventBatch, Packed
from tests.factory import make_plugin

KUBE = EncodedMap({"pod_name": "web-1", "labels": {"app": "wéb"}})
EVENTS = [
    (1_700_000_000_123_456_789, {"log": "plain", "kubernetes": KUBE}),
    (1_700_000_001_000_000_000, {"log": "é", "n": 1.5, "nested": {"day": 1}}),
    (1_700_000_002_000_000_001, {}),
]


@pytest.mark.parametrize("settings", [
    {"format": "plain"},
    {"format": "out_file"},
    {"format": "json_lines"},
    {"format": "json_lines", "json_date_format": "iso8601"},
    {"format": "json_lines", "json_date_key": "false"},
    {"format": "json_lines", "json_date_key": "log"},  # a record's own key wins: decoded, not copied
    {"format": "csv"},
    {"format": "template", "template": "{time} {log}"},
])
def test_packed_lines_are_the_lines_written_from_dicts(settings):
    out = make_plugin("output", "file", {"match": "*", **settings})
    batch = EventBatch([Packed.encode(EVENTS[:2]), Packed.encode(EVENTS[2:])])
    assert out.render("kube.var.log", batch) == out.render("kube.var.log", list(EVENTS))
    if settings.get("json_date_key") != "log" and settings["format"] in ("plain", "json_lines", "out_file"):
        assert batch._events is None  # written without decoding a record


@pytest.mark.parametrize("fmt", ["plain", "out_file", "json_lines"])
async def test_a_batch_written_in_pieces_is_the_lines_rendered_from_dicts(tmp_path, fmt):
    out = make_plugin("output", "file", {"match": "*", "path": str(tmp_path), "file": "out.log", "format": fmt})
    packed = EventBatch([Packed.encode(EVENTS[:1]), Packed.encode(EVENTS[1:2]), Packed.encode(EVENTS[2:])])
    result = await out.flush_batch("kube.var.log", packed)
    # a piece read back from a chunk file is not encoded: the whole batch is rendered from dicts
    mixed = EventBatch([Packed.encode(EVENTS[:1]), Packed.held(list(EVENTS[1:]))])
    again = await out.flush_batch("kube.var.log", mixed)
    assert result == again == FlushResult.ok()
    expected = out.render("kube.var.log", list(EVENTS))
    assert (tmp_path / "out.log").read_bytes() == expected * 2
