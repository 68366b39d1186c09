"""The EKS Fargate ``aws-observability/aws-logging`` ConfigMap, read as Fargate reads it.

Fargate's log router supplies its own ``[INPUT]`` (tailing the node's
container logs) and takes only ``filters.conf``, ``output.conf``,
``parsers.conf`` and ``flb_log_cw`` from the ConfigMap, after validating
them against a short list of rules.  Fargate reports a violation only as a
pod event, after deployment; ``shipper check`` reports every one up front,
by key and line, so the ConfigMap can be fixed before it is applied.
"""

from __future__ import annotations

from collections.abc import Mapping

from shipper.config.configmap import FARGATE_NAMESPACE, ConfigMap, Manifest
from shipper.config.files import Files
from shipper.config.model import FILTER, INPUT, OUTPUT, PARSER, ConfigDocument, FargateSettings, Section
from shipper.config.reader import Reader, Role
from shipper.errors import ConfigError, Location
from shipper.options import Property

#: Fargate's own [INPUT], which the ConfigMap cannot change.
FARGATE_INPUT = (
    ("Name", "tail"),
    ("Path", "/var/log/containers/*.log"),
    ("Tag", "kube.*"),
    ("Buffer_Max_Size", "66KB"),
    ("Mem_Buf_Limit", "45MB"),
    ("Read_From_Head", "On"),
    ("Refresh_Interval", "10"),
    ("Rotate_Wait", "30"),
    ("Skip_Long_Lines", "On"),
    ("DB", "/var/log/flb_kube.db"),
)
#: Each data key and the one section kind Fargate accepts in it, in the order Fargate reads them.
FARGATE_FILES = {"filters.conf": FILTER, "output.conf": OUTPUT, "parsers.conf": PARSER}
ALLOWED_FILTERS = frozenset({"grep", "parser", "record_modifier", "rewrite_tag", "throttle", "nest", "modify", "kubernetes"})
ALLOWED_OUTPUTS = frozenset({"es", "firehose", "kinesis_firehose", "cloudwatch", "cloudwatch_logs", "kinesis"})
#: Outputs shipper runs but Fargate's validator refuses.
WARN_OUTPUTS = frozenset({"opensearch"})
FORBIDDEN_KUBERNETES_KEYS = ("kube_url", "kube_ca_file", "kube_token_file", "kube_token_command")
SIZE_LIMIT = 5300
LOG_TO_CLOUDWATCH_KEY = "flb_log_cw"


def load_fargate(
    manifest: Manifest, configmap: ConfigMap, files: Files, document: ConfigDocument, environ: Mapping[str, str]
) -> None:
    """Build the document Fargate would run, and record every Fargate rule the ConfigMap breaks."""
    errors = document.errors
    _check_raw(configmap, files, document)
    source = f"{manifest.path} (Fargate's built-in [INPUT])"
    document.sections.append(
        Section(INPUT, [Property(k, v, Location(source, 0)) for k, v in FARGATE_INPUT], Location(source, 0))
    )
    for key, kind in FARGATE_FILES.items():
        if key not in configmap.data:
            continue
        name = files.virtual_name(key)
        start = len(document.sections)
        Reader(files, document, name, Role.ANY).read(name)
        for section in document.sections[start:]:
            if section.kind != kind:
                errors.append(
                    ConfigError(
                        f"[{section.kind.upper()}] is not allowed in {key}: Fargate accepts only [{kind.upper()}] there",
                        section.location,
                    )
                )
            else:
                _check_section(section, document)
    if not any(s.plugin_name in ALLOWED_OUTPUTS | WARN_OUTPUTS for s in document.outputs):
        errors.append(
            ConfigError(
                f"Fargate needs at least one [OUTPUT] in output.conf ({', '.join(sorted(ALLOWED_OUTPUTS))})",
                configmap.data_location,
            )
        )
    for namespace in manifest.namespaces:
        if namespace.name == FARGATE_NAMESPACE and namespace.labels.get("aws-observability") != "enabled":
            errors.append(
                ConfigError(
                    "Namespace aws-observability must carry the label 'aws-observability: enabled' "
                    "or Fargate ignores the ConfigMap",
                    namespace.location,
                )
            )
    log_to_cloudwatch = configmap.data.get(LOG_TO_CLOUDWATCH_KEY, "false").strip().lower() == "true"
    document.fargate = FargateSettings(log_to_cloudwatch=log_to_cloudwatch, cluster=environ.get("CLUSTER_NAME", ""))


def _check_raw(configmap: ConfigMap, files: Files, document: ConfigDocument) -> None:
    """Rules on the text itself: size, variables, directives, keys Fargate ignores."""
    size = sum(len(k) + len(v) for k, v in configmap.data.items())
    if size > SIZE_LIMIT:
        document.errors.append(
            ConfigError(
                f"the aws-logging ConfigMap data is {size} characters (keys and values); Fargate accepts at most {SIZE_LIMIT}",
                configmap.data_location,
            )
        )
    for key, text in configmap.data.items():
        if key not in FARGATE_FILES:
            if key != LOG_TO_CLOUDWATCH_KEY:
                document.warnings.append(
                    ConfigError(f"Fargate ignores data key {key!r} (it reads {', '.join(FARGATE_FILES)}, flb_log_cw)", configmap.data_location)
                )
            continue
        for number, line in enumerate(text.split("\n"), 1):
            location = Location(files.virtual_name(key), number)
            if "${" in line:
                document.errors.append(ConfigError("Fargate does not allow variables (${...}) in its ConfigMap", location))
            if line.startswith("@"):
                document.errors.append(
                    ConfigError(f"Fargate does not allow {line.split()[0]} directives in its ConfigMap", location)
                )


def _check_section(section: Section, document: ConfigDocument) -> None:
    """Plugin names Fargate accepts, and the kubernetes keys it forbids."""
    name = section.plugin_name
    if section.kind == FILTER and name not in ALLOWED_FILTERS:
        document.errors.append(
            ConfigError(
                f"Fargate does not allow filter {name!r} (allowed: {', '.join(sorted(ALLOWED_FILTERS))})",
                section.where("name"),
            )
        )
    if section.kind == OUTPUT and name in WARN_OUTPUTS:
        document.warnings.append(
            ConfigError(
                f"output {name!r} runs in shipper, but Fargate's validator rejects it; use 'es' for Fargate",
                section.where("name"),
            )
        )
    elif section.kind == OUTPUT and name not in ALLOWED_OUTPUTS:
        document.errors.append(
            ConfigError(
                f"Fargate does not allow output {name!r} (allowed: {', '.join(sorted(ALLOWED_OUTPUTS))})",
                section.where("name"),
            )
        )
    if section.kind == FILTER and name == "kubernetes":
        for prop in section.properties:
            if prop.key.lower() in FORBIDDEN_KUBERNETES_KEYS:
                document.errors.append(
                    ConfigError(f"Fargate sets {prop.key} itself; remove it from the kubernetes filter", prop.location)
                )
