"""What a failed S3 call means for the object being uploaded.

- ``NoSuchUpload``: the multipart upload no longer exists.  During a part
  upload it was aborted outside shipper (a lifecycle rule while shipper was
  down for days); the parts already sent are lost and the rest starts a new
  upload.  When completing, it usually means an earlier run completed it just
  before a crash: the object is checked with HeadObject.
- anything else is a failed attempt: retried with backoff, and the object is
  given up after ``Retry_Limit`` attempts (its upload aborted, its records
  counted as dropped).  :func:`shipper.aws.errors.is_retryable` only decides
  whether the log calls it transient.
"""

from __future__ import annotations

from shipper.aws.errors import describe, error_code, is_retryable

UPLOAD_GONE_CODES = frozenset({"NoSuchUpload"})


def upload_gone(exc: BaseException) -> bool:
    return error_code(exc) in UPLOAD_GONE_CODES


def reason(exc: BaseException, what: str) -> str:
    """One log line: the call, the error, and whether waiting may help."""
    kind = "transient" if is_retryable(exc) else "will not succeed until the cause is fixed"
    return f"{what}: {describe(exc)} ({kind})"
