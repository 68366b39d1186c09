"""Plugin registry: maps (kind, name or alias) to the plugin class.

Plugin modules under ``shipper.inputs``, ``shipper.filters`` and
``shipper.outputs`` register themselves with :func:`register`; they are all
imported on demand, so adding a plugin means adding one module.  A lookup
first imports only the module named like the plugin (``shipper/outputs/null.py``
for ``null``), which keeps start-up from paying for the AWS SDK when a
pipeline does not use it; aliases and listings import everything.
Fluent Bit plugins shipper does not implement are named in
:data:`KNOWN_UNSUPPORTED` so a config using one gets "unsupported", not
"unknown".
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TypeVar

from shipper.plugin import Plugin

P = TypeVar("P", bound=type[Plugin])

_PLUGINS: dict[tuple[str, str], type[Plugin]] = {}
_loaded = False

PLUGIN_PACKAGES = ("shipper.inputs", "shipper.filters", "shipper.outputs")

KNOWN_UNSUPPORTED: dict[str, frozenset[str]] = {
    "input": frozenset(
        "cpu mem disk netif proc thermal kmsg syslog tcp udp forward http mqtt serial exec "
        "exec_wasi fluentbit_metrics prometheus_scrape node_exporter_metrics windows_exporter_metrics "
        "winlog winevtlog docker docker_events health head collectd statsd opentelemetry random "
        "kubernetes_events nginx_metrics process_exporter_metrics elasticsearch splunk podman_metrics "
        "event_type blob ebpf".split()
    ),
    "filter": frozenset(
        "lua wasm expect geoip2 checklist ecs sysinfo nightfall tensorflow type_converter stdout "
        "alter_size log_to_metrics record_modifier_wasm".split()
    ),
    "output": frozenset(
        "http forward kafka loki splunk datadog es_legacy elasticsearch "
        "influxdb azure azure_blob azure_kusto azure_logs_ingestion bigquery stackdriver gelf "
        "logdna nrlogs new_relic opentelemetry prometheus_exporter prometheus_remote_write pgsql "
        "skywalking slack syslog tcp udp websocket plot flowcounter td chronicle oracle_log_analytics "
        "vivo_exporter".split()
    ),
}


def register(cls: P) -> P:
    """Class decorator: make a plugin findable by its name and aliases."""
    for name in (cls.name, *cls.aliases):
        key = (cls.kind, name.lower())
        if key in _PLUGINS and _PLUGINS[key] is not cls:
            raise RuntimeError(f"{cls.kind} plugin {name!r} registered twice")
        _PLUGINS[key] = cls
    return cls


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for package_name in PLUGIN_PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.walk_packages(package.__path__, package_name + "."):
            importlib.import_module(module.name)


def _load_named(kind: str, name: str) -> None:
    module = name.replace("-", "_").replace(".", "_")
    if not module.isidentifier():
        return
    try:
        importlib.import_module(f"shipper.{kind}s.{module}")
    except ModuleNotFoundError as exc:
        if exc.name is None or not exc.name.startswith(f"shipper.{kind}s.{module}"):
            raise


def lookup(kind: str, name: str) -> type[Plugin] | None:
    """The plugin class for a kind and a name or alias (case-insensitive)."""
    key = (kind, name.lower())
    if key not in _PLUGINS:
        _load_named(kind, key[1])
    if key not in _PLUGINS:
        _load_all()
    return _PLUGINS.get(key)


def plugins(kind: str | None = None) -> list[type[Plugin]]:
    """Every registered plugin class (each once, aliases folded), sorted by kind and name."""
    _load_all()
    unique = {cls for (k, _), cls in _PLUGINS.items() if kind is None or k == kind}
    return sorted(unique, key=lambda c: (c.kind, c.name))


def names(kind: str) -> list[str]:
    """Every name and alias of a kind, for "did you mean" hints."""
    _load_all()
    return sorted(n for (k, n) in _PLUGINS if k == kind)
