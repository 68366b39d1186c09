"""The ``kinesis_streams`` output: PutRecords with Fluent Bit's C plugin options.

Each record is encoded as Fluent Bit's kinesis_streams encodes it (the same
text as kinesis_firehose: compact JSON with ``time_key`` last, or the
``log_key`` value, then a newline) under a random partition key, cut into
requests by :mod:`.records` and sent through a :class:`.transport.PutRecordsTransport`.

On a partial failure only the refused records go back to the engine; Fluent
Bit retries the whole chunk and duplicates the accepted ones.  A record over
1 MiB is left out, counted and reported.  Subclasses (the Go plugin
``kinesis``) change only :meth:`KinesisStreams.entries`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from shipper import jsonfmt
from shipper.aws import AwsSettings, classify
from shipper.events import Event
from shipper.options import Settings
from shipper.outputs.kinesis_firehose.request import TimeFormatter, encode_records
from shipper.outputs.kinesis_streams.options import OPTIONS
from shipper.outputs.kinesis_streams.records import Entry, KinesisRequests, RandomKeys, plan
from shipper.outputs.kinesis_streams.result import failed_positions, first_error
from shipper.outputs.kinesis_streams.transport import AwsPutRecords, PutRecordsTransport
from shipper.outputs.result import FlushResult
from shipper.plugin import Context, DryRunBatch, Output, Rendered
from shipper.registry import register

SKIPPED = "shipper_kinesis_skipped_records_total"
FAILED = "shipper_kinesis_failed_records_total"
REQUESTS = "shipper_kinesis_requests_total"

#: what a record becomes when Fluent Bit finds it empty (``{}``, or an empty ``log_key`` value): not sent.
_EMPTY = frozenset({b"{}\n", b"\n"})

#: records an output leaves out, as (event index, reason code); the codes are the keys of :data:`REFUSALS`.
Refused = list[tuple[int, str]]

REFUSALS = {
    "missing_log_key": "the record has no log_key value",
    "empty": "the record is empty (skipped, as Fluent Bit does)",
    "too_large": "the record is larger than Kinesis's 1 MiB record limit",
}


@register
class KinesisStreams(Output):
    name = "kinesis_streams"
    summary = "send records to Amazon Kinesis Data Streams (PutRecords)"
    options = OPTIONS

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        self.stream: str = settings["stream"]
        self.log_key: str | None = settings.get("log_key") or None
        self.time_key: str | None = settings.get("time_key") or None
        if self.log_key and self.time_key:
            self.log.warning("time_key is ignored because log_key sends only one value (as in Fluent Bit)")
        self.time_format = TimeFormatter(settings["time_key_format"]) if self.time_key else None
        self.partition_keys = RandomKeys()
        self.aws = self.aws_settings(settings, self.workers + 1)
        self.transport: PutRecordsTransport | None = None

    def aws_settings(self, settings: Settings, max_connections: int) -> AwsSettings:
        return AwsSettings.from_settings(settings, max_connections=max_connections)

    async def start(self) -> None:
        if self.transport is None:  # unit tests put a fake in first
            self.transport = AwsPutRecords(self.aws)
        await self.transport.open()

    async def stop(self) -> None:
        if self.transport is not None:
            await self.transport.close()

    # -- encoding ----------------------------------------------------------------
    def entries(self, tag: str, events: list[Event], refused: Refused) -> Iterator[tuple[Entry, list[int]]]:
        """Each record to send and the input events it carries; what is left out goes in ``refused``."""
        for index, data in enumerate(encode_records(events, self.log_key, self.time_key, self.time_format)):
            if data is None:
                refused.append((index, "missing_log_key"))
            elif data in _EMPTY:
                refused.append((index, "empty"))
            else:
                yield Entry(data, self.partition_keys()), [index]

    def _plan(self, tag: str, events: list[Event]) -> tuple[KinesisRequests, Refused]:
        refused: Refused = []
        planned = plan(list(self.entries(tag, events, refused)))
        refused.extend((index, "too_large") for index in planned.too_large)
        return planned, refused

    def _account(self, refused: Refused, result: FlushResult) -> None:
        """Count what was left out; all but empty records are drops."""
        for reason, amount in Counter(reason for _, reason in refused).items():
            self.count(SKIPPED, amount, reason=reason)
            if reason != "empty":
                result.add_dropped(f"{reason}: {REFUSALS[reason]}", amount)

    # -- dry run -------------------------------------------------------------------
    def dry_run(self, tag: str, events: list[Event]) -> DryRunBatch:
        """Each record as sent, with stream and partition key; a left-out record as the record's JSON."""
        planned, refused = self._plan(tag, events)
        items = [
            Rendered({"stream": self.stream, "partition_key": entry.partition_key}, self.shown(entry, index, events), events[index][0])
            for batch in planned.batches
            for entry, group in zip(batch.entries, batch.events, strict=True)
            for index in group
        ]
        items += [
            Rendered({"stream": self.stream}, jsonfmt.dumps_str(events[index][1]), events[index][0], refused=reason)
            for index, reason in refused
        ]
        return DryRunBatch(items, len(planned.batches), REFUSALS)

    def shown(self, entry: Entry, index: int, events: list[Event]) -> str:
        """What dry-run shows for event ``index`` sent in ``entry``: here the record's data itself."""
        return entry.data.decode("utf-8")

    # -- delivery ------------------------------------------------------------------
    async def flush(self, tag: str, events: list[Event]) -> FlushResult:
        assert self.transport is not None, "flush before start"
        result = FlushResult()
        planned, refused = self._plan(tag, events)
        self._account(refused, result)
        for position, batch in enumerate(planned.batches):
            try:
                response = await self.transport.put_records(self.stream, batch.body(self.stream))
                self.count(REQUESTS)
                failed = failed_positions(response, len(batch.entries))
            except Exception as exc:  # classified: this request and the later ones share the fate
                rest = [events[i] for later in planned.batches[position:] for group in later.events for i in group]
                result.add_error(classify(exc, f"PutRecords {self.stream}"), rest)
                break
            if failed:
                self.count(FAILED, len(failed))
                result.add_retry(
                    [events[i] for p in failed for i in batch.events[p]],
                    f"PutRecords {self.stream}: {len(failed)} of {len(batch.entries)} records failed ({first_error(response)})",
                )
        return result

