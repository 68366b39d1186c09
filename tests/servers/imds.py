"""A fake EC2 instance metadata service (IMDS) for tests, on 127.0.0.1.

What it implements of the real service:

- IMDSv2 sessions: ``PUT /latest/api/token`` with
  ``X-aws-ec2-metadata-token-ttl-seconds: 1..21600`` returns a token (400
  without a valid TTL); metadata GETs must carry it in
  ``X-aws-ec2-metadata-token`` or get 401 (unless ``v1_allowed``, IMDSv1);
  tokens expire after their TTL, or at once with :meth:`expire_tokens`;
- ``GET /latest/meta-data/{placement/availability-zone, instance-id,
  instance-type, local-ipv4, ami-id, hostname, mac}``,
  ``/latest/meta-data/network/interfaces/macs/{mac}/vpc-id``,
  ``/latest/meta-data/tags/instance`` (newline-separated keys; 404 when
  instance tags are not enabled, as on a real instance) and
  ``/latest/meta-data/tags/instance/{key}``,
  ``/latest/dynamic/instance-identity/document`` (JSON);
  a trailing ``/`` is accepted; unknown paths are 404.

``requests`` records (method, path, token header); ``fail(status, times)``
injects errors.  Nothing else (IPv6 endpoint, hop limits, credentials paths,
user-data) exists.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field

from aiohttp import web

from tests.servers.kube_api import LocalServer


@dataclass
class Instance:
    """The metadata one instance reports."""

    az: str = "us-west-2c"
    instance_id: str = "i-0c862eca9038f5aae"
    instance_type: str = "t3.medium"
    private_ip: str = "172.31.6.59"
    mac: str = "0e:49:61:0f:c3:11"
    vpc_id: str = "vpc-7ea11c06"
    ami_id: str = "ami-0841edc20334f9287"
    account_id: str = "123456789012"
    hostname: str = "ip-172-31-6-59.us-west-2.compute.internal"
    tags: dict[str, str] | None = field(default_factory=lambda: {"Name": "node-a-1", "team": "logs"})

    def paths(self) -> dict[str, str]:
        doc = {
            "accountId": self.account_id, "architecture": "x86_64", "availabilityZone": self.az,
            "imageId": self.ami_id, "instanceId": self.instance_id, "instanceType": self.instance_type,
            "privateIp": self.private_ip, "region": self.az[:-1], "version": "2017-09-30",
        }
        paths = {
            "/latest/meta-data/placement/availability-zone": self.az,
            "/latest/meta-data/instance-id": self.instance_id,
            "/latest/meta-data/instance-type": self.instance_type,
            "/latest/meta-data/local-ipv4": self.private_ip,
            "/latest/meta-data/mac": self.mac,
            f"/latest/meta-data/network/interfaces/macs/{self.mac}/vpc-id": self.vpc_id,
            "/latest/meta-data/ami-id": self.ami_id,
            "/latest/meta-data/hostname": self.hostname,
            "/latest/dynamic/instance-identity/document": json.dumps(doc, indent=2),
        }
        if self.tags is not None:
            paths["/latest/meta-data/tags/instance"] = "\n".join(self.tags)
            for key, value in self.tags.items():
                paths[f"/latest/meta-data/tags/instance/{key}"] = value
        return paths


@dataclass
class ImdsRequest:
    method: str
    path: str
    token: str | None


class ImdsServer(LocalServer):
    """See the module docstring.  ``async with ImdsServer() as imds: imds.url``."""

    def __init__(self, instance: Instance | None = None, v1_allowed: bool = False) -> None:
        self.instance = instance or Instance()
        self.v1_allowed = v1_allowed
        self.requests: list[ImdsRequest] = []
        self._tokens: dict[str, float] = {}
        self._failures: list[int] = []

    def expire_tokens(self) -> None:
        self._tokens.clear()

    def fail(self, status: int = 500, times: int = 1) -> None:
        self._failures.extend([status] * times)

    def count(self, method: str, path_part: str = "") -> int:
        return sum(1 for r in self.requests if r.method == method and path_part in r.path)

    def routes(self, app: web.Application) -> None:
        app.router.add_put("/latest/api/token", self._token)
        app.router.add_get("/{tail:.*}", self._get)

    async def _token(self, request: web.Request) -> web.Response:
        self.requests.append(ImdsRequest("PUT", request.path, None))
        if self._failures:
            return web.Response(status=self._failures.pop(0))
        try:
            ttl = int(request.headers.get("X-aws-ec2-metadata-token-ttl-seconds", ""))
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= 21600:
            return web.Response(status=400)
        token = secrets.token_urlsafe(32)
        self._tokens[token] = time.monotonic() + ttl
        return web.Response(text=token, headers={"X-aws-ec2-metadata-token-ttl-seconds": str(ttl)})

    async def _get(self, request: web.Request) -> web.Response:
        token = request.headers.get("X-aws-ec2-metadata-token")
        self.requests.append(ImdsRequest("GET", request.path, token))
        if self._failures:
            return web.Response(status=self._failures.pop(0))
        valid = token is not None and self._tokens.get(token, 0) > time.monotonic()
        if not valid and (token is not None or not self.v1_allowed):
            return web.Response(status=401)
        body = self.instance.paths().get(request.path.rstrip("/"))
        if body is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(text=body)
