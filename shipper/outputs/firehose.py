"""``firehose``: the aws-for-fluent-bit Go plugin for Amazon Data Firehose, on kinesis_firehose's machinery.

The option table is the Go plugin's (amazon-kinesis-firehose-for-fluent-bit);
batching, limits, transport and partial-failure handling are
:class:`~shipper.outputs.kinesis_firehose.KinesisFirehose`'s.  Each record is
Go JSON (or the ``log_key`` value) after ``time_key``, ``data_keys`` and
``replace_dots``, always followed by a newline, as the Go plugin writes it.
"""

from __future__ import annotations

from shipper.events import Event
from shipper.options import Option, Settings
from shipper.outputs.go_plugins import COMPAT, GO_RECORD_OPTIONS, GoRecordEncoder, go_option_table
from shipper.outputs.kinesis_firehose import KinesisFirehose
from shipper.plugin import Context
from shipper.registry import register


@register
class Firehose(KinesisFirehose):
    name = "firehose"
    summary = "send records to Amazon Data Firehose with the aws-for-fluent-bit Go plugin's options"
    options = go_option_table(
        Option("delivery_stream", required=True, help="name of the Firehose delivery stream"),
        *GO_RECORD_OPTIONS,
        Option(
            "simple_aggregation", "bool", default="false", ignored=True,
            help=f"{COMPAT}: records go one per Firehose record; the destination receives the same bytes",
        ),
    )

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        self.go_encode = GoRecordEncoder(settings)

    def encode(self, events: list[Event]) -> list[bytes | None]:
        encode = self.go_encode
        out: list[bytes | None] = []
        for ts, record in events:
            data = encode(ts, record)
            out.append(None if data is None else data + b"\n")
        return out
