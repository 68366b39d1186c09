"""``kinesis_streams``: Amazon Kinesis Data Streams (PutRecords), Fluent Bit's C plugin.

Roles, one module each: :mod:`.options` (the option table), :mod:`.records`
(request building, with the API limits as named constants), :mod:`.transport`
(how a body reaches the service, and an in-memory fake), :mod:`.result`
(classifying the answer), :mod:`.output` (the plugin), and
:mod:`.aggregation` (the KPL aggregated record format the Go plugin
``kinesis`` can send).
"""

from shipper.outputs.kinesis_streams.output import KinesisStreams

__all__ = ["KinesisStreams"]
