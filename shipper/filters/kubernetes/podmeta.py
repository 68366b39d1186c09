"""Build the ``kubernetes`` and ``kubernetes_namespace`` maps from API objects.

The key order is Fluent Bit's (golden cases 31 and 34): ``pod_name``,
``namespace_name``, ``pod_id``, ``labels``, ``annotations``,
``ownerReferences``, ``host``, ``pod_ip``, ``container_name``, ``docker_id``,
``container_hash``, ``container_image``.  Names and the docker id come from
the tag; the rest from the Pod object.  Each map is built once per container
and then shared by every record of that container.
"""

from __future__ import annotations

from typing import Any

from shipper.filters.kubernetes.tag import PodRef


def strip_scheme(value: Any) -> str | None:
    """``containerd://abc`` -> ``abc``; a value without ``:/`` is kept whole (Fluent Bit's extract_hash)."""
    if not isinstance(value, str) or len(value) <= 1:
        return None
    colon = value.find(":")
    if colon < 0:
        return None
    end = colon + 1
    while end < len(value) and value[end] == "/":
        end += 1
    return value[end:] if end > colon + 1 else value


def _container_status(status: dict[str, Any], container: str | None) -> dict[str, Any] | None:
    """The (init) container status named ``container``, searched in the object's key order."""
    for key, statuses in status.items():
        if key not in ("containerStatuses", "initContainerStatuses") or not isinstance(statuses, list):
            continue
        for item in statuses:
            if isinstance(item, dict) and item.get("name") == container:
                return item
    return None


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def kubernetes_map(
    pod: dict[str, Any],
    ref: PodRef,
    labels: bool = True,
    annotations: bool = True,
    owner_references: bool = False,
) -> dict[str, Any]:
    """The record's ``kubernetes`` value for one container of ``pod`` (``{}`` gives the tag fields)."""
    metadata = _map(pod.get("metadata"))
    spec = _map(pod.get("spec"))
    status = _map(pod.get("status"))
    out: dict[str, Any] = {}
    if ref.pod_name:
        out["pod_name"] = ref.pod_name
    if ref.namespace_name:
        out["namespace_name"] = ref.namespace_name
    if "uid" in metadata:
        out["pod_id"] = metadata["uid"]
    if labels and "labels" in metadata:
        out["labels"] = metadata["labels"]
    if annotations and "annotations" in metadata:
        out["annotations"] = metadata["annotations"]
    if owner_references and "ownerReferences" in metadata:
        out["ownerReferences"] = metadata["ownerReferences"]
    if "nodeName" in spec:
        out["host"] = spec["nodeName"]
    if "podIP" in status:
        out["pod_ip"] = status["podIP"]
    if ref.container_name:
        out["container_name"] = ref.container_name
    found = _container_status(status, ref.container_name) if ref.container_name else None
    docker_id = ref.docker_id or (strip_scheme(found.get("containerID")) if found else None)
    if docker_id:
        out["docker_id"] = docker_id
    container_hash = ref.container_hash or (strip_scheme(found.get("imageID")) if found else None)
    if container_hash:
        out["container_hash"] = container_hash
    if found and isinstance(found.get("image"), str) and found["image"]:
        out["container_image"] = found["image"]
    return out


def namespace_map(namespace: str, obj: dict[str, Any], labels: bool, annotations: bool) -> dict[str, Any]:
    """The record's ``kubernetes_namespace`` value: the name, then labels and annotations if asked."""
    metadata = _map(obj.get("metadata"))
    out: dict[str, Any] = {"name": namespace}
    if labels and "labels" in metadata:
        out["labels"] = metadata["labels"]
    if annotations and "annotations" in metadata:
        out["annotations"] = metadata["annotations"]
    return out


def pod_annotations(pod: dict[str, Any]) -> dict[str, Any]:
    """The pod's annotations (read for ``fluentbit.io/`` even when ``Annotations`` is off)."""
    return _map(_map(pod.get("metadata")).get("annotations"))


def find_in_pod_list(pod_list: dict[str, Any], namespace: str, name: str) -> dict[str, Any] | None:
    """The item of a kubelet ``PodList`` with this namespace and name."""
    for item in pod_list.get("items") or ():
        if not isinstance(item, dict):
            continue
        metadata = _map(item.get("metadata"))
        if metadata.get("name") == name and metadata.get("namespace") == namespace:
            return item
    return None
