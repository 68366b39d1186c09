"""``cloudwatch``: the aws-for-fluent-bit Go plugin for CloudWatch Logs, on cloudwatch_logs' machinery.

Under this name aws-for-fluent-bit (and EKS on Fargate) loads the Go plugin
amazon-cloudwatch-logs-for-fluent-bit, whose options and templates differ
from the C plugin ``cloudwatch_logs``.  This class keeps the Go option table
and naming rules; batching, limits, group/stream creation and delivery are
:class:`~shipper.outputs.cloudwatch_logs.CloudWatchLogs`'.

Names (:class:`GoTemplate`): ``log_group_name`` and ``log_stream_name`` are
templates with ``$(...)`` placeholders: ``$(tag)``, ``$(tag[N])`` (N = 0-9,
the tag split at dots), ``$(key)`` and ``$(key['sub']['subsub'])`` (string
values), and ``$(uuid)`` (random, fixed for the life of the output).  When a
placeholder has no value the whole name falls back to
``default_log_group_name`` / ``default_log_stream_name``, counted in
``shipper_cloudwatch_template_fallbacks_total``.  As in the Go plugin, a
group name's characters outside ``A-Za-z0-9_-./`` and a stream name's ``:``
and ``*`` become ``.``, names are cut to 512 bytes, and
``log_stream_prefix`` + tag (not sanitised) replaces ``log_stream_name``.
``$(ecs_task_id)``, ``$(ecs_cluster)`` and ``$(ecs_task_arn)`` never have a
value here (ECS task metadata is not read), so they fall back as the Go
plugin does outside ECS.

Messages are Go JSON (:func:`~shipper.outputs.go_plugins.go_json`) or the
``log_key`` value (strings raw), with surrounding whitespace trimmed.
"""

from __future__ import annotations

import re
import secrets
import string
from collections import defaultdict
from typing import Any

from shipper.errors import ConfigError
from shipper.events import Event
from shipper.options import Option, Settings
from shipper.outputs.cloudwatch_logs import RETENTION_DAYS, CloudWatchLogs, Destination
from shipper.outputs.go_plugins import go_json, go_option_table, log_key_data
from shipper.plugin import Context
from shipper.registry import register

#: the Go plugin cuts rendered group and stream names to this many bytes.
MAX_NAME_BYTES = 512
DEFAULT_GROUP = "fluentbit-default"
DEFAULT_STREAM = "/fluentbit-default"
_PLACEHOLDER = re.compile(r"\$\((.*?)\)")
_SUBKEY = re.compile(r"\['(.*?)'\]")
_TAG_INDEX = re.compile(r"tag\[(\d)")
_GROUP_UNSAFE = re.compile(rb"[^-./0-9A-Z_a-z]")
_STREAM_UNSAFE = re.compile(rb"[:*]")
_UUID_ALPHABET = string.ascii_letters + string.digits


class GoTemplate:
    """A ``$(...)`` name template of the Go plugin; :meth:`render` gives None when a placeholder has no value."""

    def __init__(self, text: str, unsafe: re.Pattern[bytes], uuid: str) -> None:
        self.text = text
        self.unsafe = unsafe
        self.uuid = uuid
        self.parts: list[str | tuple[str, list[str]]] = []  # literal text, or (name, sub-keys)
        position = 0
        for match in _PLACEHOLDER.finditer(text):
            self.parts.append(text[position : match.start()])
            inner = match.group(1)
            bracket = inner.find("[")
            name = inner if bracket < 0 else inner[:bracket]
            self.parts.append((inner, [name, *_SUBKEY.findall(inner[bracket:])] if bracket >= 0 else [name]))
            position = match.end()
        self.parts.append(text[position:])
        self.static = None if any(isinstance(p, tuple) for p in self.parts) else self._finish(text)

    def _finish(self, text: str) -> str:
        data = self.unsafe.sub(b".", text.encode("utf-8"))[:MAX_NAME_BYTES]
        return data.decode("utf-8", "ignore")

    def _value(self, inner: str, keys: list[str], record: dict[str, Any], tag: str) -> str | None:
        if keys[0] == "tag":
            index = _TAG_INDEX.match(inner)
            if index is None:
                return tag
            parts = tag.split(".", 9)
            number = int(index.group(1))
            return parts[number] if number < len(parts) else None
        if inner == "uuid":
            return self.uuid
        if inner.startswith("ecs_"):
            return None
        value: Any = record
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return value if isinstance(value, str) else None

    def render(self, record: dict[str, Any], tag: str) -> str | None:
        """The name for one record, sanitised and cut; None when a value is missing (use the default)."""
        if self.static is not None:
            return self.static
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = self._value(*part, record, tag)
            if value is None:
                return None
            out.append(value)
        return self._finish("".join(out)) or None


def parse_group_tags(text: str | None) -> dict[str, str]:
    """``new_log_group_tags``: ``key=value,key2=value2``; spaces trimmed, empty keys ignored, last one wins."""
    tags: dict[str, str] = {}
    for item in (text or "").strip().split(","):
        key, _, value = item.partition("=")
        if key.strip():
            tags[key.strip()] = value.strip()
    return tags


@register
class CloudWatch(CloudWatchLogs):
    name = "cloudwatch"
    aliases = ()
    summary = "send records to Amazon CloudWatch Logs with the aws-for-fluent-bit Go plugin's options"
    options = go_option_table(
        Option("log_group_name", required=True, help="log group; a $(...) template"),
        Option("default_log_group_name", default=DEFAULT_GROUP, help="group used when a log_group_name placeholder has no value"),
        Option("log_stream_name", help="log stream; a $(...) template"),
        Option("default_log_stream_name", default=DEFAULT_STREAM, help="stream used when a log_stream_name placeholder has no value"),
        Option("log_stream_prefix", help="stream name = this prefix + the record's tag"),
        Option("log_key", help="send only this key's value (strings raw, other values as JSON)"),
        Option("log_format", help="json/emf marks events as Embedded Metric Format"),
        Option("auto_create_group", "bool", default="false", help="create missing log groups"),
        Option("auto_create_stream", "bool", default="true", help="create missing log streams; false retries while a stream is missing"),
        Option("new_log_group_tags", help="tags for groups this output creates: key=value,key2=value2"),
        Option("log_retention_days", "int", default=0, help="retention set on groups this output creates (0 = never expire)"),
        Option("external_id", help="external ID given when assuming role_arn"),
        Option("credentials_endpoint", help="HTTP endpoint serving credentials as JSON (AccessKeyId, SecretAccessKey, Token, Expiration)"),
        Option("extra_user_agent", help="text appended to the User-Agent"),
    )

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        self.create_streams = settings["auto_create_stream"]
        uuid = "".join(secrets.choice(_UUID_ALPHABET) for _ in range(27))
        self.group_template = GoTemplate(settings["log_group_name"], _GROUP_UNSAFE, uuid)  # type: ignore[assignment]
        self.stream_template = GoTemplate(settings.get("log_stream_name") or "", _STREAM_UNSAFE, uuid)  # type: ignore[assignment]
        self.default_group: str = settings["default_log_group_name"]
        self.default_stream: str = settings["default_log_stream_name"]
        self.group_tags = parse_group_tags(settings.get("new_log_group_tags"))

    def check_names(self, settings: Settings) -> None:
        """The Go plugin sanitises names instead of refusing them; only the retention value is checked."""
        retention = settings["log_retention_days"]
        if retention and retention not in RETENTION_DAYS:
            raise ConfigError(
                f"log_retention_days {retention} is not a value CloudWatch accepts: {', '.join(map(str, sorted(RETENTION_DAYS)))}",
                settings.where("log_retention_days"),
            )

    def messages(self, events: list[Event]) -> list[str | None]:
        """Go JSON or the ``log_key`` value, whitespace trimmed; None when the record has no ``log_key``."""
        out: list[str | None] = []
        for _, record in events:
            data = log_key_data(record, self.log_key) if self.log_key else go_json(record)
            out.append(None if data is None else data.decode("utf-8", "replace").strip())
        return out

    def route(self, tag: str, events: list[Event]) -> dict[Destination, list[Event]]:
        group_template, stream_template = self.group_template, self.stream_template
        assert isinstance(group_template, GoTemplate) and isinstance(stream_template, GoTemplate)
        prefixed = self.stream_prefix + tag if self.stream_prefix else None
        routes: dict[Destination, list[Event]] = defaultdict(list)
        fallbacks = 0
        for event in events:
            record = event[1]
            group = group_template.render(record, tag)
            stream = prefixed or stream_template.render(record, tag)
            if group is None or stream is None:
                fallbacks += 1
            routes[(group or self.default_group, stream or self.default_stream)].append(event)
        self.report_fallbacks(fallbacks)
        return routes
