"""``kinesis_firehose``: Amazon Data Firehose (PutRecordBatch), Fluent Bit's C plugin.

Roles, one module each: :mod:`.options` (the option table), :mod:`.request`
(record encoding and request building, with the API limits as named
constants), :mod:`.transport` (how a request reaches the service, and an
in-memory fake), :mod:`.result` (classifying the answer) and :mod:`.output`
(the plugin).
"""

from shipper.outputs.kinesis_firehose.output import KinesisFirehose

__all__ = ["KinesisFirehose"]
