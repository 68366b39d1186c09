"""What deploy/ ships, for the deploy tests: manifests, embedded configs and the env they need.

A config's ``${VARIABLES}`` come from the environment of the pod that mounts
it, so the configs are checked with sample values for exactly the variables
they use; test_manifests checks that each workload sets every one of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VARIABLE_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

#: sample values for the variables the workloads set (nodeName, ConfigMap keys, fieldRefs).
SAMPLE_ENV = {
    "HOST_NAME": "ip-10-0-1-23.ec2.internal",
    "CLUSTER_NAME": "my-cluster",
    "AWS_REGION": "us-east-1",
    "POD_NAME": "shop-api-7d9f8c6b5d-x2lqp",
    "POD_NAMESPACE": "shop",
}


def documents(path: Path) -> list[dict[str, Any]]:
    """The non-empty YAML documents of a manifest."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


#: `shipper test` files for the shipped configs: YAML, but not Kubernetes resources.
CONFIG_TESTS = DEPLOY / "tests"


def manifests() -> list[Path]:
    """Every Kubernetes manifest under deploy/ (kustomization files are kustomize input, not resources)."""
    return sorted(
        p for p in DEPLOY.rglob("*.yaml") if p.name != "kustomization.yaml" and CONFIG_TESTS not in p.parents
    )


@dataclass
class ShippedConfig:
    """A config shipper is meant to run, and the environment its pod gives it."""

    path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.path.relative_to(DEPLOY))


def config_variables(path: Path) -> set[str]:
    """``${NAME}`` used in a config file or in a manifest's ConfigMap data."""
    if path.suffix in (".yaml", ".yml"):
        text = "\n".join(
            value for doc in documents(path) if doc.get("kind") == "ConfigMap" for value in (doc.get("data") or {}).values()
        )
    else:
        text = path.read_text()
    return set(VARIABLE_RE.findall(text))


def shipped_configs() -> list[ShippedConfig]:
    """The image's default config, the DaemonSet and sidecar ConfigMaps and the Fargate ones."""
    configs = [ShippedConfig(DEPLOY / "image" / "fluent-bit.conf")]
    configs += [ShippedConfig(DEPLOY / "daemonset" / "configmap.yaml"), ShippedConfig(DEPLOY / "sidecar" / "configmap.yaml")]
    configs += [ShippedConfig(p) for p in sorted((DEPLOY / "fargate").glob("*/aws-logging.yaml"))]
    for config in configs:
        config.env = {name: SAMPLE_ENV[name] for name in config_variables(config.path) if name in SAMPLE_ENV}
    return configs
