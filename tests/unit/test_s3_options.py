"""``shipper check`` on s3 options: every mistake at once, each at its line."""

from __future__ import annotations

import pytest

from shipper.errors import ConfigErrors
from shipper.outputs.s3 import S3
from tests.factory import make_plugin


def problems(**options: str) -> list[tuple[int, str]]:
    with pytest.raises(ConfigErrors) as info:
        make_plugin("output", "s3", {"bucket": "b", **options})
    return sorted((e.location.line if e.location else 0, e.message) for e in info.value.errors)


def test_defaults_are_fluent_bits() -> None:
    out = make_plugin("output", "s3", {"bucket": "b"})
    assert isinstance(out, S3)
    config = out.config
    assert (config.total_file_size, config.upload_chunk_size, config.upload_timeout) == (100_000_000, 5_242_880, 600.0)
    assert not config.use_put_object and config.compression is None
    assert config.date_key == "date" and config.date_format == "iso8601"
    assert out.retry_limit == 5  # Fluent Bit's s3 default when Retry_Limit is not set
    assert out.aws.region == "us-east-1"


def test_part_size_mistakes() -> None:
    found = problems(total_file_size="20M", upload_chunk_size="30M")
    assert (4, "s3: upload_chunk_size (30,000,000) is larger than total_file_size (20,000,000)") in found
    assert any("less than twice upload_chunk_size" in m for _, m in found)
    small = problems(upload_chunk_size="5M")
    assert small == [(3, "s3: upload_chunk_size must be at least 5,242,880 bytes (S3's smallest part), got 5,000,000")]


def test_put_object_limits_and_key_uniqueness() -> None:
    found = problems(use_put_object="on", total_file_size="60M", static_file_path="on", s3_key_format="/logs/$TAG/%Y/%m")
    messages = " | ".join(m for _, m in found)
    assert "at most 50M with use_put_object" in messages
    assert (6, next(m for _, m in found if "no $UUID, $INDEX or seconds" in m)) in found


def test_put_object_without_static_path_gets_a_random_suffix_so_it_is_accepted() -> None:
    out = make_plugin("output", "s3", {"bucket": "b", "use_put_object": "on", "total_file_size": "5M",
                                       "s3_key_format": "/logs/$TAG"})
    assert out.config.key.random_suffix


def test_every_mistake_is_reported_at_once() -> None:
    found = problems(compression="lz4", format="parquet", canned_acl="public", storage_class="COLD",
                     total_file_size="500k", s3_key_format="logs/$TAG[11]/%S", upload_timeout="0")
    lines = {line for line, _ in found}
    assert lines == {3, 4, 5, 6, 7, 8, 9}
    text = " | ".join(m for _, m in found)
    for expected in ("unknown compression 'lz4'", "format parquet is not supported", "unknown canned_acl 'public'",
                     "unknown storage_class 'COLD'", "between 1M and 50G", "must start with '/'",
                     "$TAG[11]", "upload_timeout must be more than 0"):
        assert expected in text


def test_small_total_file_size_switches_to_put_object_like_fluent_bit() -> None:
    out = make_plugin("output", "s3", {"bucket": "b", "total_file_size": "8M"})
    assert out.config.use_put_object and out.config.upload_chunk_size == 8_000_000
