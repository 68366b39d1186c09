"""The file output writes the records' packed JSON as it is, byte for byte what it writes from dicts."""

from __future__ import annotations

import pytest

from shipper.jsonfmt import EncodedMap
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
