"""A case's ``kube_meta``: the Pod (and Namespace) objects the API server would answer.

They are written as ``<namespace>_<pod>.meta`` and ``<namespace>.namespace_meta``
files, the layout of Fluent Bit's ``Kube_Meta_Preload_Cache_Dir``, into a
directory handed to the kubernetes filter as dry-run's ``--kube-meta-dir``; so
the filter runs its real lookup, caching and record building, with no network.

A test writes what it cares about in a short form::

    kube_meta: {namespace: shop, pod: web-1, labels: {team: a}}

or a whole Pod object under ``object:``.  ``namespace`` and ``pod`` default to
what the case's log path names (``<pod>_<namespace>_<container>-<id>.log``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import orjson

from shipper.filters.kubernetes.tag import DEFAULT_TAG_REGEX
from shipper.testing.spec import SpecError

SHORT_KEYS = {
    "namespace", "pod", "pod_id", "labels", "annotations", "owner_references", "host", "pod_ip",
    "containers", "namespace_labels", "namespace_annotations", "object",
}
CONTAINER_KEYS = {"image", "image_id", "container_id"}


def names_from_path(path: str | None) -> dict[str, str]:
    """The pod and namespace a container log path names, as the kubernetes filter reads them from the tag."""
    match = re.search(DEFAULT_TAG_REGEX, os.path.basename(path)) if path else None
    return {"pod": match["pod_name"], "namespace": match["namespace_name"]} if match else {}


def _containers(value: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        raise SpecError(f"{what}.containers: expected a mapping of container name to {{image, image_id, container_id}}")
    statuses = []
    for name, spec in value.items():
        spec = spec or {}
        if not isinstance(spec, dict) or set(spec) - CONTAINER_KEYS:
            raise SpecError(f"{what}.containers.{name}: allowed keys are {', '.join(sorted(CONTAINER_KEYS))}")
        status: dict[str, Any] = {"name": str(name)}
        for key, field in (("image", "image"), ("image_id", "imageID"), ("container_id", "containerID")):
            if key in spec:
                status[field] = str(spec[key])
        statuses.append(status)
    return statuses


def pod_object(spec: dict[str, Any], namespace: str, pod: str, what: str) -> dict[str, Any]:
    """A Pod object from the short form, with only the fields the test gave."""
    metadata: dict[str, Any] = {"name": pod, "namespace": namespace}
    for key, field in (("pod_id", "uid"), ("labels", "labels"), ("annotations", "annotations"),
                       ("owner_references", "ownerReferences")):
        if key in spec:
            metadata[field] = spec[key]
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": {}, "status": {}}
    if "host" in spec:
        obj["spec"]["nodeName"] = spec["host"]
    if "pod_ip" in spec:
        obj["status"]["podIP"] = spec["pod_ip"]
    if "containers" in spec:
        statuses = _containers(spec["containers"], what)
        obj["spec"]["containers"] = [{"name": s["name"], **({"image": s["image"]} if "image" in s else {})} for s in statuses]
        obj["status"]["containerStatuses"] = statuses
    return obj


def write_kube_meta(entries: tuple[dict[str, Any], ...], directory: Path, path: str | None, what: str) -> None:
    """Write one ``.meta`` file per entry (and a ``.namespace_meta`` when namespace labels are given)."""
    for index, entry in enumerate(entries):
        where = f"{what}[{index}]" if len(entries) > 1 else what
        unknown = sorted(set(entry) - SHORT_KEYS)
        if unknown:
            raise SpecError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(SHORT_KEYS))}")
        raw = entry.get("object")
        if raw is not None and not isinstance(raw, dict):
            raise SpecError(f"{where}.object: expected a Pod object (a mapping)")
        raw_meta = raw.get("metadata", {}) if raw else {}
        names = {**names_from_path(path), **{k: raw_meta[m] for k, m in (("pod", "name"), ("namespace", "namespace"))
                                             if isinstance(raw_meta.get(m), str)}}
        names.update({k: str(entry[k]) for k in ("pod", "namespace") if k in entry})
        if "pod" not in names or "namespace" not in names:
            raise SpecError(f"{where}: give 'namespace' and 'pod' (the input's path does not name them)")
        namespace, pod = names["namespace"], names["pod"]
        obj = raw if raw is not None else pod_object(entry, namespace, pod, where)
        (directory / f"{namespace}_{pod}.meta").write_bytes(orjson.dumps(obj))
        ns_metadata = {field: entry[key] for key, field in (("namespace_labels", "labels"),
                                                            ("namespace_annotations", "annotations")) if key in entry}
        if ns_metadata:
            namespace_obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, **ns_metadata}}
            (directory / f"{namespace}.namespace_meta").write_bytes(orjson.dumps(namespace_obj))
