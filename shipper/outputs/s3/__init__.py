"""The ``s3`` output, in the roles every network output has.

- :mod:`~shipper.outputs.s3.options`: Fluent Bit's options, checked all at once;
- :mod:`~shipper.outputs.s3.limits`: S3's limits as named constants;
- :mod:`~shipper.outputs.s3.keys` and :mod:`~shipper.outputs.s3.request`: object keys,
  record lines, compression and headers (request building);
- :mod:`~shipper.outputs.s3.store`: the objects being built, in ``store_dir``;
- :mod:`~shipper.outputs.s3.transport`: the S3 calls behind a small Protocol, and an in-memory fake;
- :mod:`~shipper.outputs.s3.result`: what a failed call means;
- :mod:`~shipper.outputs.s3.uploader`: the background task that uploads;
- :mod:`~shipper.outputs.s3.output`: the plugin.
"""

from shipper.outputs.s3.output import S3

__all__ = ["S3"]
