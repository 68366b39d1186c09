"""s3_key_format: strftime, $TAG, $TAG[n], $INDEX, $UUID and the PutObject suffix."""

from __future__ import annotations

import calendar
import re

from shipper.outputs.s3.keys import KeyFormat, has_second_directive

WHEN = calendar.timegm((2024, 3, 5, 7, 8, 9))


def test_default_format_uses_the_tag_and_the_first_record_time_in_utc() -> None:
    key = KeyFormat("/fluent-bit-logs/$TAG/%Y/%m/%d/%H/%M/%S").render("kube.var.log", WHEN)
    assert key == "fluent-bit-logs/kube.var.log/2024/03/05/07/08/09"


def test_tag_parts_split_on_any_delimiter_and_skip_empty_parts() -> None:
    fmt = KeyFormat("/$TAG[0]/$TAG[2]/$TAG[1]", delimiters=".-")
    assert fmt.render("app..web-01", WHEN) == "app/01/web"


def test_a_tag_part_beyond_the_tag_stays_as_written() -> None:
    assert KeyFormat("/$TAG[0]/$TAG[3]").render("a.b", WHEN) == "a/$TAG[3]"


def test_index_and_uuid() -> None:
    key = KeyFormat("/logs/$INDEX-$UUID").render("t", WHEN, index=41)
    assert re.fullmatch(r"logs/41-[A-Za-z0-9]{8}", key)


def test_percent_in_a_tag_is_not_a_strftime_directive() -> None:
    assert KeyFormat("/$TAG/%Y").render("100%Y", WHEN) == "100%Y/2024"


def test_put_object_suffix_and_uniqueness() -> None:
    suffixed = KeyFormat("/logs/$TAG", random_suffix=True)
    assert re.fullmatch(r"logs/t-object[A-Za-z0-9]{8}", suffixed.render("t", WHEN))
    assert suffixed.is_unique()
    assert not KeyFormat("/logs/$TAG/%Y/%m/%d").is_unique()
    assert KeyFormat("/logs/%H%M%S").is_unique()
    assert KeyFormat("/logs/$INDEX").is_unique()
    assert not has_second_directive("/logs/%%S")


def test_keys_are_cut_to_s3s_1024_bytes() -> None:
    assert len(KeyFormat("/$TAG").render("é" * 600, WHEN).encode()) <= 1024
