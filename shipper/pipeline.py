"""Turn a read configuration into plugin instances, validating everything.

``shipper check``, ``run`` and ``dry-run`` all go through :func:`build`, so a
config that passes ``check`` is exactly one that ``run`` accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

from shipper import registry
from shipper.config.model import ConfigDocument, Section
from shipper.config.variables import conceal
from shipper.errors import ConfigError, ConfigErrors, Location
from shipper.metrics import Metrics
from shipper.multiline import build_multiline_parsers
from shipper.options import Option, Property, Settings, ignored_options, resolve, suggest
from shipper.parsers import build_parsers
from shipper.plugin import Context, DryRun, Filter, Input, Output, Plugin

SERVICE_OPTIONS = (
    Option("flush", "float", default=1.0, help="seconds between output flushes"),
    Option("grace", "duration", default="5", help="seconds to drain on SIGTERM"),
    Option("daemon", "bool", default="off", ignored=True, help="accepted for compatibility; shipper stays in the foreground"),
    Option("log_level", default="info", choices=("off", "error", "warn", "warning", "info", "debug", "trace")),
    Option("log_file", help="write shipper's own log here instead of stderr"),
    Option("log_format", default="text", choices=("text", "json"), help="shipper's own log format"),
    Option("parsers_file", repeatable=True, help="file of [PARSER]/[MULTILINE_PARSER] sections"),
    Option("plugins_file", ignored=True, help="accepted for compatibility; shipper has no external plugins"),
    Option("streams_file", ignored=True, help="accepted for compatibility; stream processing is not supported"),
    Option("http_server", "bool", default="off", help="serve the monitoring API"),
    Option("http_listen", default="0.0.0.0", help="monitoring API address"),
    Option("http_port", "int", default=2020, help="monitoring API port"),
    Option("health_check", "bool", default="off", help="enable /api/v1/health"),
    Option("http_tap", "bool", default="off", help="serve /api/v1/tap for `shipper tap`; off by default: it shows log contents"),
    Option("hc_errors_count", "int", default=5, help="unhealthy after this many output errors per period"),
    Option("hc_retry_failure_count", "int", default=5, help="unhealthy after this many failed retries per period"),
    Option("hc_period", "int", default=60, help="health check period in seconds"),
    Option("hot_reload", "bool", default="off", help="reload when the config files change"),
    Option("hot_reload.ensure_thread_safety", "bool", default="on", ignored=True, help="accepted for compatibility"),
    Option("storage.path", help="directory for filesystem buffering"),
    Option("storage.sync", default="normal", choices=("normal", "full")),
    Option("storage.checksum", "bool", default="off"),
    Option("storage.max_chunks_up", "int", default=128),
    Option("storage.backlog.mem_limit", "size", default="5M"),
    Option("storage.metrics", "bool", default="off"),
    Option("storage.delete_irrecoverable_chunks", "bool", default="off"),
    Option("scheduler.base", "float", default=5.0, help="base of the retry backoff, seconds"),
    Option("scheduler.cap", "float", default=2000.0, help="cap of the retry backoff, seconds"),
    Option("coro_stack_size", "size", ignored=True, help="accepted for compatibility"),
    Option("json.convert_nan_to_null", "bool", default="off", ignored=True, help="accepted for compatibility"),
    Option("dns.mode", ignored=True, help="accepted for compatibility"),
    Option("dns.resolver", ignored=True, help="accepted for compatibility"),
    Option("sp.convert_from_str_to_num", "bool", default="on", ignored=True, help="accepted for compatibility"),
)


@dataclass
class Pipeline:
    """A validated pipeline: plugin instances in config order, sharing one context."""

    context: Context
    inputs: list[Input]
    filters: list[Filter]
    outputs: list[Output]
    document: ConfigDocument


def service_settings(document: ConfigDocument, errors: list[ConfigError]) -> Settings:
    """Merge every ``[SERVICE]`` section (a later value wins, as in Fluent Bit)."""
    properties: list[Property] = []
    seen: dict[str, int] = {}
    table = {o.key: o for o in SERVICE_OPTIONS}
    for section in document.service:
        for prop in section.properties:
            key = prop.key.lower()
            option = table.get(key)
            if option is not None and not option.repeatable and key in seen:
                properties[seen[key]] = prop
                continue
            seen[key] = len(properties)
            properties.append(prop)
    location = document.service[0].location if document.service else Location(document.files[0] if document.files else "<config>")
    settings = resolve(SERVICE_OPTIONS, properties, location, "[SERVICE]", "service", errors)
    document.warnings.extend(ignored_options(SERVICE_OPTIONS, settings, "[SERVICE]"))
    return settings


def _instantiate(
    section: Section, kind: str, index: int, context: Context, errors: list[ConfigError], warnings: list[ConfigError]
) -> Plugin | None:
    name = section.plugin_name
    what = f"[{kind.upper()}]"
    if not name:
        errors.append(ConfigError(f"{what} section has no 'Name'", section.location))
        return None
    cls = registry.lookup(kind, name)
    if cls is None:
        if name in registry.KNOWN_UNSUPPORTED.get(kind, ()):
            message = f"{what} plugin {name!r} exists in Fluent Bit but shipper does not support it"
        else:
            message = f"{what} unknown plugin {name!r}{suggest(name, registry.names(kind))}"
        errors.append(ConfigError(message, section.where("name")))
        return None
    alias = section.get("alias")
    instance_name = alias.strip() if alias else f"{cls.name}.{index}"
    before = len(errors)
    settings = resolve(cls.option_table(), section.properties, section.location, f"{what} {name}", instance_name, errors)
    if len(errors) > before:
        return None
    warnings.extend(ignored_options(cls.option_table(), settings, f"{what} {name}"))
    try:
        return cls(settings, context)
    except ConfigErrors as exc:
        errors.extend(exc.errors)
    except ConfigError as exc:
        if exc.location is None:
            exc.location = section.location
        errors.append(exc)
    return None


def build(document: ConfigDocument, dry_run: DryRun | None = None, metrics: Metrics | None = None) -> Pipeline:
    """Validate a configuration and construct its plugins; raises ConfigErrors listing every problem."""
    errors: list[ConfigError] = list(document.errors)
    service = service_settings(document, errors)
    parsers = build_parsers(document.parsers, errors)
    multiline = build_multiline_parsers(document.multiline_parsers, parsers, errors)
    context = Context(
        service=service,
        metrics=metrics or Metrics(),
        parsers=parsers,
        multiline_parsers=multiline,
        variables=document.variables,
        dry_run=dry_run,
    )
    built: dict[str, list[Plugin]] = {"input": [], "filter": [], "output": []}
    for kind, sections in (("input", document.inputs), ("filter", document.filters), ("output", document.outputs)):
        for index, section in enumerate(sections):
            plugin = _instantiate(section, kind, index, context, errors, document.warnings)
            if plugin is not None:
                built[kind].append(plugin)
    if not service.get("storage.path"):
        for plugin in built["input"]:
            if plugin.settings.get("storage.type") == "filesystem":
                errors.append(
                    ConfigError(
                        f"{plugin.instance_name}: storage.type filesystem needs storage.path in [SERVICE]",
                        plugin.settings.where("storage.type"),
                    )
                )
    if not document.inputs and not errors:
        errors.append(ConfigError("no [INPUT] section: nothing would be read", Location(document.files[0] if document.files else "<config>")))
    if not document.outputs and not errors:
        errors.append(ConfigError("no [OUTPUT] section: nothing would be delivered", Location(document.files[0] if document.files else "<config>")))
    document.warnings[:] = conceal(document, document.warnings)
    if errors:
        raise ConfigErrors(conceal(document, errors), document.warnings)
    return Pipeline(
        context=context,
        inputs=built["input"],  # type: ignore[arg-type]
        filters=built["filter"],  # type: ignore[arg-type]
        outputs=built["output"],  # type: ignore[arg-type]
        document=document,
    )
