"""Fargate's ``flb_log_cw``: ship shipper's own log to CloudWatch Logs.

Fargate's log router writes its own log to the group
``<cluster>-fluent-bit-logs`` when the ``aws-logging`` ConfigMap says
``flb_log_cw: "true"``.  We do the same with a small private pipeline
(``shipper_logs`` → ``cloudwatch_logs``), separate from the user's so their
``Match *`` outputs never receive our log lines.
"""

from __future__ import annotations

import os

from shipper.config.model import INPUT, OUTPUT, ConfigDocument, FargateSettings, Section
from shipper.errors import Location
from shipper.metrics import Metrics
from shipper.options import Property
from shipper.pipeline import Pipeline, build

TAG = "shipper.log"


def selflog_pipeline(fargate: FargateSettings, metrics: Metrics) -> Pipeline:
    """The private pipeline for ``flb_log_cw``; region from ``AWS_REGION``, stream from the host name."""
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
                log_stream_name=os.environ.get("HOSTNAME") or "shipper",
                auto_create_group="true",
                retry_limit="2",
            ),
        ],
        files=["<flb_log_cw>"],
    )
    return build(document, metrics=metrics)
