"""Prometheus text exposition (format 0.0.4) for ``/api/v1`` and ``/api/v2/metrics/prometheus``.

Rendering goes through prometheus-client's ``generate_latest`` so the text is
exactly what Prometheus parsers expect; we only assemble metric families.

- v1 mirrors Fluent Bit's ``/api/v1/metrics/prometheus``: one
  ``fluentbit_<kind>_<key>_total{name="..."}`` counter per key of the v1 JSON
  (so ``fluentbit_filter_drop_records_total``), sample timestamps in
  milliseconds, ``process_start_time_seconds`` and ``fluentbit_build_info``.
- v2 mirrors the cmetrics names: every ``fluentbit_*`` counter and gauge in
  :class:`~shipper.metrics.Metrics` (zero-valued series for every configured
  instance of the well-known families), ``fluentbit_uptime``,
  ``fluentbit_process_start_time_seconds``, ``fluentbit_build_info`` and
  ``fluentbit_hot_reloaded_times`` with a ``hostname`` label.
- Both also carry shipper's own metrics (``shipper_*``): counters, gauges and
  histograms such as the per-output delivery latency.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Iterator

from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric

from shipper import __version__
from shipper.metrics import Histogram, Metrics
from shipper.monitoring.views import CANONICAL_NAMES, KINDS, V1_KEYS, reload_count

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: v2 counter families every configured instance of a kind gets, even at zero.
V2_FAMILIES: dict[str, tuple[str, ...]] = {
    "input": ("fluentbit_input_records_total", "fluentbit_input_bytes_total"),
    "filter": (
        "fluentbit_filter_records_total",
        "fluentbit_filter_bytes_total",
        "fluentbit_filter_added_records_total",
        "fluentbit_filter_dropped_records_total",
    ),
    "output": tuple(metric for _, metric in V1_KEYS["output"]),
}

#: metrics the v2 endpoint renders itself (with a hostname label), not from the store.
V2_PROCESS_METRICS = frozenset(
    {"fluentbit_uptime", "fluentbit_process_start_time_seconds", "fluentbit_build_info", "fluentbit_hot_reloaded_times"}
)

HELP = {
    "fluentbit_input_records_total": "Number of input records.",
    "fluentbit_input_bytes_total": "Number of input bytes.",
    "fluentbit_input_files_opened_total": "Number of files opened by the input.",
    "fluentbit_input_files_closed_total": "Number of files closed by the input.",
    "fluentbit_input_files_rotated_total": "Number of files rotated, as seen by the input.",
    "fluentbit_filter_records_total": "Number of records that went through the filter.",
    "fluentbit_filter_bytes_total": "Number of bytes that went through the filter.",
    "fluentbit_filter_added_records_total": "Number of records added by the filter.",
    "fluentbit_filter_dropped_records_total": "Number of records dropped by the filter.",
    "fluentbit_filter_add_records_total": "Number of records added by the filter.",
    "fluentbit_filter_drop_records_total": "Number of records dropped by the filter.",
    "shipper_output_delivery_latency_seconds": "Seconds from a record being read to its acknowledgement, per output.",
    "shipper_output_flush_seconds_total": "Seconds spent in successful flushes, per output.",
    "shipper_output_dropped_records_total": "Records an output dropped for good, by reason.",
    "shipper_input_buffered_bytes": "Source bytes read by the input and not yet acknowledged.",
    "shipper_output_buffered_records": "Records queued for the output and not yet delivered.",
    "shipper_output_buffered_bytes": "Bytes queued for the output and not yet delivered.",
    "shipper_oldest_unacked_age_seconds": "Age of the oldest record read by the input and not yet acknowledged.",
    "shipper_tail_files": "Files the tail input is currently following.",
    "shipper_tail_long_lines_skipped_total": "Lines longer than Buffer_Max_Size skipped by tail.",
    "shipper_records_dropped_total": "Records dropped, by reason.",
    "shipper_input_paused_total": "Times the input paused for Mem_Buf_Limit (backpressure).",
    "shipper_input_paused_seconds_total": "Seconds the input spent paused for Mem_Buf_Limit.",
    "shipper_reloads_total": "Configuration reloads, by result (applied or rejected).",
    "fluentbit_output_proc_records_total": "Number of processed output records.",
    "fluentbit_output_proc_bytes_total": "Number of processed output bytes.",
    "fluentbit_output_errors_total": "Number of output errors (chunks that failed a flush).",
    "fluentbit_output_retries_total": "Number of output retries.",
    "fluentbit_output_retries_failed_total": "Number of output retries that expired (chunks given up).",
    "fluentbit_output_dropped_records_total": "Number of records dropped by the output.",
    "fluentbit_output_retried_records_total": "Number of output records that were retried.",
}


def _help(name: str) -> str:
    return HELP.get(name) or f"{name.replace('_', ' ')}."


def _counter(name: str) -> Metric:
    # prometheus-client appends "_total" to a counter family's name; samples carry the full name.
    return Metric(name.removesuffix("_total"), _help(name), "counter")


def _sample_name(family: Metric, name: str) -> str:
    return family.name + "_total" if family.type == "counter" else name


def _histogram_family(name: str, series: list[tuple[dict[str, str], Histogram]]) -> Metric:
    family = Metric(name, _help(name), "histogram")
    for labels, histogram in sorted(series, key=lambda item: sorted(item[0].items())):
        cumulative = 0
        for bound, count in zip((*histogram.bounds, float("inf")), histogram.counts, strict=True):
            cumulative += count
            family.add_sample(f"{name}_bucket", {**labels, "le": _le(bound)}, cumulative)
        family.add_sample(f"{name}_sum", labels, histogram.sum)
        family.add_sample(f"{name}_count", labels, histogram.count)
    return family


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


class _Families:
    """A ready-made list of families in the shape ``generate_latest`` collects from."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = sorted(families, key=lambda family: family.name)

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


def _store_families(metrics: Metrics, include: str, exclude: frozenset[str] = frozenset()) -> dict[str, Metric]:
    """Families for every counter/gauge/histogram in the store whose name starts with ``include``."""
    families: dict[str, Metric] = {}
    for kind, rows in (("counter", metrics.counters()), ("gauge", metrics.gauges())):
        for stored, labels, value in rows:
            name = CANONICAL_NAMES.get(stored, stored)
            if not name.startswith(include) or name in exclude:
                continue
            family = families.get(name)
            if family is None:
                family = families[name] = _counter(name) if kind == "counter" else Metric(name, _help(name), "gauge")
            family.add_sample(_sample_name(family, name), labels, value)
    grouped: dict[str, list[tuple[dict[str, str], Histogram]]] = {}
    for name, labels, histogram in metrics.histograms():
        if name.startswith(include):
            grouped.setdefault(name, []).append((labels, histogram))
    for name, series in grouped.items():
        families[name] = _histogram_family(name, series)
    return families


def render_v1(body: dict[str, dict[str, dict[str, int]]], metrics: Metrics, start_time: float, now: float) -> bytes:
    """Fluent Bit's ``/api/v1/metrics/prometheus`` from the ``/api/v1/metrics`` body, plus ``shipper_*``."""
    families: dict[str, Metric] = {}
    for kind in KINDS:
        for instance, values in body.get(kind, {}).items():
            for key, value in values.items():
                name = f"fluentbit_{kind}_{key}_total"
                family = families.get(name)
                if family is None:
                    family = families[name] = _counter(name)
                family.add_sample(name, {"name": instance}, value, timestamp=now)
    start = Metric("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge")
    start.add_sample("process_start_time_seconds", {}, int(start_time))
    build = Metric("fluentbit_build_info", "Build version information.", "gauge")
    build.add_sample("fluentbit_build_info", {"version": __version__, "edition": "shipper"}, 1)
    extra = _store_families(metrics, "shipper_")
    return generate_latest(_Families([*families.values(), start, build, *extra.values()]))


def render_v2(
    metrics: Metrics, names: dict[str, list[str]], start_time: float, now: float, hostname: str
) -> bytes:
    """The cmetrics-style ``/api/v2/metrics/prometheus``, plus ``shipper_*``."""
    families = _store_families(metrics, "fluentbit_", exclude=V2_PROCESS_METRICS)
    for kind, family_names in V2_FAMILIES.items():
        for name in family_names:
            family = families.get(name)
            if family is None:
                family = families[name] = _counter(name)
            present = {sample.labels.get("name") for sample in family.samples}
            for instance in names[kind]:
                if instance not in present:
                    family.add_sample(name, {"name": instance}, 0)
    host = {"hostname": hostname}
    process = [
        ("fluentbit_uptime", "Number of seconds that shipper has been running.", int(now - start_time), host),
        ("fluentbit_process_start_time_seconds", "Seconds since the epoch when shipper started.", int(start_time), host),
        (
            "fluentbit_build_info",
            "Build version information.",
            int(start_time),
            {**host, "version": __version__, "os": platform.system().lower()},
        ),
        ("fluentbit_hot_reloaded_times", "Number of hot reloads.", reload_count(metrics), host),
    ]
    for name, text, value, labels in process:
        family = families[name] = Metric(name, text, "gauge")
        family.add_sample(name, labels, value)
    families.update(_store_families(metrics, "shipper_"))
    return generate_latest(_Families(families.values()))
