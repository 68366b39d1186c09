"""Records held for an output as JSON encoded once (shipper.packed), and maps encoded once per pod."""

from __future__ import annotations

import sys

from shipper.jsonfmt import EncodedMap, dumps
from shipper.packed import PIECE_OVERHEAD, UNENCODED_RECORD_BYTES, Packed

EVENTS = [
    (1_700_000_000_123_456_789, {"log": "plain text", "stream": "stdout"}),
    (1_700_000_000_223_456_789, {"log": "é ✓ 😀", "n": 3, "f": 2.5, "big": 1e-7, "whole": 3.0, "none": None,
                                 "nested": {"a": [1, {"b": True}]}}),
    (1_700_000_000_323_456_789, {}),
    (-5, {"line": "a\nb\r\n"}),
]


def test_a_piece_decodes_to_records_that_encode_to_the_same_bytes():
    packed = Packed.encode(EVENTS)
    decoded = packed.events()
    assert [ts for ts, _ in decoded] == [ts for ts, _ in EVENTS]
    assert [dumps(r) for _, r in decoded] == [dumps(r) for _, r in EVENTS]
    assert decoded[0] == EVENTS[0] and decoded[3] == EVENTS[3]
    assert packed.events() == decoded and packed.events() is not decoded  # decoding again gives a fresh list


def test_size_is_the_json_held_not_the_dicts():
    events = [(i, {"log": "x" * 100, "stream": "stdout", "n": i}) for i in range(1000)]
    packed = Packed.encode(events)
    body = b"\n".join(dumps(r) for _, r in events)
    assert packed.size == PIECE_OVERHEAD + len(body) + 8 * len(events)
    as_dicts = sum(sys.getsizeof(r) + sum(sys.getsizeof(v) for v in r.values()) for _, r in events)
    assert packed.size < as_dicts / 2


def test_a_shared_map_is_encoded_once_and_copied_into_every_record():
    kube = EncodedMap({"pod_name": "web-1", "labels": {"app": "wéb"}, "annotations": {"x": 1.5}})
    records = [{"log": str(i), "kubernetes": kube} for i in range(3)]
    assert [dumps(r) for r in records] == [dumps({"log": str(i), "kubernetes": dict(kube)}) for i in range(3)]
    assert kube.fragment() is kube.fragment()  # computed once
    assert Packed.encode([(1, r) for r in records]).events()[2][1] == {"log": "2", "kubernetes": dict(kube)}


def test_a_piece_that_cannot_be_encoded_is_held_as_it_is_and_counted_generously():
    deep: dict[str, object] = {}
    node = deep
    for _ in range(2000):  # deeper than any JSON encoder's recursion limit
        node["d"] = node = {}
    for odd in (deep, {"huge": 2**70}):  # orjson would read the huge integer back as a float
        events = [(1, {"ok": 1}), (2, odd)]
        packed = Packed.encode(events)
        assert not packed.encoded
        assert packed.events() == events
        assert packed.size >= UNENCODED_RECORD_BYTES * 2


def test_a_discarding_output_keeps_only_a_count():
    packed = Packed.discarded(5)
    assert packed.count == 5 and len(packed.events()) == 5
    assert packed.size < 100 + PIECE_OVERHEAD
