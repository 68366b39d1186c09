"""The S3 calls the output makes: a small Protocol, the AWS client, and an in-memory fake.

:class:`S3Transport` is what the uploader needs from S3.  :class:`AwsS3Transport`
implements it with aiobotocore (SigV4, the default credential chain,
``role_arn``); :class:`FakeS3` keeps objects and open uploads in memory,
checks S3's part rules and fails on demand, so the uploader's crash and
failure paths are unit-tested without a network.  Errors are raised as they
come; :mod:`shipper.outputs.s3.result` tells what they mean.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiobotocore.config import AioConfig
from botocore.exceptions import ClientError

from shipper.aws import AwsClient, AwsSettings
from shipper.outputs.s3.limits import MIN_PART_BYTES
from shipper.outputs.s3.request import ObjectHeaders, content_md5


class S3Transport(Protocol):
    async def put_object(self, key: str, body: bytes, headers: ObjectHeaders) -> None: ...

    async def create_multipart_upload(self, key: str, headers: ObjectHeaders) -> str:
        """Start a multipart upload; returns its upload id."""
        ...

    async def upload_part(self, key: str, upload_id: str, number: int, body: bytes, md5: bool) -> str:
        """Upload (or replace) part ``number``; returns its ETag."""
        ...

    async def complete_multipart_upload(self, key: str, upload_id: str, etags: list[str]) -> None:
        """Assemble parts 1..len(etags) into the object."""
        ...

    async def abort_multipart_upload(self, key: str, upload_id: str) -> None: ...

    async def list_multipart_uploads(self, prefix: str) -> list[tuple[str, str]]:
        """Open uploads whose key starts with ``prefix``, as ``(key, upload_id)``."""
        ...

    async def object_exists(self, key: str) -> bool: ...


def _object_args(headers: ObjectHeaders) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if headers.content_type:
        args["ContentType"] = headers.content_type
    if headers.content_encoding:
        args["ContentEncoding"] = headers.content_encoding
    if headers.canned_acl:
        args["ACL"] = headers.canned_acl
    if headers.storage_class:
        args["StorageClass"] = headers.storage_class
    return args


class AwsS3Transport:
    """S3 through one aiobotocore client; path-style addressing with a custom ``endpoint``, as Fluent Bit."""

    def __init__(self, bucket: str, aws: AwsSettings) -> None:
        self.bucket = bucket
        path_style = AioConfig(s3={"addressing_style": "path"}) if aws.endpoint else None
        self._client = AwsClient("s3", aws, extra_config=path_style)

    async def open(self) -> None:
        await self._client.open()

    async def close(self) -> None:
        await self._client.close()

    @property
    def _s3(self) -> Any:
        return self._client.client

    async def put_object(self, key: str, body: bytes, headers: ObjectHeaders) -> None:
        args = _object_args(headers)
        if headers.send_content_md5:
            args["ContentMD5"] = content_md5(body)
        await self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, **args)

    async def create_multipart_upload(self, key: str, headers: ObjectHeaders) -> str:
        response = await self._s3.create_multipart_upload(Bucket=self.bucket, Key=key, **_object_args(headers))
        return str(response["UploadId"])

    async def upload_part(self, key: str, upload_id: str, number: int, body: bytes, md5: bool) -> str:
        args = {"ContentMD5": content_md5(body)} if md5 else {}
        response = await self._s3.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body, **args
        )
        return str(response["ETag"])

    async def complete_multipart_upload(self, key: str, upload_id: str, etags: list[str]) -> None:
        parts = [{"PartNumber": i, "ETag": etag} for i, etag in enumerate(etags, start=1)]
        await self._s3.complete_multipart_upload(
            Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )

    async def abort_multipart_upload(self, key: str, upload_id: str) -> None:
        await self._s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    async def list_multipart_uploads(self, prefix: str) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        paginator = self._s3.get_paginator("list_multipart_uploads")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            found.extend((u["Key"], u["UploadId"]) for u in page.get("Uploads", []))
        return found

    async def object_exists(self, key: str) -> bool:
        try:
            await self._s3.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


def client_error(code: str, status: int, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


@dataclass
class StoredObject:
    body: bytes
    headers: ObjectHeaders
    multipart: bool


@dataclass
class FakeS3:
    """In-memory S3: objects, open multipart uploads, S3's part checks, and scripted failures.

    ``fail(operation, error, times)`` raises ``error`` for the next ``times``
    calls of an operation (``PutObject``, ``UploadPart``...); an unknown upload
    id answers ``NoSuchUpload``, as S3 does.
    """

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
