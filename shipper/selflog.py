"""Fargate's ``flb_log_cw``: ship shipper's own log to CloudWatch Logs.

Fargate's log router writes its own log to the group
``<cluster>-fluent-bit-logs`` when the ``aws-logging`` ConfigMap says
``flb_log_cw: "true"``.  We do the same with a small private pipeline
(``shipper_logs`` → ``cloudwatch_logs``), separate from the user's so their
``Match *`` outputs never receive our log lines.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from shipper.config.model import INPUT, OUTPUT, ConfigDocument, FargateSettings, Section
from shipper.errors import Location
from shipper.metrics import Metrics
from shipper.options import Property
from shipper.pipeline import Pipeline, build

TAG = "shipper.log"
#: where a pod finds its own namespace when the environment does not say it
NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def stream_name(environ: Mapping[str, str], namespace_file: Path = NAMESPACE_FILE) -> str:
    """``fluent-bit-<pod name>-<pod namespace>``, the stream Fargate's router writes its own log to.

    The pod name is ``POD_NAME`` or the host name (a pod's host name is its
    name); the namespace is ``POD_NAMESPACE`` or the service account's
    namespace file.  What cannot be found is left out rather than guessed.
    """
    pod = environ.get("POD_NAME") or environ.get("HOSTNAME") or "shipper"
    namespace = environ.get("POD_NAMESPACE")
    if not namespace:
        try:
            namespace = namespace_file.read_text().strip()
        except OSError:
            namespace = ""
    return f"fluent-bit-{pod}-{namespace}" if namespace else f"fluent-bit-{pod}"


def selflog_pipeline(fargate: FargateSettings, metrics: Metrics) -> Pipeline:
    """The private pipeline for ``flb_log_cw``; region from ``AWS_REGION``, stream as :func:`stream_name`."""
    where = Location("<flb_log_cw>")

    def section(kind: str, **values: str) -> Section:
        return Section(kind, [Property(k, v, where) for k, v in values.items()], where)

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    document = ConfigDocument(
        sections=[
            section(INPUT, name="shipper_logs", tag=TAG),
            section(
                OUTPUT,
                name="cloudwatch_logs",
                match=TAG,
                region=region,
                log_group_name=fargate.log_group,
                log_stream_name=stream_name(os.environ),
                auto_create_group="true",
                retry_limit="2",
            ),
        ],
        files=["<flb_log_cw>"],
    )
    return build(document, metrics=metrics)
