"""The s3 output through the real CLI against moto: gzip multipart, key templates, kill -9 and SIGTERM.

Lines are written to a real file that ``tail`` reads; the objects in moto's
bucket are read back (gunzipped) and the numbered lines compared with what was
written: nothing may be missing, duplicates are counted and reported.
"""

from __future__ import annotations

import gzip
import random
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import orjson
import pytest

from bench.reliability import Shipper, child_env
from tests.e2e.test_tail_cli import committed_offset
from tests.e2e.writer import make_line, parse_line
from tests.poll import eventually, wait_for
from tests.servers.moto import MotoServer, free_port

REGION = "us-east-1"
LINE_WIDTH = 1000


def s3_client(moto: MotoServer) -> Any:
    return boto3.client("s3", region_name=REGION, endpoint_url=moto.url,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def config(work: Path, moto: MotoServer, bucket: str, http_port: int, tag: str, **extra: str) -> Path:
    options = {
        "bucket": bucket, "region": REGION, "endpoint": moto.url, "store_dir": str(work / "store"),
        "total_file_size": "24M", "compression": "gzip", "s3_key_format": "/archive/$TAG[1]/%Y/%m/%d/$INDEX",
        "Retry_Limit": "no_limits", **extra,
    }
    text = (
        "[SERVICE]\n    Flush 0.2\n    Grace 20\n    HTTP_Server On\n    HTTP_Listen 127.0.0.1\n"
        f"    HTTP_Port {http_port}\n    scheduler.base 0.2\n    scheduler.cap 1\n\n"
        f"[INPUT]\n    Name tail\n    Path {work}/logs/*.log\n    Tag {tag}\n    DB {work}/offsets.db\n"
        "    Read_from_Head On\n    Refresh_Interval 1\n\n"
        "[OUTPUT]\n    Name s3\n    Match *\n"
        + "".join(f"    {k} {v}\n" for k, v in options.items())
    )
    path = work / "shipper.conf"
    path.write_text(text)
    return path


def append_lines(log: Path, start: int, count: int) -> None:
    """Numbered lines padded with random hex, so that even gzip needs several 5 MiB parts."""
    noise = random.Random(start)
    with open(log, "a") as fh:
        for seq in range(start, start + count):
            head = make_line(0, seq, 0).rstrip("\n")
            fh.write(head + noise.randbytes((LINE_WIDTH - len(head)) // 2).hex() + "\n")


def archive(work: Path, moto: MotoServer, bucket: str, tag: str, **extra: str) -> tuple[Any, Shipper]:
    """A new bucket in moto, an empty logs folder, and a shipper (not yet started) archiving ``tag`` into it."""
    client = s3_client(moto)
    client.create_bucket(Bucket=bucket)
    (work / "logs").mkdir()
    port = free_port()
    return client, Shipper(config(work, moto, bucket, port, tag, **extra), work / "shipper.log", child_env(work), port)


def objects(client: Any, bucket: str) -> dict[str, list[int]]:
    """Every object's line numbers, by key (every object is gzip, and says so)."""
    found: dict[str, list[int]] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            response = client.get_object(Bucket=bucket, Key=item["Key"])
            assert response.get("ContentEncoding") == "gzip", item["Key"]
            lines = gzip.decompress(response["Body"].read()).splitlines()
            found[item["Key"]] = [parse_line(orjson.loads(line)["log"])[1] for line in lines]  # type: ignore[index]
    return found


def open_uploads(client: Any, bucket: str) -> list[dict[str, Any]]:
    return list(client.list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def uploaded_parts(client: Any, bucket: str) -> int:
    return sum(
        len(client.list_parts(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"]).get("Parts", []))
        for u in open_uploads(client, bucket)
    )


@pytest.mark.slow
def test_kill_9_in_the_middle_of_a_multipart_upload_loses_nothing(tmp_path: Path, moto_server: MotoServer) -> None:  # noqa: F811
    bucket = "shipper-archive-kill"
    client, shipper = archive(tmp_path, moto_server, bucket, "app.web")
    log = tmp_path / "logs" / "web.log"

    append_lines(log, 0, 14_000)  # 14 MB, about 7 MiB gzipped: a 5 MiB part goes out, the rest waits in store_dir
    first = shipper.start()
    try:
        first.wait_ready()
        wait_for(lambda: uploaded_parts(client, bucket) >= 1, 60, 0.05, "a part uploaded")
        first.kill9()
    finally:
        first.ensure_stopped()
    assert open_uploads(client, bucket), "the multipart upload should be open when the process dies"
    append_lines(log, 14_000, 2000)

    second = shipper.start()
    try:
        second.wait_ready()
        wait_for(lambda: not open_uploads(client, bucket) and bool(objects(client, bucket)), 60, 0.3,
                 "the interrupted upload completed")
        wait_for(lambda: second.metric("fluentbit_output_proc_records_total") >= 2000, 60, 0.2, "new lines buffered")
        assert second.stop() == 0  # SIGTERM uploads what is buffered
    finally:
        second.ensure_stopped()

    found = objects(client, bucket)
    delivered = Counter(n for numbers in found.values() for n in numbers)
    missing = set(range(16_000)) - set(delivered)
    duplicates = sum(c - 1 for c in delivered.values())
    print(f"\n{len(found)} objects, {sum(delivered.values())} lines, {duplicates} duplicates after kill -9")
    assert not missing, f"{len(missing)} lines lost, e.g. {sorted(missing)[:5]}"
    assert not open_uploads(client, bucket)
    indexes = sorted(int(key.rsplit("/", 1)[1]) for key in found)
    assert indexes == list(range(len(found))), f"$INDEX restarted or skipped: {sorted(found)}"
    assert all(re.fullmatch(r"archive/web/\d{4}/\d\d/\d\d/\d+", key) for key in found), sorted(found)


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_nothing(tmp_path: Path, moto_server: MotoServer) -> None:  # noqa: F811
    """Four runs killed at random moments while lines keep coming; the fifth ends with SIGTERM."""
    bucket = "shipper-archive-chaos"
    client, shipper = archive(tmp_path, moto_server, bucket, "app.web")
    log = tmp_path / "logs" / "web.log"
    rng = random.Random(11)
    written = 0
    for _ in range(4):
        append_lines(log, written, 4000)
        written += 4000
        run = shipper.start()
        try:
            run.wait_ready()
            time.sleep(rng.uniform(0.2, 3.0))  # the moment of the crash is the point of the test
            run.kill9()
        finally:
            run.ensure_stopped()
    last = shipper.start()
    try:
        last.wait_ready()
        size = log.stat().st_size
        wait_for(lambda: committed_offset(tmp_path / "offsets.db") == size, 60, 0.2, "every line in store_dir")
        assert last.stop() == 0
    finally:
        last.ensure_stopped()

    found = objects(client, bucket)
    delivered = Counter(n for numbers in found.values() for n in numbers)
    missing = set(range(written)) - set(delivered)
    duplicates = sum(c - 1 for c in delivered.values())
    print(f"\n{len(found)} objects, {sum(delivered.values())} of {written} lines, {duplicates} duplicates after 4 x kill -9")
    assert not missing, f"{len(missing)} lines lost, e.g. {sorted(missing)[:5]}"
    assert not open_uploads(client, bucket)
    assert not any((tmp_path / "store").rglob("*.seg"))


@pytest.mark.slow
def test_sigterm_uploads_what_is_buffered(tmp_path: Path, moto_server: MotoServer) -> None:  # noqa: F811
    bucket = "shipper-archive-term"
    client, shipper = archive(tmp_path, moto_server, bucket, "app.api", s3_key_format="/t/$TAG/$UUID", total_file_size="50M")
    append_lines(tmp_path / "logs" / "api.log", 0, 300)
    shipper.start()
    try:
        shipper.wait_ready()
        wait_for(lambda: shipper.metric("fluentbit_output_proc_records_total") >= 300, 30, 0.1, "lines buffered")
        assert not objects(client, bucket), "upload_timeout is 10m: nothing is uploaded before shutdown"
        assert shipper.stop() == 0
    finally:
        shipper.ensure_stopped()
    [(key, numbers)] = objects(client, bucket).items()
    assert re.fullmatch(r"t/app\.api/[A-Za-z0-9]{8}", key), key
    assert numbers == list(range(300))
    assert eventually(lambda: not any((tmp_path / "store").rglob("*.seg")), 5)
