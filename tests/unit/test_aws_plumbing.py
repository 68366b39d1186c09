"""shipper.aws: endpoint URLs, error classification and settings from an option table."""

from __future__ import annotations

import aiohttp
import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from shipper.aws import AWS_OPTIONS, AwsSettings, classify, endpoint_url, is_retryable
from shipper.errors import ConfigError, Location, PermanentError, RetryableError
from shipper.options import Property, resolve
from shipper.plugin import NET_OPTIONS, TLS_OPTIONS


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(
    ("endpoint", "port", "tls", "expected"),
    [
        (None, None, None, None),
        ("http://127.0.0.1:4566", None, None, "http://127.0.0.1:4566"),
        ("http://127.0.0.1", 5000, None, "http://127.0.0.1:5000"),
        ("https://logs.example.com:8443/base", 1, None, "https://logs.example.com:8443/base"),
        ("127.0.0.1", 4566, None, "http://127.0.0.1:4566"),
        ("localhost", 4566, None, "http://localhost:4566"),
        ("logs.us-east-1.amazonaws.com", None, None, "https://logs.us-east-1.amazonaws.com"),
        ("vpce.example.com", 443, None, "https://vpce.example.com:443"),
        ("127.0.0.1", 4566, True, "https://127.0.0.1:4566"),
        ("moto.internal", 5000, False, "http://moto.internal:5000"),
    ],
)
def test_endpoint_url_accepts_urls_and_bare_hosts(endpoint, port, tls, expected) -> None:
    assert endpoint_url(endpoint, port, tls) == expected


def test_endpoint_url_rejects_other_schemes() -> None:
    with pytest.raises(ValueError):
        endpoint_url("ftp://x", None)


@pytest.mark.parametrize(
    "exc",
    [
        client_error("ThrottlingException", 400),
        client_error("ServiceUnavailableException", 503),
        client_error("Whatever", 500),
        client_error("TooManyRequests", 429),
        client_error("ExpiredTokenException", 400),
        EndpointConnectionError(endpoint_url="http://x"),
        ReadTimeoutError(endpoint_url="http://x"),
        NoCredentialsError(),
        aiohttp.ServerDisconnectedError(),
        TimeoutError(),
        ConnectionResetError(),
    ],
)
def test_transient_failures_are_retryable(exc: Exception) -> None:
    assert is_retryable(exc)
    assert isinstance(classify(exc, "PutLogEvents g/s"), RetryableError)


@pytest.mark.parametrize(
    "exc",
    [
        client_error("AccessDeniedException", 400),
        client_error("InvalidParameterException", 400),
        client_error("UnrecognizedClientException", 403),
        ParamValidationError(report="bad"),
    ],
)
def test_validation_and_access_errors_are_permanent(exc: Exception) -> None:
    error = classify(exc, "PutLogEvents g/s")
    assert isinstance(error, PermanentError)
    assert str(error).startswith("PutLogEvents g/s: ")


def test_classify_names_the_code_and_status() -> None:
    assert str(classify(client_error("AccessDeniedException", 400), "Put")) == "Put: AccessDeniedException (HTTP 400): m"


def settings_of(**values: str):
    props = [Property(k, v, Location("<t>", i + 1)) for i, (k, v) in enumerate(values.items())]
    return resolve(AWS_OPTIONS + NET_OPTIONS + TLS_OPTIONS, props, Location("<t>"), "[OUTPUT] x")


def test_settings_from_options() -> None:
    aws = AwsSettings.from_settings(
        settings_of(**{"region": "eu-west-1", "endpoint": "127.0.0.1", "port": "4566", "tls.ca_file": "/ca.pem",
                       "net.connect_timeout": "3s", "role_arn": "arn:aws:iam::1:role/r", "external_id": "ext"}),
        user_agent_extra="x/1",
    )
    assert aws.endpoint_url() == "http://127.0.0.1:4566"
    assert (aws.region, aws.verify, aws.connect_timeout, aws.external_id) == ("eu-west-1", "/ca.pem", 3.0, "ext")
    assert AwsSettings.from_settings(settings_of(region="r", **{"tls.verify": "off"})).verify is False


def test_settings_reject_a_bad_external_id_and_endpoint() -> None:
    with pytest.raises(ConfigError, match="external_id"):
        AwsSettings.from_settings(settings_of(region="r", external_id="x"))
    with pytest.raises(ConfigError, match="scheme"):
        AwsSettings.from_settings(settings_of(region="r", endpoint="ftp://x"))
