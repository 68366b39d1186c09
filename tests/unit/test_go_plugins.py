"""What the Go plugin names share: Go's JSON text, data_keys / replace_dots / log_key, and Go strftime fractions."""

from __future__ import annotations

import pytest

from shipper.outputs.go_plugins import GoRecordEncoder, go_float, go_json
from tests.factory import make_plugin

TS = 1709632800123456789  # 2024-03-05T10:00:00.123456789Z


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3.0, "3"), (1.5, "1.5"), (0.1, "0.1"), (-0.0, "-0"), (1e-6, "0.000001"), (1e20, "100000000000000000000"),
        (1e-7, "1e-7"), (-2.5e-8, "-2.5e-8"), (1e21, "1e+21"), (1.7976931348623157e308, "1.7976931348623157e+308"),
    ],
)
def test_floats_print_as_go_prints_them(value: float, text: str) -> None:
    assert go_float(value) == text


def test_go_json_sorts_keys_escapes_html_and_keeps_utf8() -> None:
    record = {"z": 3.0, "a": {"y": "<b>&", "x": "caf\u00e9 \u2028"}, "n": 2**70}
    assert go_json(record) == '{"a":{"x":"caf\u00e9 \\u2028","y":"\\u003cb\\u003e\\u0026"},"n":1180591620717411303424,"z":3}'.encode()


def test_record_encoder_applies_time_key_data_keys_dots_and_log_key_in_order() -> None:
    def encoder(**options: str) -> GoRecordEncoder:
        out = make_plugin("output", "firehose", {"region": "us-east-1", "delivery_stream": "d", **options})
        return out.go_encode  # type: ignore[attr-defined, no-any-return]

    record = {"a.b": {"c.d": 1}, "log": "x", "drop": True}
    assert encoder(time_key="t", time_key_format="%M:%S.%L|%f")(TS, record) == b'{"a.b":{"c.d":1},"drop":true,"log":"x","t":"00:00.123|123456"}'
    assert encoder(data_keys="a.b,t", time_key="t", replace_dots="_")(TS, record) == b'{"a_b":{"c_d":1},"t":"2024-03-05T10:00:00"}'
    assert encoder(log_key="log")(TS, record) == b"x"
    assert encoder(log_key="a.b")(TS, record) == b'{"c.d":1}'
    assert encoder(log_key="missing")(TS, record) is None
