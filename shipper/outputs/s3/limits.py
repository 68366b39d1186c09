"""Amazon S3's limits on uploads, and Fluent Bit's limits on its s3 options.

S3 figures are from the Amazon S3 API Reference and User Guide, "Amazon S3
multipart upload limits"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html)
and the PutObject / UploadPart API reference pages:
a part is 5 MiB to 5 GiB, except the last part of an upload, which may be
smaller; an upload has at most 10,000 parts; a single PutObject is at most
5 GiB; an object key is at most 1,024 bytes of UTF-8.

The option bounds are Fluent Bit's own (``plugins/out_s3/s3.h``), kept so that a
configuration ``shipper check`` accepts is one Fluent Bit starts with.
"""

from __future__ import annotations

MiB = 1024 * 1024
GiB = 1024 * MiB

#: smallest part of a multipart upload, except the last one.
MIN_PART_BYTES = 5 * MiB
#: largest part of a multipart upload.
MAX_PART_BYTES = 5 * GiB
#: most parts in one multipart upload.
MAX_PARTS = 10_000
#: longest object key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024

#: ``total_file_size`` bounds and default (Fluent Bit: 1 MB to 50 GB, 100 MB).
MIN_FILE_SIZE = 1_000_000
MAX_FILE_SIZE = 50_000_000_000
DEFAULT_FILE_SIZE = 100_000_000
#: ``total_file_size`` limit with ``use_put_object`` (Fluent Bit: 50 MB).
MAX_PUT_OBJECT_FILE_SIZE = 50_000_000
#: ``upload_chunk_size`` default and limits: 5 MiB minimum (S3's), 50 MB maximum uncompressed
#: (Fluent Bit's), S3's 5 GiB when compressed.
DEFAULT_CHUNK_SIZE = MIN_PART_BYTES
MAX_CHUNK_SIZE = 50_000_000
MAX_COMPRESSED_CHUNK_SIZE = MAX_PART_BYTES
#: Fluent Bit retries an s3 upload 5 times when ``Retry_Limit`` is not set.
DEFAULT_RETRY_LIMIT = 5
#: ``$TAG[n]``: Fluent Bit splits a tag into at most 10 parts.
MAX_TAG_PARTS = 10

#: S3's canned ACLs (``x-amz-acl``) and storage classes (``x-amz-storage-class``).
CANNED_ACLS = (
    "private", "public-read", "public-read-write", "authenticated-read",
    "aws-exec-read", "bucket-owner-read", "bucket-owner-full-control",
)
STORAGE_CLASSES = (
    "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
    "GLACIER", "DEEP_ARCHIVE", "OUTPOSTS", "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE",
)
