"""``s3`` output: records into S3 objects with Fluent Bit's options and key formats.

A flush appends the chunk's lines to the object being built for its tag in
``store_dir`` and returns: the records are acknowledged once they are on disk
there, as with ``storage.type filesystem``.  The :class:`~shipper.outputs.s3.uploader.Uploader`
task uploads parts and completes objects in the background, uploads what an
earlier run left when it starts, and on shutdown uploads everything within
``Grace``; what does not make it stays in ``store_dir`` for the next start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import replace

from shipper import jsonfmt
from shipper.aws import AwsSettings
from shipper.events import Event
from shipper.options import Settings
from shipper.outputs.result import FlushResult
from shipper.outputs.s3.keys import KeyFormat
from shipper.outputs.s3.limits import DEFAULT_RETRY_LIMIT
from shipper.outputs.s3.options import OPTIONS, parse
from shipper.outputs.s3.request import LineFormat, ObjectHeaders, compressor
from shipper.outputs.s3.store import ObjectState, ObjectStore
from shipper.outputs.s3.transport import AwsS3Transport, S3Transport
from shipper.outputs.s3.uploader import Uploader, UploadPolicy
from shipper.packed import EventBatch
from shipper.plugin import OUTPUT_COMMON, Context, DryRunBatch, Output, Rendered
from shipper.registry import register


@register
class S3(Output):
    name = "s3"
    summary = "archive records to Amazon S3 objects (multipart upload or PutObject), buffered in store_dir"
    #: Fluent Bit's s3 retries an upload 5 times when Retry_Limit is not set.
    common_options = tuple(
        replace(o, default=str(DEFAULT_RETRY_LIMIT)) if o.name == "retry_limit" else o for o in OUTPUT_COMMON
    )
    options = OPTIONS

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        self.config = parse(settings)
        config = self.config
        self.lines = LineFormat(config.date_key, config.date_format, config.log_key)
        self.compress = compressor(config.compression)
        self.headers = ObjectHeaders(
            content_type=config.content_type,
            content_encoding=config.compression,
            canned_acl=config.canned_acl,
            storage_class=config.storage_class,
            send_content_md5=config.send_content_md5,
        )
        self.aws = AwsSettings.from_settings(settings)
        service = context.service
        self.store = ObjectStore.for_output(
            config.store_dir, config.bucket, self.instance_name, sync=service.get("storage.sync") == "full"
        )
        self.grace = float(service.get("grace", 5))
        self.policy = UploadPolicy(
            total_file_size=config.total_file_size,
            upload_timeout=config.upload_timeout,
            retry_limit=self.retry_limit,
            backoff_base=float(service.get("scheduler.base", 5.0)),
            backoff_cap=float(service.get("scheduler.cap", 2000.0)),
        )
        #: set before start() to use another transport (the unit tests' in-memory S3).
        self.transport: S3Transport | None = None
        self.uploader: Uploader | None = None
        self._owned: AwsS3Transport | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def key_format(self) -> KeyFormat:
        return self.config.key

    async def start(self) -> None:
        uploader = await self.prepare()
        self._task = asyncio.create_task(uploader.run(), name=f"{self.instance_name}-uploader")

    async def prepare(self) -> Uploader:
        """Open the transport and take over what an earlier run left in store_dir (no upload yet)."""
        if self.transport is None:
            self._owned = AwsS3Transport(self.config.bucket, self.aws)
            await self._owned.open()
            self.transport = self._owned
        self.uploader = Uploader(self.store, self.transport, self.headers, self.policy, self.count)
        self.uploader.recover()
        return self.uploader

    async def stop(self) -> None:
        """Upload everything buffered before the engine's shutdown deadline (Grace); the rest waits in store_dir."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.uploader is not None and not await self.uploader.drain(self._shutdown_clock()):
            self.log.warning(
                "s3: %d objects not uploaded within Grace (%gs); they stay in %s and are uploaded on the next start",
                len(self.store.objects), self.grace, self.store.root,
            )
        if self._owned is not None:
            await self._owned.close()

    def _shutdown_clock(self) -> Callable[[], float]:
        """Seconds left until the engine's shutdown deadline; Grace from now when there is no engine."""
        loop = asyncio.get_running_loop()
        fallback = loop.time() + self.grace
        runtime = self.context.runtime

        def remaining() -> float:
            deadline = runtime.shutdown_deadline() if runtime is not None else None
            return (fallback if deadline is None else deadline) - loop.time()

        return remaining

    async def flush(self, tag: str, events: list[Event]) -> FlushResult:
        block, missing = self.lines.encode(events)
        refused = self._store(tag, block, len(events) - missing, (ts for ts, _ in events))
        if refused:
            return FlushResult(events, refused)
        result = FlushResult()
        result.add_dropped(f"missing_log_key: records have no {self.config.log_key!r} key; not written", missing)
        return result

    async def flush_batch(self, tag: str, batch: EventBatch) -> FlushResult:
        """Records the engine holds as JSON go to store_dir without being decoded (unless ``log_key``)."""
        if self.config.log_key is not None or not all(p.encoded for p in batch.packs):
            return await self.flush(tag, batch.decoded())
        pieces = [p.json_lines() for p in batch.packs if p.count]
        block = b"".join(self.lines.json_lines(times, body) for times, body in pieces)
        refused = self._store(tag, block, len(batch), (ts for times, _ in pieces for ts in times))
        return FlushResult(batch.decoded(), refused) if refused else FlushResult()

    def _store(self, tag: str, block: bytes, records: int, times: Iterable[int]) -> str | None:
        """Append lines to the tag's object in store_dir; the reason when they cannot be (the engine retries)."""
        limit = self.config.store_dir_limit_size
        if limit and self.store.buffered_bytes() >= limit:
            return f"store_dir_limit_size ({limit:,} bytes) reached while uploads catch up"
        if not block:
            return None
        if self.compress is not None:
            block = self.compress(block)
        try:
            state = self.store.open_object(tag) or self._new_object(tag, _first_second(times))
            self.store.append(state, block, records)
        except OSError as exc:
            return f"cannot write to store_dir {self.store.root}: {exc}"
        self._after_append(state)
        return None

    def _new_object(self, tag: str, first_second: int) -> ObjectState:
        index = self.store.take_index() if self.key_format.has_index else 0
        return self.store.create(tag, self.key_format.render(tag, first_second, index))

    def _after_append(self, state: ObjectState) -> None:
        assert self.uploader is not None
        if not self.config.use_put_object and state.segment_size >= self.config.upload_chunk_size:
            self.store.seal(state)
        if self.uploader.due(state):
            state.completing = True
            self.store.save(state)
        if state.completing or state.sealed_segments():
            self.uploader.wake()

    def dry_run(self, tag: str, events: list[Event]) -> DryRunBatch:
        """Each record with the bucket and key of the object that would hold it (``$INDEX`` as it stands).

        A record without ``log_key`` is shown as JSON and marked refused: it would be left out.
        """
        key = self.key_format.render(tag, _first_second(ts for ts, _ in events), self.store.peek_index())
        destination = {"bucket": self.config.bucket, "key": key}
        items = []
        for ts, record in events:
            line, missing = self.lines.encode([(ts, record)])
            if missing:
                items.append(Rendered(destination, jsonfmt.dumps_str(record), ts, refused="missing_log_key"))
            else:
                items.append(Rendered(destination, line.decode("utf-8", "replace").rstrip("\n"), ts))
        block, _ = self.lines.encode(events)
        size = len(self.compress(block)) if self.compress is not None else len(block)
        reasons = {"missing_log_key": f"has no {self.config.log_key!r} key; left out of the object"}
        return DryRunBatch(items, self._requests(size), reasons)

    def _requests(self, size: int) -> int:
        """PutObject for an object smaller than one part, else create + parts + complete."""
        if not size:
            return 0
        chunk = self.config.upload_chunk_size
        if self.config.use_put_object or size < chunk:
            return 1
        return size // chunk + (1 if size % chunk else 0) + 2


def _first_second(times: Iterable[int]) -> int:
    """Epoch seconds of the first record with a time (Fluent Bit keys objects by it), else now."""
    for ts in times:
        if ts:
            return ts // 1_000_000_000
    return int(time.time())
