"""The ``kubernetes`` filter: Fluent Bit's options, resolved once per chunk.

A chunk's tag names its pod, so metadata is looked up once per chunk (from
a cache, usually without awaiting anything) and one ``kubernetes`` dict is
shared by every record of the container: downstream filters must treat it
as read-only.  Lookups never stall the pipeline beyond ``Kube_Meta_Wait``;
when metadata cannot be had, records pass with the fields the tag gives and
``shipper_kubernetes_meta_unavailable_records_total`` counts them.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipper.errors import ConfigError
from shipper.events import Event
from shipper.filters.kubernetes.annotations import LoggingProps, logging_props
from shipper.filters.kubernetes.cache import MetaCache, NotFound, Unavailable
from shipper.filters.kubernetes.client import (
    ApiServerSource,
    DirectorySource,
    HttpJson,
    KubeletSource,
    MetaSource,
    client_ssl_context,
)
from shipper.filters.kubernetes.merge import Merger, MergeStats
from shipper.filters.kubernetes.podmeta import (
    kubernetes_map,
    namespace_map,
    pod_annotations,
)
from shipper.filters.kubernetes.ratelog import RateLimitedLog
from shipper.filters.kubernetes.tag import PodRef, TagParser
from shipper.filters.kubernetes.token import BearerToken
from shipper.jsonfmt import EncodedMap
from shipper.options import Option, Settings
from shipper.plugin import Context, Filter
from shipper.registry import register

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
COMPAT = "accepted for compatibility"

UNAVAILABLE_METRIC = "shipper_kubernetes_meta_unavailable_records_total"
NOT_FOUND_METRIC = "shipper_kubernetes_meta_not_found_records_total"
TAG_MISMATCH_METRIC = "shipper_kubernetes_tag_mismatch_records_total"
EXCLUDED_METRIC = "shipper_kubernetes_excluded_records_total"
MERGED_METRIC = "shipper_kubernetes_merged_records_total"
NOT_MERGED_METRIC = "shipper_kubernetes_merge_skipped_records_total"
PARSER_MISS_METRIC = "shipper_kubernetes_parser_miss_records_total"
TOO_DEEP_METRIC = "shipper_kubernetes_merge_too_deep_records_total"

OPTIONS = (
    Option("kube_url", default="https://kubernetes.default.svc", help="API server URL (http:// or https://)"),
    Option("kube_ca_file", default=f"{SA_DIR}/ca.crt", help="CA bundle that signed the API server's certificate"),
    Option("kube_ca_path", help="directory of CA certificates"),
    Option("kube_token_file", default=f"{SA_DIR}/token", help="service-account token, re-read every Kube_Token_TTL"),
    Option("kube_token_command", help="command printing the token (instead of Kube_Token_File)"),
    Option("kube_token_ttl", "duration", default="10m", help="re-read the token this often (and after a 401)"),
    Option("kube_namespace_file", default=f"{SA_DIR}/namespace", ignored=True, help=f"{COMPAT}; shipper makes no start-up request"),
    Option("kube_tag_prefix", default="kube.var.log.containers.", help="its length is skipped before the tag regex"),
    Option("regex_parser", help="[PARSER] whose regex reads pod_name/namespace_name/container_name/docker_id from the tag"),
    Option("merge_log", "bool", default="off", help="merge the JSON object in 'log' into the record"),
    Option("merge_parser", help="[PARSER] used by Merge_Log instead of JSON"),
    Option("merge_log_key", help="put merged keys under this key instead of the record root"),
    Option("merge_log_trim", "bool", default="on", help="strip trailing newlines from merged string values"),
    Option("keep_log", "bool", default="on", help="keep 'log' after a successful merge"),
    Option("k8s-logging.parser", "bool", default="off", help="let fluentbit.io/parser annotations pick a parser"),
    Option("k8s-logging.exclude", "bool", default="off", help="let fluentbit.io/exclude annotations drop records"),
    Option("labels", "bool", default="on", help="add the pod's labels"),
    Option("annotations", "bool", default="on", help="add the pod's annotations"),
    Option("owner_references", "bool", default="off", help="add the pod's ownerReferences"),
    Option("namespace_labels", "bool", default="off", help="add kubernetes_namespace.labels"),
    Option("namespace_annotations", "bool", default="off", help="add kubernetes_namespace.annotations"),
    Option("namespace_metadata_only", "bool", default="off", help="add only kubernetes_namespace, no pod metadata"),
    Option("use_kubelet", "bool", default="off", help="read pods from the kubelet's /pods instead of the API server"),
    Option("kubelet_host", default="127.0.0.1", help="kubelet address (Use_Kubelet)"),
    Option("kubelet_port", "int", default=10250, help="kubelet port (Use_Kubelet)"),
    Option("use_tag_for_meta", "bool", default="off", help="no network: only the fields the tag gives"),
    Option("kube_meta_cache_ttl", "duration", default="0", help="re-fetch pod metadata after this long (0 = keep)"),
    Option("kube_meta_namespace_cache_ttl", "duration", default="15m", help="re-fetch namespace metadata after this"),
    Option("kube_meta_negative_cache_ttl", "duration", default="60s", help="remember a 404 this long"),
    Option("kube_meta_io_timeout", "duration", default="30s", help="give up one request after this long"),
    Option("kube_meta_wait", "duration", default="2s", help="shipper: longest a chunk waits for metadata"),
    Option("kube_meta_preload_cache_dir", help="read <ns>_<pod>.meta pod JSON files from here first"),
    Option("buffer_size", "size", default="32k", help="largest API answer accepted (0 = unlimited)"),
    Option("dummy_meta", "bool", default="off", help="add {'dummy': <time>} instead of real metadata (testing)"),
    Option("cache_use_docker_id", "bool", default="off", help="re-fetch a pod when a new container id appears"),
    Option("use_journal", "bool", default="off", help="journald mode: metadata from journal fields (not supported)"),
    Option("tls.verify", "bool", default="on", help="verify the server certificate"),
    Option("tls.verify_hostname", "bool", default="on",
           help="also check the certificate's host name (Fluent Bit's default is off)"),
    Option("tls.vhost", help="TLS server name (SNI)"),
    Option("tls.debug", "int", default=0, ignored=True, help=COMPAT),
    Option("dns_retries", "int", default=6, ignored=True, help=COMPAT),
    Option("dns_wait_time", "duration", default="30", ignored=True, help=COMPAT),
    Option("aws_use_pod_association", "bool", default="off", help="not supported"),
    Option("use_pod_association", "bool", default="off", help="not supported"),
    Option("aws_pod_association_host", ignored=True, help=COMPAT),
    Option("aws_pod_association_endpoint", ignored=True, help=COMPAT),
    Option("aws_pod_association_port", "int", ignored=True, help=COMPAT),
    Option("aws_pod_service_map_ttl", "int", ignored=True, help=COMPAT),
    Option("aws_pod_service_map_refresh_interval", "int", ignored=True, help=COMPAT),
    Option("aws_pod_service_preload_cache_dir", ignored=True, help=COMPAT),
    Option("aws_pod_association_host_server_ca_file", ignored=True, help=COMPAT),
    Option("aws_pod_association_host_client_cert_file", ignored=True, help=COMPAT),
    Option("aws_pod_association_host_client_key_file", ignored=True, help=COMPAT),
    Option("aws_pod_association_host_tls_debug", "int", ignored=True, help=COMPAT),
    Option("aws_pod_association_host_tls_verify", "bool", ignored=True, help=COMPAT),
    Option("set_platform", ignored=True, help=COMPAT),
)


@dataclass(slots=True)
class ContainerMeta:
    """What every record of one container gets: the shared map and the annotation choices."""

    kubernetes: dict[str, Any] | None
    props: LoggingProps | None
    #: annotation parser objects by stream, and for records without a known stream
    parsers: dict[Any, Any] = field(default_factory=dict)
    other_parser: Any = None


@register
class KubernetesFilter(Filter):
    name = "kubernetes"
    summary = "add pod metadata (kubernetes map), merge JSON logs, honour fluentbit.io annotations"
    options = OPTIONS

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        s = settings
        self.wait = s["kube_meta_wait"]
        self.labels, self.annotations = s["labels"], s["annotations"]
        self.owner_references = s["owner_references"]
        self.allow_parser, self.allow_exclude = s["k8s-logging.parser"], s["k8s-logging.exclude"]
        self.ns_labels, self.ns_annotations = s["namespace_labels"], s["namespace_annotations"]
        self.pod_meta = not s["namespace_metadata_only"]
        self.dummy = s["dummy_meta"]
        self.use_docker_id = s["cache_use_docker_id"]
        if s["use_journal"]:
            raise ConfigError("kubernetes: Use_Journal is not supported (metadata from the journal fields of docker's journald log driver)", s.where("use_journal"))
        self.tags = TagParser(s["kube_tag_prefix"], self._tag_regex())
        self.merger = Merger(s["merge_log_key"], s["keep_log"], s["merge_log_trim"]) if s["merge_log"] else None
        self.merge_parser = self._named_parser("merge_parser") if s["merge_parser"] else None
        self.warn = RateLimitedLog(self.log)
        self.source = self._source()
        self.pods: MetaCache[tuple[str, str]] = MetaCache(
            lambda key: self.source.pod(*key),  # type: ignore[union-attr]
            ttl=s["kube_meta_cache_ttl"],
            negative_ttl=s["kube_meta_negative_cache_ttl"],
        )
        self.namespaces: MetaCache[str] = MetaCache(
            lambda ns: self.source.namespace(ns),  # type: ignore[union-attr]
            ttl=s["kube_meta_namespace_cache_ttl"],
            negative_ttl=s["kube_meta_negative_cache_ttl"],
        )
        self._containers: dict[PodRef, tuple[object, ContainerMeta]] = {}
        self._docker_ids: dict[tuple[str, str], str] = {}
        self._namespace_maps: dict[str, tuple[object, dict[str, Any]]] = {}

    # -- configuration ---------------------------------------------------------------------------

    def _named_parser(self, option: str) -> Any:
        name = self.settings[option]
        parser = self.context.parsers.get(name)
        if parser is None:
            raise ConfigError(f"kubernetes: {option} {name!r} is not a defined [PARSER]", self.settings.where(option))
        return parser

    def _tag_regex(self) -> re.Pattern[str] | None:
        if not self.settings["regex_parser"]:
            return None
        regex = getattr(self._named_parser("regex_parser"), "regex", None)
        if not isinstance(regex, re.Pattern):
            raise ConfigError(
                f"kubernetes: Regex_Parser {self.settings['regex_parser']!r} is not a regex parser",
                self.settings.where("regex_parser"),
            )
        return regex

    def _source(self) -> MetaSource | None:
        """Where metadata comes from; None when records get tag fields (or dummy data) only."""
        s = self.settings
        dry_run = self.context.dry_run
        if self.dummy or s["use_tag_for_meta"]:
            return None
        if dry_run is not None:  # no network: --kube-meta-dir, else the config's preload directory, else none
            directory = dry_run.kube_meta_dir or s["kube_meta_preload_cache_dir"]
            return DirectorySource(Path(directory), None, self.log) if directory else None
        url = s["kube_url"]
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"kubernetes: Kube_URL must start with http:// or https://, got {url!r}", s.where("kube_url"))
        token = BearerToken(s["kube_token_file"], s["kube_token_command"], s["kube_token_ttl"], self.log)
        tls = functools.cache(
            lambda: client_ssl_context(
                s["tls.verify"], s["kube_ca_file"], s["kube_ca_path"], s["tls.verify_hostname"], self.log
            )
        )

        def http(base: str) -> HttpJson:
            return HttpJson(
                base, token, tls if base.startswith("https") else None,
                s["kube_meta_io_timeout"], s["buffer_size"], s["tls.vhost"], self.log,
            )

        source: MetaSource = ApiServerSource(http(url))
        if s["use_kubelet"]:
            source = KubeletSource(http(f"https://{s['kubelet_host']}:{s['kubelet_port']}"), ApiServerSource(http(url)))
        if s["kube_meta_preload_cache_dir"]:
            source = DirectorySource(Path(s["kube_meta_preload_cache_dir"]), source, self.log)
        return source

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.dummy:
            self.log.warning("kubernetes: Dummy_Meta is on; records get {'dummy': <time>} instead of metadata")
        elif self.source is None:
            why = "Use_Tag_For_Meta" if self.settings["use_tag_for_meta"] else "dry-run without --kube-meta-dir or Kube_Meta_Preload_Cache_Dir"
            # in dry-run a warning, since dry-run shows warnings only and the missing labels would go unexplained
            level = logging.WARNING if self.context.dry_run is not None else logging.INFO
            self.log.log(level, "kubernetes: %s: records get only the fields their tag gives (pod, namespace, container, id)", why)
        if self.settings["aws_use_pod_association"] or self.settings["use_pod_association"]:
            self.log.warning("kubernetes: AWS pod association is not supported; no aws_entity_* keys are added")

    async def stop(self) -> None:
        await self.pods.close()
        await self.namespaces.close()
        if self.source is not None:
            await self.source.close()

    # -- per chunk -------------------------------------------------------------------------------

    async def process(self, tag: str, events: list[Event]) -> list[Event]:
        ref = self.tags.parse(tag)
        if ref is None:
            # Fluent Bit leaves such records untouched (no metadata, no merge)
            self.count(TAG_MISMATCH_METRIC, len(events))
            self.warn.warning("tag:" + tag, "kubernetes: tag %r does not name a pod; records pass unchanged", tag)
            return events
        meta = await self._container_meta(ref, len(events)) if self.pod_meta else ContainerMeta(None, None)
        ns_map = await self._namespace_map(ref) if (self.ns_labels or self.ns_annotations) else None
        return self._apply(events, meta, ns_map)

    async def _container_meta(self, ref: PodRef, n: int) -> ContainerMeta:
        if self.dummy:
            return ContainerMeta({"dummy": time.asctime()}, None)
        key = ref.key
        if self.source is None or key is None:
            return ContainerMeta(ref.tag_fields(), None)
        if self.use_docker_id and ref.docker_id and self._docker_ids.get(key, ref.docker_id) != ref.docker_id:
            self.pods.invalidate(key)
        if len(self._docker_ids) > 8192:
            self._docker_ids.clear()
        self._docker_ids[key] = ref.docker_id or ""
        try:
            pod = await self.pods.get(key, self.wait)
        except NotFound:
            self.count(NOT_FOUND_METRIC, n)
            return ContainerMeta(None, None)
        except Unavailable as exc:
            self.count(UNAVAILABLE_METRIC, n)
            self.warn.warning(
                "unavailable", "kubernetes: no metadata for pod %s/%s (%s); records get the tag's fields", *key, exc
            )
            return ContainerMeta(ref.tag_fields(), None)
        cached = self._containers.get(ref)
        if cached is not None and cached[0] is pod:
            return cached[1]
        meta = self._build(ref, pod)
        if len(self._containers) > 8192:
            self._containers.clear()
        self._containers[ref] = (pod, meta)
        return meta

    def _build(self, ref: PodRef, pod: dict[str, Any]) -> ContainerMeta:
        # shared by every record of the container: its JSON is written once (EncodedMap)
        kube = EncodedMap(kubernetes_map(pod, ref, self.labels, self.annotations, self.owner_references))
        where = f"pod {ref.namespace_name}/{ref.pod_name}"
        props = logging_props(
            pod_annotations(pod),
            ref.container_name,
            self.allow_parser,
            self.allow_exclude,
            lambda name: name in self.context.parsers,
            lambda message: self.warn.warning(where + message, "kubernetes: %s: %s", where, message),
        )
        if not props.active:
            return ContainerMeta(kube, None)
        parsers = self.context.parsers
        by_stream = {"stdout": parsers.get(props.stdout_parser or ""), "stderr": parsers.get(props.stderr_parser or "")}
        return ContainerMeta(kube, props, by_stream, parsers.get(props.parser_for(None) or ""))

    async def _namespace_map(self, ref: PodRef) -> dict[str, Any] | None:
        ns = ref.namespace_name
        if self.source is None or not ns:
            return {"name": ns} if ns else None
        try:
            obj = await self.namespaces.get(ns, self.wait)
        except NotFound:
            return None
        except Unavailable as exc:
            self.warn.warning("ns-unavailable", "kubernetes: no metadata for namespace %s (%s)", ns, exc)
            return None
        cached = self._namespace_maps.get(ns)
        if cached is not None and cached[0] is obj:
            return cached[1]
        result = namespace_map(ns, obj, self.ns_labels, self.ns_annotations)
        self._namespace_maps[ns] = (obj, result)
        return result

    def _apply(self, events: list[Event], meta: ContainerMeta, ns_map: dict[str, Any] | None) -> list[Event]:
        """Per-record work in as few passes as possible: exclusion/parsers, JSON merge, shared maps.

        Records are changed in place; only exclusion and parsers (which may
        change a record's time) build a new list, in a pass of their own.
        """
        kube, merger = meta.kubernetes, self.merger
        stats = MergeStats()
        if meta.props is not None or (merger is not None and self.merge_parser is not None):
            events = self._exclude_and_parse(events, meta, stats)
            merger = None
        if merger is not None or kube is not None or ns_map is not None:
            merge = merger.merge if merger is not None else None
            plain = 0
            for ts, record in events:
                if merge is not None and "log" in record:
                    log = record["log"]
                    # plain text (most lines) is refused here, without a call per record
                    if log.__class__ is str and (first := log[:1]) != "{" and (
                        not first.isspace() or log.lstrip()[:1] != "{"
                    ):
                        plain += 1
                    else:
                        merge(record, log, None, ts, stats)
                if kube is not None:
                    if "kubernetes" in record:
                        del record["kubernetes"]
                    record["kubernetes"] = kube
                if ns_map is not None:
                    record.pop("kubernetes_namespace", None)
                    record["kubernetes_namespace"] = ns_map
            stats.not_object += plain
        for metric, value in (
            (EXCLUDED_METRIC, stats.excluded), (MERGED_METRIC, stats.merged),
            (NOT_MERGED_METRIC, stats.not_object), (PARSER_MISS_METRIC, stats.parser_miss),
            (TOO_DEEP_METRIC, stats.too_deep),
        ):
            if value:
                self.count(metric, value)
        return events

    def _exclude_and_parse(self, events: list[Event], meta: ContainerMeta, stats: MergeStats) -> list[Event]:
        """Drop excluded records and merge with parsers (which may set a record's time)."""
        props, merger = meta.props, self.merger
        default_parser = self.merge_parser
        out: list[Event] = []
        append = out.append
        for ts, record in events:
            parser = default_parser
            if props is not None:
                stream = record.get("stream")
                if stream.__class__ is not str:
                    stream = None
                if props.excluded(stream):
                    stats.excluded += 1
                    continue
                parser = meta.parsers.get(stream, meta.other_parser) or default_parser
            if merger is not None and "log" in record:
                ts = merger.merge(record, record["log"], parser, ts, stats)
            append((ts, record))
        return out
