"""``cloudwatch_logs`` output: PutLogEvents with Fluent Bit's options.

Each record becomes one log event whose message is the record as Fluent Bit's
compact JSON, or the raw value of ``log_key``.  Records are routed to a log
group and stream (``log_stream_name``, ``log_stream_prefix`` + tag, or the
``log_group_template``/``log_stream_template`` record accessors, which fall back
to the plain names), then cut into valid requests by
:mod:`shipper.outputs.cloudwatch_logs.request`.

Streams (and groups, with ``auto_create_group``) are created on first use by
:mod:`shipper.outputs.cloudwatch_logs.streams`.  A PutLogEvents that finds its
stream gone re-creates it and retries once.  Different streams are sent
concurrently (bounded); requests of one stream go in time order.  Sequence
tokens are not used (the API ignores them).  Failures are classified by
:mod:`shipper.aws.errors`; only the events of requests that failed retryably
go back to the engine.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter, defaultdict

from shipper.accessor import Template, compile_template
from shipper.aws import AwsSettings, classify, error_code
from shipper.errors import ConfigError, RetryableError
from shipper.events import Event
from shipper.options import Settings
from shipper.outputs.cloudwatch_logs.options import OPTIONS
from shipper.outputs.cloudwatch_logs.request import REFUSALS, PutLogEventsRequest, StreamRequests, encode_messages, plan
from shipper.outputs.cloudwatch_logs.result import check_answer, rejected_events
from shipper.outputs.cloudwatch_logs.streams import Destination, NewGroups, Streams
from shipper.outputs.cloudwatch_logs.transport import AwsLogs, LogsTransport
from shipper.outputs.result import REJECTED as RESULT_REJECTED, FlushResult
from shipper.plugin import Context, DryRunBatch, Output, Rendered
from shipper.reasonlog import ReasonLog
from shipper.registry import register

#: retention values CloudWatch Logs accepts (PutRetentionPolicy).
RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)
#: streams sent to at the same time, per worker (the connection pool is sized to match).
MAX_PARALLEL_STREAMS = 8
_GROUP_NAME_RE = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")

SKIPPED = "shipper_cloudwatch_skipped_events_total"
TRUNCATED = "shipper_cloudwatch_truncated_events_total"
REJECTED = "shipper_cloudwatch_rejected_events_total"
REQUESTS = "shipper_cloudwatch_requests_total"
FALLBACKS = "shipper_cloudwatch_template_fallbacks_total"



@register
class CloudWatchLogs(Output):
    name = "cloudwatch_logs"
    summary = "send records to Amazon CloudWatch Logs (PutLogEvents)"
    options = OPTIONS

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        stream_name = settings.get("log_stream_name")
        prefix = settings.get("log_stream_prefix")
        if stream_name and prefix is not None:
            raise ConfigError("set either log_stream_name or log_stream_prefix, not both", settings.where("log_stream_prefix"))
        if not stream_name and prefix is None:
            raise ConfigError("log_stream_name or log_stream_prefix is required", settings.location)
        self.check_names(settings)
        self.group_name: str = settings["log_group_name"]
        self.stream_name: str | None = stream_name
        self.stream_prefix: str = prefix or ""
        self.retention_days: int = settings["log_retention_days"]
        #: tags given to the groups this output creates (the Go plugin's ``new_log_group_tags``).
        self.group_tags: dict[str, str] = {}
        #: False (the Go plugin's ``auto_create_stream false``): never create streams, retry while one is missing.
        self.create_streams = True
        log_format = settings.get("log_format")
        if log_format and log_format.lower() != "json/emf":
            raise ConfigError(f"log_format {log_format!r}: only json/emf is supported", settings.where("log_format"))
        self.headers = {"x-amzn-logs-format": "json/emf"} if log_format else {}
        self.group_class: str | None = settings["log_group_class"].upper() if settings.get("log_group_class") else None
        self.auto_create_group: bool = settings["auto_create_group"]
        self.log_key: str | None = settings.get("log_key") or None
        self.group_template: Template | None = self._template("log_group_template")
        self.stream_template: Template | None = self._template("log_stream_template")
        self.aws = AwsSettings.from_settings(
            settings, user_agent_extra=settings.get("extra_user_agent"), max_connections=MAX_PARALLEL_STREAMS * self.workers
        )
        self.transport: LogsTransport | None = None
        self.streams: Streams | None = None
        self._parallel: asyncio.Semaphore | None = None
        self._reasons = ReasonLog(self.log)

    def check_names(self, settings: Settings) -> None:
        """Refuse group/stream names and a retention CloudWatch would refuse, with the option's line."""
        group = settings["log_group_name"]
        if not _GROUP_NAME_RE.match(group) and "$" not in group:
            raise ConfigError(f"log_group_name {group!r}: 1-512 of letters, digits and . - _ / #", settings.where("log_group_name"))
        stream = settings.get("log_stream_name")
        if stream and (":" in stream or "*" in stream):
            raise ConfigError("log_stream_name may not contain ':' or '*'", settings.where("log_stream_name"))
        retention = settings["log_retention_days"]
        if retention and retention not in RETENTION_DAYS:
            raise ConfigError(
                f"log_retention_days {retention} is not a value CloudWatch accepts: {', '.join(map(str, sorted(RETENTION_DAYS)))}",
                settings.where("log_retention_days"),
            )

    def messages(self, events: list[Event]) -> list[str | None]:
        """The message of each event (None: it has no ``log_key``); see :func:`encode_messages`."""
        return encode_messages(events, self.log_key)

    def _template(self, key: str) -> Template | None:
        text = self.settings.get(key)
        if not text:
            return None
        return compile_template(text)

    # -- lifecycle -------------------------------------------------------------
    async def start(self) -> None:
        if self.transport is None:  # unit tests put a fake in first
            self.transport = AwsLogs(self.aws)
        await self.transport.open()
        groups = NewGroups(self.auto_create_group, self.group_class, self.group_tags, self.retention_days)
        self.streams = Streams(self.transport, groups, self.log)
        self._parallel = asyncio.Semaphore(self.aws.max_connections)

    async def stop(self) -> None:
        if self.transport is not None:
            await self.transport.close()

    # -- routing ---------------------------------------------------------------
    def _fallback_stream(self, tag: str) -> str:
        return self.stream_name or self.stream_prefix + tag

    def route(self, tag: str, events: list[Event]) -> dict[Destination, list[Event]]:
        """Group and stream of every event; templates fall back to the plain names."""
        stream = self._fallback_stream(tag)
        if self.group_template is None and self.stream_template is None:
            return {(self.group_name, stream): events}
        routes: dict[Destination, list[Event]] = defaultdict(list)
        group_render = self.group_template.render_strict if self.group_template else None
        stream_render = self.stream_template.render_strict if self.stream_template else None
        fallbacks = 0
        for event in events:
            record = event[1]
            group = group_render(record, tag) if group_render else self.group_name
            name = stream_render(record, tag) if stream_render else stream
            if not group or not name:
                fallbacks += 1
                group = group or self.group_name
                name = name or stream
            routes[(group, name)].append(event)
        self.report_fallbacks(fallbacks)
        return routes

    def report_fallbacks(self, count: int) -> None:
        """Count (and warn, rate-limited) records whose name template lacked a value."""
        if count:
            self.count(FALLBACKS, count)
            self._reasons.report(
                ("template",), count, f"{count} records lacked a template value; sent to the fallback group/stream",
                level=logging.WARNING,
            )

    def _plans(self, tag: str, events: list[Event]) -> dict[Destination, tuple[list[Event], StreamRequests]]:
        now_ms = self.context.now_ns() // 1_000_000
        return {
            dest: (routed, plan(routed, self.messages(routed), now_ms, self.retention_days))
            for dest, routed in self.route(tag, events).items()
        }

    # -- dry run ---------------------------------------------------------------
    def dry_run(self, tag: str, events: list[Event]) -> DryRunBatch:
        items: list[Rendered] = []
        requests = 0
        for (group, stream), (routed, planned) in self._plans(tag, events).items():
            destination = {"log_group": group, "log_stream": stream}
            requests += len(planned.batches)
            for batch in planned.batches:
                items.extend(
                    Rendered(destination, message, routed[index][0]) for index, message in zip(batch.indexes, batch.messages, strict=True)
                )
            messages = self.messages([routed[index] for index, _ in planned.refused])
            items.extend(
                Rendered(destination, message or "", routed[index][0], refused=reason)
                for (index, reason), message in zip(planned.refused, messages, strict=True)
            )
        return DryRunBatch(items, requests, REFUSALS)

    # -- delivery --------------------------------------------------------------
    async def flush(self, tag: str, events: list[Event]) -> FlushResult:
        plans = self._plans(tag, events)
        result = FlushResult()
        for dest, (_, planned) in plans.items():
            self._account(dest, planned, result)
        ready = []
        for dest, (routed, planned) in plans.items():
            if not planned.batches:
                continue
            try:  # one at a time, in record order: new streams and groups are created as Fluent Bit does
                await self._ensure_stream(dest)
            except Exception as exc:
                result.add_error(classify(exc, f"CreateLogStream {dest[0]}/{dest[1]}"), _events_of(routed, planned.batches))
                continue
            ready.append(self._send(dest, routed, planned))
        for part in await asyncio.gather(*ready):
            result.merge(part)
        return result

    def _account(self, dest: Destination, planned: StreamRequests, result: FlushResult) -> None:
        """Drop (counted by the engine, per reason) what the batching left out; count what it truncated."""
        for reason, amount in Counter(reason for _, reason in planned.refused).items():
            self.count(SKIPPED, amount, reason=reason)
            if reason != "empty":  # empty messages are skipped, as Fluent Bit does, not lost
                result.add_dropped(f"{reason}: {REFUSALS[reason]}", amount)
        if planned.truncated:
            where = f"{dest[0]}/{dest[1]}"
            self.count(TRUNCATED, planned.truncated)
            broken = planned.truncated_json_broken
            note = f" ({broken} JSON messages cut as plain text: their strings were too short to make room)" if broken else ""
            self._reasons.report(
                ("truncated",), planned.truncated,
                f"{where}: {planned.truncated} events over CloudWatch's 1 MiB limit truncated{note}", level=logging.WARNING,
            )

    async def _send(self, dest: Destination, routed: list[Event], planned: StreamRequests) -> FlushResult:
        result = FlushResult()
        assert self._parallel is not None, "flush before start"
        async with self._parallel:
            for position, batch in enumerate(planned.batches):
                try:
                    await self._put(dest, batch.body(*dest), len(batch.indexes), result)
                except Exception as exc:  # classified: the rest of this stream's events share the fate
                    what = f"PutLogEvents {dest[0]}/{dest[1]}"
                    result.add_error(classify(exc, what), _events_of(routed, planned.batches[position:]))
                    break
        return result

    async def _put(self, dest: Destination, body: bytes, count: int, result: FlushResult) -> None:
        """PutLogEvents; a stream deleted behind our back is re-created and the call retried once."""
        transport = self._transport()
        try:
            answer = await transport.put_log_events(*dest, body, self.headers)
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            if not self.create_streams:
                raise RetryableError(f"log stream {dest[0]}/{dest[1]} does not exist and auto_create_stream is false") from exc
            assert self.streams is not None
            self.streams.forget(dest)
            await self._ensure_stream(dest)
            answer = await transport.put_log_events(*dest, body, self.headers)
        self.count(REQUESTS)
        rejected = rejected_events(check_answer(answer), count)
        if rejected:
            self.count(REJECTED, rejected)
            result.add_dropped(f"{RESULT_REJECTED}: CloudWatch refused events by time (rejectedLogEventsInfo)", rejected)

    def _transport(self) -> LogsTransport:
        assert self.transport is not None, "flush before start"
        return self.transport

    async def _ensure_stream(self, dest: Destination) -> None:
        assert self.streams is not None, "flush before start"
        if self.create_streams:
            await self.streams.ensure(dest)


def _events_of(routed: list[Event], batches: list[PutLogEventsRequest]) -> list[Event]:
    """The input events that ``batches`` carry."""
    return [routed[i] for batch in batches for i in batch.indexes]
