"""At ``Log_Level trace`` botocore logs whole signed requests; none of their secrets reach shipper's log.

The real CLI ships three records to moto with temporary credentials (a
session token) and every library logging at trace; its log must name the
``Authorization`` and ``X-Amz-Security-Token`` headers and botocore's
signature without their values.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.reliability import child_env
from tests.servers.moto import MotoServer, moto_server  # noqa: F401 - fixture

SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLETOKEN0123456789abcdef"
SECRET_KEY = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"


def test_trace_log_never_holds_credentials(tmp_path: Path, moto_server: MotoServer) -> None:  # noqa: F811
    config = tmp_path / "shipper.conf"
    config.write_text(
        "[SERVICE]\n    Flush 0.2\n    Log_Level trace\n"
        "[INPUT]\n    Name dummy\n    Tag d\n    Samples 3\n    Rate 10\n"
        f"[OUTPUT]\n    Name cloudwatch_logs\n    Match *\n    region us-east-1\n    endpoint {moto_server.url}\n"
        "    log_group_name redaction\n    log_stream_name s\n    auto_create_group On\n"
    )
    env = {**child_env(tmp_path), "AWS_SESSION_TOKEN": SESSION_TOKEN, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    # dummy's Samples ends the input, and the run ends once its records are delivered
    run = subprocess.run([sys.executable, "-m", "shipper", "run", "-c", str(config)], env=env, capture_output=True, check=False,
                         text=True, timeout=60)
    log = run.stdout + run.stderr
    assert "PutLogEvents" in log and "X-Amz-Security-Token" in log, "botocore did not log its requests"
    assert SESSION_TOKEN not in log
    assert SECRET_KEY not in log
    assert "Signature=" not in log.replace("Signature=<redacted>", "")
    assert "'Authorization': b'<redacted>'" in log

