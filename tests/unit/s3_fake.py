"""An in-memory S3 with the behaviour the s3 output relies on, and failures on demand.

It keeps objects and open multipart uploads, checks S3's part rules on
CompleteMultipartUpload (every part but the last at least 5 MiB, parts 1..N
all present), answers ``NoSuchUpload`` for an unknown upload id as S3 does, and
raises a scripted error for the next calls of a named operation.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from shipper.outputs.s3.limits import MIN_PART_BYTES
from shipper.outputs.s3.request import ObjectHeaders


def client_error(code: str, status: int, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


@dataclass
class StoredObject:
    body: bytes
    headers: ObjectHeaders
    multipart: bool


@dataclass
class FakeS3:
    objects: dict[str, StoredObject] = field(default_factory=dict)
    #: upload id -> (key, headers, {part number: body})
    uploads: dict[str, tuple[str, ObjectHeaders, dict[int, bytes]]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    _failures: dict[str, list[Exception]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=itertools.count)  # type: ignore[type-arg]

    def fail(self, operation: str, error: Exception, times: int = 1) -> None:
        self._failures.setdefault(operation, []).extend([error] * times)

    def _call(self, operation: str) -> None:
        self.calls.append(operation)
        pending = self._failures.get(operation)
        if pending:
            raise pending.pop(0)

    async def put_object(self, key: str, body: bytes, headers: ObjectHeaders) -> None:
        self._call("PutObject")
        self.objects[key] = StoredObject(body, headers, multipart=False)

    async def create_multipart_upload(self, key: str, headers: ObjectHeaders) -> str:
        self._call("CreateMultipartUpload")
        upload_id = f"upload-{next(self._ids)}"
        self.uploads[upload_id] = (key, headers, {})
        return upload_id

    async def upload_part(self, key: str, upload_id: str, number: int, body: bytes, md5: bool) -> str:
        self._call("UploadPart")
        if upload_id not in self.uploads:
            raise client_error("NoSuchUpload", 404, "UploadPart")
        self.uploads[upload_id][2][number] = body
        return '"' + hashlib.md5(body).hexdigest() + '"'

    async def complete_multipart_upload(self, key: str, upload_id: str, etags: list[str]) -> None:
        self._call("CompleteMultipartUpload")
        if upload_id not in self.uploads:
            raise client_error("NoSuchUpload", 404, "CompleteMultipartUpload")
        _, headers, parts = self.uploads[upload_id]
        numbers = list(range(1, len(etags) + 1))
        if any(n not in parts for n in numbers):
            raise client_error("InvalidPart", 400, "CompleteMultipartUpload")
        if any(len(parts[n]) < MIN_PART_BYTES for n in numbers[:-1]):
            raise client_error("EntityTooSmall", 400, "CompleteMultipartUpload")
        del self.uploads[upload_id]
        self.objects[key] = StoredObject(b"".join(parts[n] for n in numbers), headers, multipart=True)

    async def abort_multipart_upload(self, key: str, upload_id: str) -> None:
        self._call("AbortMultipartUpload")
        if self.uploads.pop(upload_id, None) is None:
            raise client_error("NoSuchUpload", 404, "AbortMultipartUpload")

    async def list_multipart_uploads(self, prefix: str) -> list[tuple[str, str]]:
        self._call("ListMultipartUploads")
        return [(key, uid) for uid, (key, _, _) in self.uploads.items() if key.startswith(prefix)]

    async def object_exists(self, key: str) -> bool:
        self._call("HeadObject")
        return key in self.objects
