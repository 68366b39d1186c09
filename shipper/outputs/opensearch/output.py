"""``opensearch`` output (alias ``es``): the ``_bulk`` API, with SigV4 for Amazon OpenSearch.

Records become bulk action + document lines exactly as Fluent Bit writes
them (:mod:`shipper.outputs.opensearch.request`), cut into requests of at most
``Max_Request_Size`` bytes, and sent over one keep-alive pool
(:mod:`shipper.outputs.opensearch.transport`).  Results are judged per item
(:mod:`shipper.outputs.opensearch.result`): throttled and 5xx items are
retried alone, a 409 on ``create`` means "already stored", other rejected
items are counted, reported once per reason and never retried.
"""

from __future__ import annotations

import sys

import aiohttp
from botocore.exceptions import BotoCoreError, ClientError

from shipper.aws import AwsSettings
from shipper.errors import ConfigError
from shipper.events import Event
from shipper.options import Settings, parse_size
from shipper.outputs.opensearch.index import IndexNamer
from shipper.outputs.opensearch.options import OPTIONS
from shipper.outputs.opensearch.request import BulkEncoder, BulkItem, body_of, split_requests
from shipper.outputs.opensearch.result import BadResponse, is_retryable_status, parse_bulk_response
from shipper.outputs.opensearch.transport import BulkTransport, OpenSearchTransport, SigV4Signer, TlsSettings
from shipper.outputs.result import FlushResult
from shipper.plugin import Context, DryRunBatch, Output, Rendered
from shipper.reasonlog import ReasonLog
from shipper.registry import register

#: OpenSearch's default ``http.max_content_length``: a bigger document is sent
#: alone and answered 413, so it can never be indexed.
MAX_CONTENT_LENGTH = 100 * 1024 * 1024
#: why dry-run marks a document as refused, by reason code.
REFUSALS = {"too_large": "larger than OpenSearch's default http.max_content_length (100 MiB)"}
#: whole-request statuses worth retrying besides 429/5xx: timeouts and (refreshable) auth failures.
_RETRY_REQUEST_STATUSES = frozenset({401, 403, 408})
_TRACE_LIMIT = 4000

ITEM_ERRORS = "shipper_opensearch_item_errors_total"
#: documents that already existed (409): delivered by an earlier attempt.
CONFLICTS = "shipper_opensearch_conflicts_total"


def _buffer_size(text: str) -> int | None:
    """``Buffer_Size``: a size, or ``false`` for unlimited (Fluent Bit's spelling)."""
    return None if text.strip().lower() in ("false", "off", "0") else parse_size(text)


@register
class OpenSearchOutput(Output):
    name = "opensearch"
    aliases = ("es",)
    summary = "index records into OpenSearch / Amazon OpenSearch Service (bulk API, SigV4)"
    options = OPTIONS

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        self.max_request_size: int = settings["max_request_size"]
        if self.max_request_size < 1024:
            raise ConfigError("max_request_size must be at least 1k", settings.where("max_request_size"))
        try:
            _buffer_size(settings["buffer_size"])
        except ValueError as exc:
            raise ConfigError(f"buffer_size: {exc}", settings.where("buffer_size")) from None
        write_op = settings["write_operation"].lower()
        if write_op in ("update", "upsert") and not (settings.get("id_key") or settings["generate_id"]):
            raise ConfigError(
                "Write_Operation update/upsert needs Id_Key or Generate_ID", settings.where("write_operation")
            )
        if settings.get("id_key") and settings["generate_id"]:
            self.log.warning("Generate_ID is ignored because Id_Key is set (as in Fluent Bit)")
        try:
            namer = IndexNamer(
                index=settings["index"],
                logstash_format=settings["logstash_format"],
                logstash_prefix=settings["logstash_prefix"],
                logstash_prefix_separator=settings["logstash_prefix_separator"],
                logstash_prefix_key=settings.get("logstash_prefix_key"),
                logstash_dateformat=settings["logstash_dateformat"],
                current_time_index=settings["current_time_index"],
            )
            self.encoder = BulkEncoder(
                namer=namer,
                write_operation=write_op,
                type_name=None if settings["suppress_type_name"] else settings["type"],
                time_key=settings["time_key"],
                time_key_format=settings["time_key_format"],
                time_key_nanos=settings["time_key_nanos"],
                tag_key=settings["tag_key"] if settings["include_tag_key"] else None,
                replace_dots=settings["replace_dots"],
                generate_id=settings["generate_id"],
                id_key=settings.get("id_key"),
            )
        except ValueError as exc:
            raise ConfigError(str(exc), settings.location) from None
        self.signer_settings = self._aws_settings(settings)
        self.url = self._bulk_url(settings)
        self.transport: OpenSearchTransport | None = None
        self.reasons = ReasonLog(self.log)
        self._missing_ids_reported = 0

    # -- configuration ---------------------------------------------------------
    def _aws_settings(self, settings: Settings) -> AwsSettings | None:
        if not settings["aws_auth"]:
            return None
        if not settings.get("aws_region"):
            raise ConfigError("AWS_Auth is on but AWS_Region is not set", settings.where("aws_auth"))
        aws = AwsSettings(
            region=settings["aws_region"],
            profile=settings.get("aws_profile") or None,
            role_arn=settings.get("aws_role_arn") or None,
            external_id=settings.get("aws_external_id"),
            sts_endpoint=settings.get("aws_sts_endpoint") or None,
            connect_timeout=settings["net.connect_timeout"],
            read_timeout=settings["net.read_timeout"],
            verify=settings.get("tls.ca_file") or settings["tls.verify"],
        )
        aws.validate(settings, prefix="aws_")
        return aws

    @staticmethod
    def _bulk_url(settings: Settings) -> str:
        host = settings["host"].strip()
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        scheme = "https" if settings["tls"] else "http"
        path = settings["path"].rstrip("/")
        if path and not path.startswith("/"):
            path = "/" + path
        # Fluent Bit's exact URIs: "<path>/_bulk" or "<path>/_bulk/?pipeline=<name>".
        uri = f"{path}/_bulk/?pipeline={settings['pipeline']}" if settings.get("pipeline") else f"{path}/_bulk"
        return f"{scheme}://{host}:{settings['port']}{uri}"

    # -- lifecycle -------------------------------------------------------------
    async def start(self) -> None:
        if self.transport is None:  # unit tests put a fake in first
            self.transport = self._http_transport()
        await self.transport.open()

    def _http_transport(self) -> BulkTransport:
        s = self.settings
        user = s.get("http_user")
        return BulkTransport(
            url=self.url,
            tls=TlsSettings(
                enabled=s["tls"],
                verify=s["tls.verify"],
                ca_file=s.get("tls.ca_file"),
                ca_path=s.get("tls.ca_path"),
                crt_file=s.get("tls.crt_file"),
                key_file=s.get("tls.key_file"),
                key_passwd=s.get("tls.key_passwd"),
                vhost=s.get("tls.vhost"),
            ),
            gzip=(s.get("compress") or "").lower() == "gzip",
            basic_auth=(user, s["http_passwd"]) if user else None,
            signer=SigV4Signer(self.signer_settings, s["aws_service_name"]) if self.signer_settings else None,
            connect_timeout=s["net.connect_timeout"],
            read_timeout=s["net.read_timeout"],
            keepalive=s["net.keepalive"],
            keepalive_idle_timeout=s["net.keepalive_idle_timeout"],
            max_connections=max(2, self.workers + 1),
        )

    async def stop(self) -> None:
        if self.transport is not None:
            await self.transport.close()

    # -- delivery --------------------------------------------------------------
    async def flush(self, tag: str, events: list[Event]) -> FlushResult:
        items = self.encoder.encode(tag, events)
        self._report_missing_ids()
        result = FlushResult()
        batches = list(split_requests(items, self.max_request_size))
        for position, batch in enumerate(batches):
            try:
                result.merge(await self._send(batch))
            except (TimeoutError, aiohttp.ClientError, OSError, BotoCoreError, ClientError) as exc:
                # Unreachable, or no credentials to sign with: retry this whole batch (once, even if
                # a 413 split had already sent part of it) and every batch not sent yet.
                rest = [item.event for later in batches[position:] for item in later]
                result.add_retry(rest, f"{type(exc).__name__}: {exc}")
                break
        return result

    async def _send(self, batch: list[BulkItem]) -> FlushResult:
        """Send one request and judge its answer."""
        assert self.transport is not None, "flush before start"
        body = body_of(batch)
        if self.settings["trace_output"]:
            sys.stdout.buffer.write(body)
            sys.stdout.flush()
        status, payload = await self.transport.post(body)
        if status in (200, 201):
            return self._judge_items(batch, payload)
        self._trace_error(status, payload, body)
        if status == 413:
            return await self._too_large(batch)
        result = FlushResult()
        if is_retryable_status(status) or status in _RETRY_REQUEST_STATUSES:
            result.add_retry([item.event for item in batch], f"HTTP {status}: {payload[:200].decode(errors='replace')}")
        else:
            self._reject(batch, f"HTTP {status}: request rejected: {payload[:500]!r}", result)
        return result

    def _judge_items(self, batch: list[BulkItem], payload: bytes) -> FlushResult:
        result = FlushResult()
        try:
            outcome = parse_bulk_response(payload, len(batch))
        except BadResponse as exc:
            result.add_retry([item.event for item in batch], f"unreadable bulk response ({exc})")
            return result
        if outcome.rejected:
            self._trace_error(200, payload, body_of(batch))
            self.count(ITEM_ERRORS, len(outcome.rejected), kind="rejected")
            for (index, error_type), count in outcome.reasons.items():
                result.add_dropped(f"{error_type}: documents rejected by index {index!r}", count)
                self.reasons.report(
                    (index, error_type), count,
                    f"index {index!r} rejects documents with {error_type}, for example: "
                    f"{outcome.examples[(index, error_type)]}",
                )
        if outcome.conflicts:
            self.count(CONFLICTS, outcome.conflicts)
        if outcome.retry:
            self.count(ITEM_ERRORS, len(outcome.retry), kind="retried")
            statuses = ", ".join(f"{n}x{status}" for status, n in sorted(outcome.retry_statuses.items()))
            result.add_retry([batch[i].event for i in outcome.retry], f"{len(outcome.retry)} items refused for now ({statuses})")
        return result

    async def _too_large(self, batch: list[BulkItem]) -> FlushResult:
        """413: the server's limit is below ours; halve the request, or drop a lone oversized document."""
        if len(batch) == 1:
            item = batch[0]
            result = FlushResult()
            self._reject(
                batch, f"too_large: a document of {item.size} bytes for index {item.index!r} "
                "exceeds the server's request size limit", result,
            )
            return result
        half = len(batch) // 2
        return (await self._send(batch[:half])).merge(await self._send(batch[half:]))

    def _reject(self, batch: list[BulkItem], reason: str, result: FlushResult) -> None:
        self.count(ITEM_ERRORS, len(batch), kind="rejected")
        result.add_dropped(reason, len(batch))

    def _trace_error(self, status: int, payload: bytes, body: bytes) -> None:
        if self.settings["trace_error"]:
            self.log.error(
                "HTTP %d; request (first %d bytes):\n%s\nresponse:\n%s",
                status, _TRACE_LIMIT, body[:_TRACE_LIMIT].decode(errors="replace"),
                payload[: _TRACE_LIMIT * 4].decode(errors="replace"),
            )

    def _report_missing_ids(self) -> None:
        missing = self.encoder.missing_ids - self._missing_ids_reported
        if missing:
            self._missing_ids_reported = self.encoder.missing_ids
            self.count("shipper_opensearch_missing_id_total", missing)
            self.reasons.report(
                ("id_key",), missing,
                f"{missing} records have no string value at Id_Key {self.settings['id_key']!r}; sent without _id",
            )

    def dry_run(self, tag: str, events: list[Event]) -> DryRunBatch:
        items = self.encoder.encode(tag, events)
        self._report_missing_ids()
        operation = self.encoder.operation
        rendered = []
        for item in items:
            destination = {"index": item.index, "operation": operation}
            if item.doc_id is not None:
                destination["id"] = item.doc_id
            refused = "too_large" if item.size > MAX_CONTENT_LENGTH else None
            rendered.append(Rendered(destination, item.document.decode().rstrip("\n"), item.event[0], refused))
        return DryRunBatch(rendered, sum(1 for _ in split_requests(items, self.max_request_size)), REFUSALS)
