"""The s3 output's options: Fluent Bit's names, defaults and checks, every mistake reported at once.

:func:`parse` turns typed :class:`~shipper.options.Settings` into
:class:`S3Options` and raises :class:`~shipper.errors.ConfigErrors` listing
every problem with its line, so ``shipper check`` shows them all: sizes out of
S3's or Fluent Bit's bounds, a part size larger than the file size, a key
format that lets objects overwrite each other, an unknown compression, ACL
or storage class.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shipper.aws import AWS_OPTIONS
from shipper.errors import ConfigError, ConfigErrors
from shipper.options import Option, Settings
from shipper.outputs.formats import DATE_FORMATS
from shipper.outputs.s3 import limits
from shipper.outputs.s3.keys import KeyFormat
from shipper.outputs.s3.request import (
    COMPRESSIONS,
    UNSUPPORTED_COMPRESSIONS,
    zstd_available,
)
from shipper.plugin import NET_OPTIONS, TLS_OPTIONS

log = logging.getLogger("shipper.output.s3")

#: ``error(option, message)``: record one problem at the line of ``option``.
ErrorSink = Callable[[str, str], None]

DEFAULT_KEY_FORMAT = "/fluent-bit-logs/$TAG/%Y/%m/%d/%H/%M/%S"
#: ``format`` values: JSON lines is the only one shipper writes.
FORMATS = ("json_lines", "json")
UNSUPPORTED_FORMATS = ("otlp_json", "otlp_json_pretty", "parquet", "arrow")

OPTIONS = (
    Option("bucket", required=True, help="S3 bucket name"),
    Option("region", default="us-east-1", help="AWS region of the bucket"),
    *(o for o in AWS_OPTIONS if o.name != "region"),
    Option("s3_key_format", default=DEFAULT_KEY_FORMAT,
           help="object key: strftime (UTC, first record's time) with $TAG, $TAG[n], $INDEX, $UUID; starts with /"),
    Option("s3_key_format_tag_delimiters", default=".", help="characters that split the tag for $TAG[n]"),
    Option("static_file_path", "bool", default="off",
           help="with use_put_object, do not append -object<random> to keys without $UUID or $INDEX"),
    Option("total_file_size", "size", default=str(limits.DEFAULT_FILE_SIZE),
           help="object size at which an object is completed (1M to 50G; 50M with use_put_object)"),
    Option("upload_chunk_size", "size", default=str(limits.DEFAULT_CHUNK_SIZE),
           help="multipart part size: at least 5,242,880 bytes, at most 50M (5 GiB compressed)"),
    Option("upload_timeout", "duration", default="10m", help="complete an object this long after it was started"),
    Option("use_put_object", "bool", default="off", help="upload whole objects with PutObject instead of multipart"),
    Option("store_dir", default="/tmp/fluent-bit/s3",
           help="directory of the buffer files (records are acknowledged once they are here)"),
    Option("store_dir_limit_size", "size", default="0",
           help="refuse new records (the engine retries them) while store_dir holds this much; 0 = no limit"),
    Option("compression", help="gzip or zstd (arrow, parquet and snappy are not supported)"),
    Option("format", default="json_lines", help="json_lines (otlp_json, parquet and arrow are not supported)"),
    Option("content_type", help="Content-Type of the objects"),
    Option("canned_acl", help="canned ACL of the objects, e.g. bucket-owner-full-control"),
    Option("storage_class", help="storage class of the objects, e.g. STANDARD_IA"),
    Option("send_content_md5", "bool", default="off", help="send Content-MD5 (needed with S3 Object Lock)"),
    Option("json_date_key", default="date", help="key of the record time in each line; false to leave it out"),
    Option("json_date_format", default="iso8601", choices=DATE_FORMATS, help="format of json_date_key"),
    Option("log_key", help="write only this key's value (strings as they are) instead of the whole record"),
    Option("preserve_data_ordering", "bool", default="on",
           ignored=True, help="accepted for compatibility; objects of one tag are always uploaded in order"),
    *NET_OPTIONS,
    *TLS_OPTIONS,
)


@dataclass(frozen=True, slots=True)
class S3Options:
    """Validated s3 settings, in the units the output uses."""

    bucket: str
    key: KeyFormat
    total_file_size: int
    upload_chunk_size: int
    upload_timeout: float
    use_put_object: bool
    store_dir: Path
    store_dir_limit_size: int
    compression: str | None
    content_type: str | None
    canned_acl: str | None
    storage_class: str | None
    send_content_md5: bool
    date_key: str | None
    date_format: str
    log_key: str | None


def parse(settings: Settings) -> S3Options:
    """Validate settings; raises ConfigErrors listing every problem."""
    errors: list[ConfigError] = []

    def error(option: str, message: str) -> None:
        errors.append(ConfigError(f"s3: {message}", settings.where(option)))

    total = int(settings["total_file_size"])
    chunk = int(settings["upload_chunk_size"])
    compression = _compression(settings, error)
    _check_format(settings, error)
    if total < limits.MIN_FILE_SIZE or total > limits.MAX_FILE_SIZE:
        error("total_file_size", f"total_file_size must be between 1M and 50G, got {total:,} bytes")
    use_put_object = bool(settings["use_put_object"])
    if not use_put_object and total < 2 * limits.MIN_PART_BYTES:
        log.info("s3: total_file_size is less than 10 MiB (two parts): objects are uploaded with PutObject")
        use_put_object = True
    if not use_put_object:
        _check_part_size(chunk, total, compression, error)
    if chunk != limits.DEFAULT_CHUNK_SIZE and 2 * chunk > total:
        error("upload_chunk_size", f"total_file_size ({total:,}) is less than twice upload_chunk_size ({chunk:,})")
    if use_put_object and total > limits.MAX_PUT_OBJECT_FILE_SIZE:
        error("total_file_size", f"total_file_size is at most 50M with use_put_object, got {total:,} bytes")
    key = _key_format(settings, use_put_object, error)
    timeout = float(settings["upload_timeout"])
    if timeout <= 0:
        error("upload_timeout", "upload_timeout must be more than 0")
    acl = settings.get("canned_acl") or None
    if acl is not None and acl not in limits.CANNED_ACLS:
        error("canned_acl", f"unknown canned_acl {acl!r}; S3 accepts {', '.join(limits.CANNED_ACLS)}")
    storage_class = settings.get("storage_class") or None
    if storage_class is not None and storage_class not in limits.STORAGE_CLASSES:
        error("storage_class", f"unknown storage_class {storage_class!r}; S3 accepts {', '.join(limits.STORAGE_CLASSES)}")
    if settings.get("storage.total_limit_size"):
        log.warning("s3: use store_dir_limit_size rather than storage.total_limit_size: s3 buffers in store_dir")
    if errors:
        raise ConfigErrors(errors)
    date_key = settings.get("json_date_key") or None
    return S3Options(
        bucket=settings["bucket"],
        key=key,
        total_file_size=total,
        upload_chunk_size=total if use_put_object else chunk,
        upload_timeout=timeout,
        use_put_object=use_put_object,
        store_dir=Path(settings["store_dir"]),
        store_dir_limit_size=int(settings["store_dir_limit_size"]),
        compression=compression,
        content_type=settings.get("content_type") or None,
        canned_acl=acl,
        storage_class=storage_class,
        send_content_md5=bool(settings["send_content_md5"]),
        date_key=None if date_key is None or date_key.lower() in ("false", "off", "no", "0") else date_key,
        date_format=str(settings["json_date_format"]).lower(),
        log_key=settings.get("log_key") or None,
    )


def _compression(settings: Settings, error: ErrorSink) -> str | None:
    name = (settings.get("compression") or "").lower() or None
    if name is None or name == "none":
        return None
    if name in UNSUPPORTED_COMPRESSIONS:
        error("compression", f"compression {name} is not supported by shipper; use gzip or zstd")
    elif name not in COMPRESSIONS:
        error("compression", f"unknown compression {name!r}; use gzip or zstd")
    elif name == "zstd" and not zstd_available():
        error("compression", "compression zstd needs the 'zstandard' Python package (pip install zstandard)")
    return name


def _check_format(settings: Settings, error: ErrorSink) -> None:
    fmt = str(settings["format"]).lower()
    if fmt in UNSUPPORTED_FORMATS:
        error("format", f"format {fmt} is not supported by shipper; objects are written as json_lines")
    elif fmt not in FORMATS:
        error("format", f"unknown format {fmt!r}; use json_lines")


def _check_part_size(chunk: int, total: int, compression: str | None, error: ErrorSink) -> None:
    if chunk > total:
        error("upload_chunk_size", f"upload_chunk_size ({chunk:,}) is larger than total_file_size ({total:,})")
    if chunk < limits.MIN_PART_BYTES:
        error("upload_chunk_size", f"upload_chunk_size must be at least 5,242,880 bytes (S3's smallest part), got {chunk:,}")
    if compression is None and chunk > limits.MAX_CHUNK_SIZE:
        error("upload_chunk_size", f"upload_chunk_size is at most 50M, got {chunk:,}")
    if compression is not None and chunk > limits.MAX_COMPRESSED_CHUNK_SIZE:
        error("upload_chunk_size", f"upload_chunk_size is at most 5 GiB (S3's largest part), got {chunk:,}")


def _key_format(settings: Settings, use_put_object: bool, error: ErrorSink) -> KeyFormat:
    fmt = str(settings["s3_key_format"])
    static = bool(settings["static_file_path"])
    key = KeyFormat(
        fmt,
        str(settings["s3_key_format_tag_delimiters"]),
        random_suffix=use_put_object and not static and "$UUID" not in fmt and "$INDEX" not in fmt,
    )
    if not fmt.startswith("/"):
        error("s3_key_format", f"s3_key_format must start with '/', got {fmt!r}")
    too_far = [n for n in key.tag_part_numbers() if n >= limits.MAX_TAG_PARTS]
    if too_far:
        error("s3_key_format", f"$TAG[{too_far[0]}]: a tag is split into at most 10 parts ($TAG[0] to $TAG[9])")
    if not key.is_unique():
        where = "s3_key_format" if settings.is_set("s3_key_format") else "static_file_path"
        error(where, f"s3_key_format {fmt!r} has no $UUID, $INDEX or seconds (%S): two objects of one tag "
                     "would get the same key and the second would overwrite the first; add $UUID or $INDEX")
    return key
