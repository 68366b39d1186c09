"""The request-packing rule shared by PutRecordBatch and PutRecords."""

from __future__ import annotations

from hypothesis import given, strategies as st

from shipper.outputs.packing import pack


def test_cuts_at_the_count_and_at_the_bytes() -> None:
    assert list(pack([1] * 7, 3, 100)) == [slice(0, 3), slice(3, 6), slice(6, 7)]
    assert list(pack([40, 40, 40, 10], 10, 100)) == [slice(0, 2), slice(2, 4)]
    assert list(pack([], 3, 100)) == []


@given(st.lists(st.integers(1, 50), max_size=200), st.integers(1, 20), st.integers(50, 300))
def test_every_record_once_in_order_within_the_limits(sizes: list[int], max_items: int, max_bytes: int) -> None:
    parts = list(pack(sizes, max_items, max_bytes))
    assert [i for part in parts for i in range(len(sizes))[part]] == list(range(len(sizes)))
    for part in parts:
        assert 0 < len(sizes[part]) <= max_items and sum(sizes[part]) <= max_bytes
    # greedy: the next record would not have fitted in the request before it
    for before, after in zip(parts, parts[1:], strict=False):
        assert len(sizes[before]) == max_items or sum(sizes[before]) + sizes[after.start] > max_bytes
