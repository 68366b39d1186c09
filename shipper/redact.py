"""Secrets out of anything shipper prints: its own log at every level, and ``check``'s messages.

At ``Log_Level debug``/``trace`` botocore logs whole requests (the
``Authorization`` header, ``X-Amz-Security-Token``, the canonical request
and the signature), and with Fargate's ``flb_log_cw`` that log is itself
shipped to CloudWatch.  Rather than trust every library to stay quiet,
every line shipper writes goes through :func:`redact`, which keeps the name
of each secret and replaces its value.

What counts as a secret: HTTP credentials (``Authorization``,
``Proxy-Authorization``, cookies, ``Bearer`` tokens, a password in a URL),
AWS credentials (``X-Amz-Security-Token``, ``X-Amz-Credential``,
``X-Amz-Signature``, botocore's ``Signature:`` line, ``SecretAccessKey`` /
``SessionToken`` / ``Token`` in STS, IMDS and container-credential
answers) and configuration options that hold a password or token
(:data:`SECRET_OPTIONS`).
"""

from __future__ import annotations

import re

REDACTED = "<redacted>"

#: options whose value is a credential: never echoed by ``check`` or the log.
SECRET_OPTIONS = frozenset({
    "http_passwd", "aws_secret_access_key", "aws_session_token", "password", "passwd", "kube_token",
    "secret_access_key", "session_token", "token",
})

_KEYS = (
    r"authorization|proxy-authorization|cookie|set-cookie|x-amz-security-token|x-amz-credential|x-amz-signature"
    r"|signature|secretaccesskey|sessiontoken|token|aws_secret_access_key|aws_session_token|secret_access_key"
    r"|session_token|http_passwd|password|passwd"
)
#: ``Key: value``, ``'Key': b'value'``, ``"Key": "value"``, ``Key=value`` and botocore's ``Signature:\nhex``.
_KEY_VALUE = re.compile(
    rf"""(?ix)
    (?<![\w/.-])(?P<key>{_KEYS})        # a secret's name, not the end of a longer one or a path
    (?P<sep>['"]?[ \t]*[:=][ \t]*\r?\n?[ \t]*b?['"]?)   # its separator and opening quote
    (?P<value>[^'"\r\n\\]+)             # the value, up to its quote or the end of the line
    """
)
_XML = re.compile(r"(?i)(<(SecretAccessKey|SessionToken|Token)>)[^<]*(</)")
_BEARER = re.compile(r"(?i)\b(bearer)[ \t]+[A-Za-z0-9._~+/=-]{8,}")
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with the value of every secret it names replaced by ``<redacted>``."""
    if not _might_hold_secret(text):
        return text
    text = _KEY_VALUE.sub(lambda m: f"{m['key']}{m['sep']}{REDACTED}", text)
    text = _XML.sub(rf"\g<1>{REDACTED}\g<3>", text)
    text = _BEARER.sub(rf"\g<1> {REDACTED}", text)
    return _URL_PASSWORD.sub(rf"\g<1>{REDACTED}@", text)


_HINTS = ("auth", "cookie", "amz", "signature", "secret", "token", "passw", "bearer", "@")


def _might_hold_secret(text: str) -> bool:
    """A cheap test first: most log lines name no secret at all."""
    lowered = text.lower()
    return any(hint in lowered for hint in _HINTS)
