"""The JSON bodies of Fluent Bit's v1 monitoring API, built from :class:`~shipper.metrics.Metrics`.

Plugins and the engine count under the ``fluentbit_*`` metric names (the
names ``/api/v2/metrics/prometheus`` shows); the v1 JSON uses Fluent Bit's
older short keys (``records``, ``proc_records``, ``retries_failed``...), so
:data:`V1_KEYS` maps one to the other.  Every configured instance appears,
with zeros when nothing was counted yet, because dashboards and alerts look
series up by instance name.
"""

from __future__ import annotations

import platform
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol

from shipper import __version__
from shipper.metrics import Metrics

KINDS = ("input", "filter", "output")

#: v1 JSON key -> metric name, per plugin kind, in Fluent Bit's key order.
V1_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "input": (
        ("records", "fluentbit_input_records_total"),
        ("bytes", "fluentbit_input_bytes_total"),
    ),
    "filter": (
        ("drop_records", "fluentbit_filter_dropped_records_total"),
        ("add_records", "fluentbit_filter_added_records_total"),
    ),
    "output": (
        ("proc_records", "fluentbit_output_proc_records_total"),
        ("proc_bytes", "fluentbit_output_proc_bytes_total"),
        ("errors", "fluentbit_output_errors_total"),
        ("retries", "fluentbit_output_retries_total"),
        ("retries_failed", "fluentbit_output_retries_failed_total"),
        ("dropped_records", "fluentbit_output_dropped_records_total"),
        ("retried_records", "fluentbit_output_retried_records_total"),
    ),
}

#: Fluent Bit's v1-style names some code may count under -> the cmetrics names used here.
CANONICAL_NAMES = {
    "fluentbit_filter_drop_records_total": "fluentbit_filter_dropped_records_total",
    "fluentbit_filter_add_records_total": "fluentbit_filter_added_records_total",
}

#: what the root endpoint lists under "flags": the Fluent Bit features shipper provides.
FEATURE_FLAGS = (
    "FLB_HAVE_METRICS",
    "FLB_HAVE_HTTP_SERVER",
    "FLB_HAVE_SQLDB",
    "FLB_HAVE_TLS",
    "FLB_HAVE_AWS",
    "FLB_HAVE_REGEX",
    "FLB_HAVE_PARSER",
    "FLB_HAVE_RECORD_ACCESSOR",
)


class PluginView(Protocol):
    """What the monitoring API reads of a plugin instance."""

    instance_name: str


class PipelineView(Protocol):
    """What the monitoring API reads of the running pipeline (``shipper.pipeline.Pipeline`` fits)."""

    @property
    def inputs(self) -> Sequence[PluginView]: ...

    @property
    def filters(self) -> Sequence[PluginView]: ...

    @property
    def outputs(self) -> Sequence[PluginView]: ...


def instance_names(pipeline: PipelineView | None) -> dict[str, list[str]]:
    """Configured instance names per kind, in config order."""
    if pipeline is None:
        return {kind: [] for kind in KINDS}
    return {
        "input": [p.instance_name for p in pipeline.inputs],
        "filter": [p.instance_name for p in pipeline.filters],
        "output": [p.instance_name for p in pipeline.outputs],
    }


def per_instance_totals(metrics: Metrics, prefix: str = "fluentbit_") -> dict[str, dict[str, float]]:
    """``{metric name: {instance: value}}`` for series with a ``name`` label, summed over other labels."""
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for name, labels, value in metrics.counters():
        instance = labels.get("name")
        if instance is not None and name.startswith(prefix):
            totals[CANONICAL_NAMES.get(name, name)][instance] += value
    return totals


def metrics_json(metrics: Metrics, names: dict[str, list[str]]) -> dict[str, dict[str, dict[str, int]]]:
    """``/api/v1/metrics``: ``{"input": {"tail.0": {"records": n, "bytes": n}}, "output": {...}}``.

    Besides Fluent Bit's fixed keys, any other ``fluentbit_<kind>_<key>_total``
    counter of an instance (tail's ``files_opened``, ``files_rotated``...) is
    listed under ``<key>``, as Fluent Bit lists its plugins' own counters.
    """
    totals = per_instance_totals(metrics)
    body: dict[str, dict[str, dict[str, int]]] = {}
    for kind in KINDS:
        if kind == "filter" and not names["filter"]:
            continue
        fixed = V1_KEYS[kind]
        known = {metric for _, metric in fixed}
        prefix, suffix = f"fluentbit_{kind}_", "_total"
        extra = sorted(m for m in totals if m.startswith(prefix) and m.endswith(suffix) and m not in known)
        section: dict[str, dict[str, int]] = {}
        for instance in names[kind]:
            entry = {key: int(totals.get(metric, {}).get(instance, 0)) for key, metric in fixed}
            for metric in extra:
                if instance in totals[metric]:
                    entry[metric[len(prefix) : -len(suffix)]] = int(totals[metric][instance])
            section[instance] = entry
        body[kind] = section
    return body


def reload_count(metrics: Metrics) -> int:
    """Hot reloads applied so far: the supervisor counts ``shipper_reloads_total{result="applied"}``."""
    return int(metrics.value("shipper_reloads_total", result="applied"))


def human_size(nbytes: float) -> str:
    """Fluent Bit's human-readable sizes in ``/api/v1/storage``: ``104b``, ``1.5K``, ``5.0M``."""
    units = ("b", "K", "M", "G", "T", "P")
    value = int(nbytes)
    if value < 1024:
        return f"{value}b"
    scaled, unit = value / 1024, 1
    while scaled >= 1024 and unit < len(units) - 1:
        scaled /= 1024
        unit += 1
    return f"{scaled:.1f}{units[unit]}"


def storage_json(metrics: Metrics, pipeline: PipelineView | None) -> dict[str, Any]:
    """``/api/v1/storage`` from the storage gauges the engine sets (Fluent Bit's v2 names)."""

    def gauge(metric: str, **labels: str) -> int:
        return int(metrics.value(metric, **labels))

    inputs: dict[str, Any] = {}
    for plugin in pipeline.inputs if pipeline is not None else ():
        name = plugin.instance_name
        settings = getattr(plugin, "settings", None)
        limit = (settings.get("mem_buf_limit") if settings is not None else None) or 0
        inputs[name] = {
            "status": {
                "overlimit": bool(gauge("fluentbit_input_storage_overlimit", name=name)),
                "mem_size": human_size(gauge("fluentbit_input_storage_memory_bytes", name=name)),
                "mem_limit": human_size(limit),
            },
            "chunks": {
                "total": gauge("fluentbit_input_storage_chunks", name=name),
                "up": gauge("fluentbit_input_storage_chunks_up", name=name),
                "down": gauge("fluentbit_input_storage_chunks_down", name=name),
                "busy": gauge("fluentbit_input_storage_chunks_busy", name=name),
                "busy_size": human_size(gauge("fluentbit_input_storage_chunks_busy_bytes", name=name)),
            },
        }
    return {
        "storage_layer": {
            "chunks": {
                "total_chunks": gauge("fluentbit_storage_chunks"),
                "mem_chunks": gauge("fluentbit_storage_mem_chunks"),
                "fs_chunks": gauge("fluentbit_storage_fs_chunks"),
                "fs_chunks_up": gauge("fluentbit_storage_fs_chunks_up"),
                "fs_chunks_down": gauge("fluentbit_storage_fs_chunks_down"),
            }
        },
        "input_chunks": inputs,
    }


def _plural(count: int, word: str) -> str:
    # Fluent Bit adds the "s" only above one ("0 day", "1 hour", "2 minutes").
    return f"{count} {word}{'s' if count > 1 else ''}"


def uptime_json(seconds: float) -> dict[str, Any]:
    """``/api/v1/uptime``: ``{"uptime_sec": n, "uptime_hr": "... running:  1 day, 2 hours, ..."}``."""
    total = max(0, int(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    human = (
        f"shipper has been running:  {_plural(days, 'day')}, {_plural(hours, 'hour')}, "
        f"{_plural(minutes, 'minute')} and {_plural(secs, 'second')}"
    )
    return {"uptime_sec": total, "uptime_hr": human}


def root_json() -> dict[str, Any]:
    """``/``: Fluent Bit's build-information shape, naming shipper as the edition."""
    return {
        "fluent-bit": {"version": __version__, "edition": "shipper", "flags": list(FEATURE_FLAGS)},
        "shipper": {"version": __version__, "python": platform.python_version()},
    }
