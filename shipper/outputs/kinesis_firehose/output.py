"""``kinesis_firehose`` output: PutRecordBatch with Fluent Bit's options.

Records are encoded and batched by :mod:`shipper.outputs.kinesis_firehose.request`.
On a partial failure (``FailedPutCount`` > 0) only the records the service
refused go back to the engine for retry; Fluent Bit retries the whole batch
and so duplicates the records that were accepted.
"""

from __future__ import annotations

from collections import Counter

from shipper import jsonfmt
from shipper.aws import AwsSettings, classify
from shipper.errors import ConfigError
from shipper.events import Event
from shipper.options import Settings
from shipper.outputs.kinesis_firehose.options import OPTIONS
from shipper.outputs.kinesis_firehose.request import (
    REFUSALS,
    FirehoseRequests,
    TimeFormatter,
    compressor,
    encode_records,
    plan,
)
from shipper.outputs.kinesis_firehose.result import failed_positions, first_error
from shipper.outputs.kinesis_firehose.transport import AwsFirehose, FirehoseTransport
from shipper.outputs.result import FlushResult
from shipper.plugin import Context, DryRunBatch, Output, Rendered
from shipper.registry import register

SKIPPED = "shipper_firehose_skipped_records_total"
FAILED = "shipper_firehose_failed_records_total"
REQUESTS = "shipper_firehose_requests_total"


@register
class KinesisFirehose(Output):
    name = "kinesis_firehose"
    summary = "send records to Amazon Data Firehose (PutRecordBatch)"
    options = OPTIONS

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        self.delivery_stream: str = settings["delivery_stream"]
        self.log_key: str | None = settings.get("log_key") or None
        self.time_key: str | None = settings.get("time_key") or None
        if self.log_key and self.time_key:
            self.log.warning("time_key is ignored because log_key sends only one value (as in Fluent Bit)")
        self.time_format = TimeFormatter(settings["time_key_format"]) if self.time_key else None
        try:
            self.compress = compressor((settings.get("compression") or "").lower() or None)
        except ValueError as exc:
            raise ConfigError(str(exc), settings.where("compression")) from None
        self.aws = AwsSettings.from_settings(settings, max_connections=self.workers + 1)
        self.transport: FirehoseTransport | None = None

    async def start(self) -> None:
        if self.transport is None:  # unit tests put a fake in first
            self.transport = AwsFirehose(self.aws)
        await self.transport.open()

    async def stop(self) -> None:
        if self.transport is not None:
            await self.transport.close()

    def encode(self, events: list[Event]) -> list[bytes | None]:
        """Each event's record data (uncompressed); None when it has no ``log_key``."""
        return encode_records(events, self.log_key, self.time_key, self.time_format)

    def _plan(self, events: list[Event]) -> FirehoseRequests:
        return plan(self.encode(events), self.compress)

    def dry_run(self, tag: str, events: list[Event]) -> DryRunBatch:
        """Payloads are the uncompressed record text (``compression`` applies on the wire).

        A refused record shows its text, or the whole record as JSON when it
        has no ``log_key`` value to send.
        """
        data = self.encode(events)
        planned = plan(data, self.compress)
        destination = {"delivery_stream": self.delivery_stream}
        items = [
            Rendered(destination, data[i].decode("utf-8"), events[i][0])  # type: ignore[union-attr]
            for batch in planned.batches
            for i in batch.indexes
        ]
        for index, reason in planned.refused:
            text = data[index]
            payload = text.decode("utf-8") if text is not None else jsonfmt.dumps_str(events[index][1])
            items.append(Rendered(destination, payload, events[index][0], refused=reason))
        return DryRunBatch(items, len(planned.batches), REFUSALS)

    async def flush(self, tag: str, events: list[Event]) -> FlushResult:
        assert self.transport is not None, "flush before start"
        planned = self._plan(events)
        result = FlushResult()
        self._account(planned, result)
        for position, batch in enumerate(planned.batches):
            try:
                answer = await self.transport.put_record_batch(self.delivery_stream, batch.body(self.delivery_stream))
                self.count(REQUESTS)
                failed = failed_positions(answer, len(batch.indexes))
            except Exception as exc:  # classified: the rest of the chunk shares the fate
                rest = [events[i] for later in planned.batches[position:] for i in later.indexes]
                result.add_error(classify(exc, f"PutRecordBatch {self.delivery_stream}"), rest)
                break
            if failed:
                self.count(FAILED, len(failed))
                result.add_retry(
                    [events[batch.indexes[p]] for p in failed],
                    f"PutRecordBatch {self.delivery_stream}: {len(failed)} of {len(batch.indexes)} records failed "
                    f"({first_error(answer)})",
                )
        return result

    def _account(self, planned: FirehoseRequests, result: FlushResult) -> None:
        for reason, amount in Counter(reason for _, reason in planned.refused).items():
            self.count(SKIPPED, amount, reason=reason)
            result.add_dropped(f"{reason}: {REFUSALS[reason]}", amount)

