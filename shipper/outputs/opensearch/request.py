"""Bulk API bodies, byte for byte as Fluent Bit's opensearch output writes them.

Each record becomes two NDJSON lines: an action line
``{"create":{"_index":"...","_type":"_doc","_id":"..."}}`` and the document.
The document is a map of ``Time_Key`` (formatted record time), optionally
``Tag_Key`` (the tag), then the record's keys; where the record already has
one of the generated keys, the record's value wins and sits at the record's
position (Fluent Bit writes both keys and its JSON encoder keeps the last).
JSON text comes from :mod:`shipper.jsonfmt` (Fluent Bit's escapes and number
format), so the bytes match what Fluent Bit sends.

``Generate_ID`` hashes, with XXH3-128, the msgpack map Fluent Bit builds
(generated keys plus every record key, duplicates included) and prints the
16 hash bytes (low 64 bits then high 64 bits, little-endian) as upper-case
8-4-4-4-12 hex, so ids match Fluent Bit's for the same record and time.

The whole chunk is encoded in one pass; bodies are then cut at a maximum
request size without re-encoding anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import msgpack
import orjson
import xxhash

from shipper import jsonfmt
from shipper.accessor import compile_accessor
from shipper.events import Event, Record
from shipper.outputs.opensearch.index import IndexNamer, SecondCache

WRITE_OPERATIONS = ("create", "index", "update", "upsert")
#: Amazon OpenSearch Service accepts 10 MiB per HTTP request on small instance types (the
#: ``Maximum size of HTTP request payloads`` of
#: https://docs.aws.amazon.com/opensearch-service/latest/developerguide/limits.html); stay well below.
DEFAULT_MAX_REQUEST_SIZE = 5 * 1024 * 1024

_PACKER = msgpack.Packer()


def _has_float(values: Iterable[object]) -> bool:
    """True when a float hides anywhere in ``values`` (nested maps and arrays included)."""
    for value in values:
        kind = type(value)
        if kind is float:
            return True
        if kind is dict:
            if _has_float(value.values()):  # type: ignore[attr-defined]
                return True
        elif kind is list and _has_float(value):  # type: ignore[arg-type]
            return True
    return False


def document_json(doc: Record) -> bytes:
    """The document as Fluent Bit's JSON text.

    :func:`shipper.jsonfmt.dumps` rewrites number tokens with a regex, which
    costs about 40 µs on a typical Kubernetes record; its result equals plain
    orjson whenever the text is ASCII and holds no float, so that common case
    (about 2 µs with the float scan) skips it.
    """
    try:
        data = orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return jsonfmt.dumps(doc)
    if data.isascii() and not _has_float(doc.values()):
        return data
    return jsonfmt.dumps(doc)


def replace_dots(value: object) -> object:
    """Copy ``value`` with '.' in every map key (at any depth, arrays too) turned into '_'.

    A renamed key that collides with an existing one keeps the later value at
    the later position, as Fluent Bit's JSON encoder does with duplicate keys.
    """
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, item in value.items():
            if isinstance(key, str) and "." in key:
                key = key.replace(".", "_")
                out.pop(key, None)
            out[key] = replace_dots(item)
        return out
    if isinstance(value, list):
        return [replace_dots(item) for item in value]
    return value


def generated_id(head: list[tuple[str, str]], record: Record) -> str:
    """Fluent Bit's ``Generate_ID``: XXH3-128 of the msgpack document, as a UUID-shaped string."""
    try:
        packed = _PACKER.pack(record)
    except (TypeError, ValueError, OverflowError):
        # msgpack cannot carry this record (e.g. a 65-bit integer): hash its JSON instead.
        return _uuid_text(xxhash.xxh3_128_digest(jsonfmt.dumps([head, record])))
    # Replace the record's map header by one that also counts the generated keys.
    header_len = 1 if len(record) < 16 else 3 if len(record) < 65536 else 5
    parts = [_PACKER.pack_map_header(len(record) + len(head))]
    for key, value in head:
        parts.append(_PACKER.pack(key))
        parts.append(_PACKER.pack(value))
    parts.append(packed[header_len:])
    return _uuid_text(xxhash.xxh3_128_digest(b"".join(parts)))


def _uuid_text(digest: bytes) -> str:
    """xxhash's canonical (big-endian) digest printed the way Fluent Bit prints its hash struct."""
    text = digest[::-1].hex().upper()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@dataclass(slots=True)
class BulkItem:
    """One record encoded for the bulk API: its two lines and what they address."""

    event: Event
    index: str
    doc_id: str | None
    action: bytes
    document: bytes

    @property
    def size(self) -> int:
        return len(self.action) + len(self.document)


class BulkEncoder:
    """Turns events into :class:`BulkItem` lines per the output's settings."""

    def __init__(
        self,
        *,
        namer: IndexNamer,
        write_operation: str,
        type_name: str | None,
        time_key: str,
        time_key_format: str,
        time_key_nanos: bool,
        tag_key: str | None,
        replace_dots: bool,
        generate_id: bool,
        id_key: str | None,
    ) -> None:
        op = write_operation.lower()
        if op not in WRITE_OPERATIONS:
            raise ValueError(f"Write_Operation must be one of {', '.join(WRITE_OPERATIONS)}, got {write_operation!r}")
        self.operation = "update" if op in ("update", "upsert") else op
        self._doc_prefix, self._doc_suffix = {
            "update": (b'{"doc":', b"}\n"),
            "upsert": (b'{"doc_as_upsert":true,"doc":', b"}\n"),
        }.get(op, (b"", b"\n"))
        self._namer = namer
        self._type_name = type_name
        self._time_key = time_key
        self._second = SecondCache(time_key_format)
        self._nanos = time_key_nanos
        self._tag_key = tag_key
        self._replace_dots = replace_dots
        self._id_key = compile_accessor(id_key) if id_key else None
        # Fluent Bit ignores Generate_ID when Id_Key is set.
        self._generate_id = generate_id and self._id_key is None
        self._action_prefix: dict[str, bytes] = {}
        #: records whose Id_Key value was missing or not a string (sent without an id).
        self.missing_ids = 0

    def _prefix(self, index: str) -> bytes:
        """``{"<op>":{"_index":"<index>"[,"_type":"<type>"]`` cached per index."""
        prefix = self._action_prefix.get(index)
        if prefix is None:
            meta = b'{"_index":' + jsonfmt.dumps(index)
            if self._type_name is not None:
                meta += b',"_type":' + jsonfmt.dumps(self._type_name)
            prefix = b'{"' + self.operation.encode() + b'":' + meta
            if len(self._action_prefix) > 1024:
                self._action_prefix.clear()
            self._action_prefix[index] = prefix
        return prefix

    def encode(self, tag: str, events: list[Event]) -> list[BulkItem]:
        """Encode a whole chunk (one pass, no I/O); strftime work happens once per second."""
        items: list[BulkItem] = []
        append = items.append
        namer = self._namer
        index = namer.constant
        per_record_index = index is None and not namer.by_second
        time_key, tag_key, nanos, second = self._time_key, self._tag_key, self._nanos, self._second
        id_key, generate, dots = self._id_key, self._generate_id, self._replace_dots
        doc_prefix, doc_suffix = self._doc_prefix, self._doc_suffix
        action_prefix = self._prefix(index) if index is not None else b""
        last_sec = -1
        second_text = ""
        for event in events:
            ts_ns, record = event
            sec, frac = divmod(ts_ns, 1_000_000_000)
            if sec != last_sec:
                last_sec, second_text = sec, second(sec)
                if namer.by_second:
                    index = namer.for_second(sec)
                    action_prefix = self._prefix(index)
            if per_record_index:
                index = namer.name(tag, record, ts_ns)
                action_prefix = self._prefix(index)
            stamp = f"{second_text}.{frac:09d}Z" if nanos else f"{second_text}.{frac // 1_000_000:03d}Z"
            body: Record = replace_dots(record) if dots else record  # type: ignore[assignment]
            if time_key in body or (tag_key is not None and tag_key in body):
                # The record's own key wins, at the record's position.
                doc = {} if time_key in body else {time_key: stamp}
                if tag_key is not None and tag_key not in body:
                    doc[tag_key] = tag
                doc.update(body)
            elif tag_key is None:
                doc = {time_key: stamp, **body}
            else:
                doc = {time_key: stamp, tag_key: tag, **body}
            if generate:
                head = [(time_key, stamp)] if tag_key is None else [(time_key, stamp), (tag_key, tag)]
                doc_id: str | None = generated_id(head, body)
                action = action_prefix + b',"_id":' + jsonfmt.dumps(doc_id) + b"}}\n"
            elif id_key is not None and isinstance(value := id_key.get(record), str):
                doc_id = value
                action = action_prefix + b',"_id":' + jsonfmt.dumps(doc_id) + b"}}\n"
            else:
                if id_key is not None:
                    self.missing_ids += 1
                doc_id = None
                action = action_prefix + b"}}\n"
            append(BulkItem(event, index, doc_id, action, doc_prefix + document_json(doc) + doc_suffix))  # type: ignore[arg-type]
        return items


def split_requests(items: list[BulkItem], max_bytes: int) -> Iterator[list[BulkItem]]:
    """Group items into request bodies of at most ``max_bytes`` (an oversized item goes alone)."""
    batch: list[BulkItem] = []
    size = 0
    for item in items:
        item_size = item.size
        if batch and size + item_size > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += item_size
    if batch:
        yield batch


def body_of(items: list[BulkItem]) -> bytes:
    """The NDJSON request body for a batch of items."""
    return b"".join([part for item in items for part in (item.action, item.document)])
