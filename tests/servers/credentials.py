"""A credentials endpoint for tests, on 127.0.0.1: what the Go cloudwatch plugin's ``credentials_endpoint`` reads.

``GET /creds`` answers the container-credentials JSON (``AccessKeyId``,
``SecretAccessKey``, ``Token``, ``Expiration`` an hour ahead), the form ECS
and EKS Pod Identity agents serve; ``requests`` counts the calls.
"""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from tests.servers.kube_api import LocalServer


class CredentialsServer(LocalServer):
    def __init__(self, access_key: str = "endpoint-key") -> None:
        self.access_key = access_key
        self.requests = 0

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/creds", self._creds)

    async def _creds(self, request: web.Request) -> web.Response:
        self.requests += 1
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        return web.json_response({
            "AccessKeyId": self.access_key,
            "SecretAccessKey": "endpoint-secret",
            "Token": "endpoint-token",
            "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        })
