"""The s3 output's own background task: turns buffered objects into S3 objects.

Flushes only append to ``store_dir`` (:mod:`shipper.outputs.s3.store`); this
task uploads.  A sealed segment goes out as the next part of the object's
multipart upload (created on the first part); an object is completed when it
reaches ``total_file_size``, when ``upload_timeout`` has passed since it was
started, when it nears S3's 10,000 parts, on shutdown, and at start for what an
earlier run left.  An object that never grew past one segment is sent with
one PutObject instead, as Fluent Bit does for small files.

Objects of one tag are uploaded in the order they were started: when one
fails, later ones of its tag wait (``preserve_data_ordering``).  A failed
object is retried with the scheduler's backoff and given up after
``Retry_Limit`` attempts in a row: its multipart upload is aborted and its
records are counted as dropped.  At start, open uploads under the key of an
object we are resuming that are not the upload we recorded (an upload created
just before a crash) are aborted, so none is left to accumulate cost.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from shipper.engine.retry import backoff_delay
from shipper.outputs.s3.limits import MAX_PARTS
from shipper.outputs.s3.request import ObjectHeaders
from shipper.outputs.s3.result import reason, upload_gone
from shipper.outputs.s3.store import ObjectState, ObjectStore
from shipper.outputs.s3.transport import S3Transport

log = logging.getLogger("shipper.output.s3")

DROPPED = "fluentbit_output_dropped_records_total"
#: how often the task looks for objects whose upload_timeout has passed.
TICK_SECONDS = 1.0
#: how often a shutdown drain looks at its deadline.
DEADLINE_POLL_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class UploadPolicy:
    """When objects are completed and how failures are retried."""

    total_file_size: int
    upload_timeout: float
    retry_limit: int | None
    backoff_base: float = 1.0
    backoff_cap: float = 60.0


class Uploader:
    """Uploads the objects of one :class:`ObjectStore` through an :class:`S3Transport`."""

    def __init__(
        self,
        store: ObjectStore,
        transport: S3Transport,
        headers: ObjectHeaders,
        policy: UploadPolicy,
        count: Callable[[str, float], None],
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.transport = transport
        self.headers = headers
        self.policy = policy
        self.count = count
        self.rng = rng or random.Random()
        self._retry_at: dict[str, float] = {}
        self._wake = asyncio.Event()
        self._resumed: list[ObjectState] = []

    # -- decisions ------------------------------------------------------------
    def due(self, state: ObjectState, now: float | None = None) -> bool:
        """True when the object should be completed now."""
        now = time.time() if now is None else now
        return (
            state.size >= self.policy.total_file_size
            or now - state.created >= self.policy.upload_timeout
            or state.segment - state.first_segment >= MAX_PARTS - 1
        )

    def wake(self) -> None:
        self._wake.set()

    # -- start and stop -------------------------------------------------------
    def recover(self) -> int:
        """Take what an earlier run left in store_dir; every recovered object is completed."""
        self._resumed = self.store.recover()
        for state in self._resumed:
            state.completing = True
            self.store.save(state)
        if self._resumed:
            log.info("s3: %d objects left by an earlier run are being uploaded", len(self._resumed))
            self.count("shipper_s3_recovered_objects_total", len(self._resumed))
        return len(self._resumed)

    async def run(self) -> None:
        """Upload until cancelled."""
        await self.abort_strays()
        while True:
            await self.upload_pass()
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=TICK_SECONDS)
            except TimeoutError:
                pass

    async def drain(self, remaining: Callable[[], float]) -> bool:
        """Complete every object (shutdown) while ``remaining()`` seconds are left; True when store_dir is empty.

        ``remaining`` is asked again every :data:`DEADLINE_POLL_SECONDS`, so a
        second signal (which moves the deadline to now) ends the wait at once;
        an upload cut short is consistent on disk and finished on the next start.
        """
        for state in list(self.store.objects.values()):
            state.completing = True
            self.store.save(state)
        self._retry_at.clear()
        while self.store.objects and remaining() > 0:
            attempt = asyncio.ensure_future(self.upload_pass())
            while not attempt.done():
                left = remaining()
                if left <= 0:
                    attempt.cancel()
                    break
                await asyncio.wait([attempt], timeout=min(left, DEADLINE_POLL_SECONDS))
            await asyncio.gather(attempt, return_exceptions=True)
            if self.store.objects:  # some are waiting for their retry time
                await asyncio.sleep(min(self.policy.backoff_base, DEADLINE_POLL_SECONDS, max(remaining(), 0)))
        return not self.store.objects

    async def abort_strays(self) -> None:
        """Abort uploads left open under a resumed object's key that are not the one it records."""
        for state in self._resumed:
            try:
                for key, upload_id in await self.transport.list_multipart_uploads(state.key):
                    if key == state.key and upload_id != state.upload_id:
                        await self.transport.abort_multipart_upload(key, upload_id)
                        self.count("shipper_s3_aborted_uploads_total", 1)
                        log.info("s3: aborted multipart upload %s of %s left open by an earlier run", upload_id, key)
            except Exception as exc:  # noqa: BLE001 - a safety net: any failure is only worth a warning
                log.warning("s3: %s", reason(exc, f"looking for open uploads of {state.key}"))
        self._resumed = []

    # -- one pass -------------------------------------------------------------
    async def upload_pass(self) -> None:
        """Advance every object that is ready, oldest first, keeping each tag's objects in order."""
        now = time.time()
        waiting_tags: set[str] = set()
        for state in list(self.store.objects.values()):
            if state.tag in waiting_tags:
                continue
            if self._retry_at.get(state.id, 0.0) > time.monotonic():
                waiting_tags.add(state.tag)
                continue
            if not self._has_work(state, now):
                continue
            if not await self._attempt(state, now):
                waiting_tags.add(state.tag)

    def _has_work(self, state: ObjectState, now: float) -> bool:
        return state.completing or bool(state.sealed_segments()) or self.due(state, now)

    async def _attempt(self, state: ObjectState, now: float) -> bool:
        try:
            await self._advance(state, now)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure counts against Retry_Limit
            await self._failed(state, exc)
            return False
        if state.failures:
            state.failures = 0
            self._retry_at.pop(state.id, None)
            if state.id in self.store.objects:
                self.store.save(state)
        return True

    async def _advance(self, state: ObjectState, now: float) -> None:
        if not state.completing and self.due(state, now):
            state.completing = True
            self.store.save(state)
        if state.completing and state.upload_id is None and not state.sealed_segments():
            await self._put_whole(state)
            return
        if state.completing:
            self.store.seal(state)
        for number in state.sealed_segments():
            await self._upload_part(state, number)
        if state.completing:
            await self._complete(state)

    async def _put_whole(self, state: ObjectState) -> None:
        if state.segment_size:
            body = self.store.read_segment(state, state.segment)
            await self.transport.put_object(state.key, body, self.headers)
            self.count("shipper_s3_upload_bytes_total", len(body))
            log.info("s3: uploaded %s (%d records, %d bytes)", state.key, state.records, len(body))
        self._finished(state)

    async def _upload_part(self, state: ObjectState, number: int) -> None:
        if state.upload_id is None:
            state.upload_id = await self.transport.create_multipart_upload(state.key, self.headers)
            self.store.save(state)
        body = self.store.read_segment(state, number)
        part = number - state.first_segment + 1
        try:
            etag = await self.transport.upload_part(state.key, state.upload_id, part, body, self.headers.send_content_md5)
        except Exception as exc:
            if upload_gone(exc):
                self._lost(state, self.store.upload_lost(state), "its multipart upload was aborted outside shipper")
            raise
        self.store.part_uploaded(state, number, etag)
        self.count("shipper_s3_parts_total", 1)
        self.count("shipper_s3_upload_bytes_total", len(body))

    async def _complete(self, state: ObjectState) -> None:
        assert state.upload_id is not None
        if not state.etags:  # every byte was in parts that are gone: nothing to assemble
            await self.transport.abort_multipart_upload(state.key, state.upload_id)
            self._finished(state)
            return
        try:
            await self.transport.complete_multipart_upload(state.key, state.upload_id, state.etags)
        except Exception as exc:
            if not upload_gone(exc):
                raise
            if not await self.transport.object_exists(state.key):  # else completed just before a crash
                self._lost(state, state.uploaded_records, "its multipart upload was aborted outside shipper")
        log.info("s3: completed %s (%d records, %d parts)", state.key, state.records, len(state.etags))
        self._finished(state)

    def _finished(self, state: ObjectState) -> None:
        self.store.remove(state)
        self._retry_at.pop(state.id, None)
        if state.records:
            self.count("shipper_s3_objects_total", 1)

    def _lost(self, state: ObjectState, records: int, why: str) -> None:
        if records:
            self.count(DROPPED, records)
            log.error("s3: %d records of %s are lost: %s", records, state.key, why)

    async def _failed(self, state: ObjectState, exc: BaseException) -> None:
        self.count("shipper_s3_upload_errors_total", 1)
        state.failures += 1
        limit = self.policy.retry_limit
        if limit is not None and state.failures > limit:
            await self._give_up(state, exc)
            return
        self.store.save(state)
        delay = backoff_delay(state.failures, self.policy.backoff_base, self.policy.backoff_cap, self.rng)
        self._retry_at[state.id] = time.monotonic() + delay
        log.warning("s3: %s; retry %d in %.1fs", reason(exc, f"uploading {state.key}"), state.failures, delay)

    async def _give_up(self, state: ObjectState, exc: BaseException) -> None:
        if state.upload_id is not None:
            try:
                await self.transport.abort_multipart_upload(state.key, state.upload_id)
            except Exception as abort_exc:  # noqa: BLE001 - reported; giving up goes on
                log.error("s3: %s; the upload stays open: abort it or add a lifecycle rule "
                          "(AbortIncompleteMultipartUpload)", reason(abort_exc, f"aborting {state.upload_id}"))
        records = self.store.pending_records(state) + state.uploaded_records
        self._lost(state, records, f"given up after {state.failures - 1} retries (Retry_Limit): {reason(exc, 'last error')}")
        self.store.remove(state)
        self._retry_at.pop(state.id, None)
