"""Secrets in what shipper prints: the shapes botocore, aiohttp and our own messages use."""

from __future__ import annotations

import io
import logging

import pytest

from shipper.logging_setup import TRACE, configure_logging
from shipper.redact import REDACTED, redact

TOKEN = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN0123456789"
SIGNATURE = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"

# Shaped like botocore's debug lines (written for these tests, values made up).
PREPARED_REQUEST = (
    "Sending http request: <AWSPreparedRequest stream_output=False, method=POST, url=https://logs.example/, "
    "headers={'X-Amz-Target': b'Logs_20140328.PutLogEvents', 'X-Amz-Date': b'20240305T101530Z', "
    f"'X-Amz-Security-Token': b'{TOKEN}', 'Authorization': b'AWS4-HMAC-SHA256 "
    f"Credential=AKIDEXAMPLE/20240305/us-east-1/logs/aws4_request, SignedHeaders=host;x-amz-date, "
    f"Signature={SIGNATURE}', 'Content-Length': '42'}}>"
)
CANONICAL_REQUEST = (
    "CanonicalRequest:\nPOST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:logs.example\n"
    f"x-amz-date:20240305T101530Z\nx-amz-security-token:{TOKEN}\n\ncontent-type;host;x-amz-date;"
    "x-amz-security-token\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)


@pytest.mark.parametrize(
    ("text", "secrets", "kept"),
    [
        (PREPARED_REQUEST, [TOKEN, SIGNATURE, "AKIDEXAMPLE"], ["X-Amz-Security-Token", "Authorization", "Content-Length': '42'"]),
        (CANONICAL_REQUEST, [TOKEN], ["x-amz-date;x-amz-security-token\ne3b0", "host:logs.example"]),
        (f"Signature:\n{SIGNATURE}", [SIGNATURE], ["Signature:"]),
        (f'{{"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG", "Token": "{TOKEN}"}}',
         ["wJalrXUtnFEMI/K7MDENG", TOKEN], ['"AccessKeyId": "ASIAEXAMPLE"']),
        (f"<Credentials><SessionToken>{TOKEN}</SessionToken><SecretAccessKey>wJalrXUtnFEMI</SecretAccessKey>",
         [TOKEN, "wJalrXUtnFEMI"], ["<SessionToken>", "</SecretAccessKey>"]),
        ("GET https://admin:hunter2secret@search.example:9200/_bulk", ["hunter2secret"], ["admin:", "@search.example"]),
        ("Authorization: Basic YWRtaW46aHVudGVyMg==", ["YWRtaW46aHVudGVyMg=="], ["Authorization: "]),
        (f"headers: {{'Authorization': 'Bearer {TOKEN}'}}", [TOKEN], ["Authorization"]),
        ("https://bucket.example/key?X-Amz-Credential=AKID%2F2024&X-Amz-Signature=abcdef0123&x=1",
         ["AKID%2F2024", "abcdef0123"], ["X-Amz-Credential="]),
    ],
    ids=["prepared-request", "canonical-request", "signature-line", "credentials-json", "sts-xml", "url-password",
         "basic-auth", "bearer", "presigned-url"],
)
def test_secret_values_are_redacted_and_their_names_kept(text: str, secrets: list[str], kept: list[str]) -> None:
    out = redact(text)
    for secret in secrets:
        assert secret not in out
    for piece in kept:
        assert piece in out
    assert REDACTED in out


@pytest.mark.parametrize("text", [
    "tail.0: /var/log/containers/a.log: rotated or removed; reading the old file to its end for 5s",
    "Kube_Token_File /var/run/secrets/kubernetes.io/serviceaccount/token: cannot read (permission denied)",
    "flush of 108 records failed (PutLogEvents /aws/app/node-1: ThrottlingException); retry 1 in 6.0s",
])
def test_ordinary_lines_are_unchanged(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_every_level_of_the_log_is_redacted(log_format: str) -> None:
    stream = io.StringIO()
    setup = configure_logging("trace", log_format=log_format, stream=stream)
    try:
        logging.getLogger("botocore.endpoint").log(TRACE, "%s", PREPARED_REQUEST)
        logging.getLogger("shipper.output.http.0").error("request failed: %s", f"Authorization: Bearer {TOKEN}")
        try:
            raise RuntimeError(f"x-amz-security-token:{TOKEN}")
        except RuntimeError:
            logging.getLogger("shipper.engine").exception("unexpected")
    finally:
        setup.close()
    text = stream.getvalue()
    assert text.count(REDACTED) >= 4
    assert TOKEN not in text and SIGNATURE not in text
