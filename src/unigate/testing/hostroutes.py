"""``HostRoutes``: requests for a public host answered by a local server instead, so a test can run a
connector's OAuth flow against the very URLs its manifest names (``https://github.com/login/oauth/...``)
without reaching the internet::

    routes = HostRoutes({"github.com": provider.url})
    harness = GatewayHarness(tmp, wrap_oauth_transport=routes)
    browser.get(routes.local(authorize_url))   # the consumer's browser, sent to the same local server

A request for a host not in the table passes on unchanged.
"""

from __future__ import annotations

import httpx


class HostRoutes:
    def __init__(self, routes: dict[str, str]) -> None:
        self.routes = {host: httpx.URL(url) for host, url in routes.items()}

    def local(self, url: str | httpx.URL) -> httpx.URL:
        """``url`` with a routed host replaced by its local server's scheme, host and port."""
        url = httpx.URL(str(url))
        target = self.routes.get(url.host)
        return url if target is None else url.copy_with(scheme=target.scheme, host=target.host, port=target.port)

    def __call__(self, transport: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        return _Routed(transport, self)


class _Routed(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, routes: HostRoutes) -> None:
        self.inner, self.routes = inner, routes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        local = self.routes.local(request.url)
        if local != request.url:
            request.url = local
            request.headers["host"] = local.netloc.decode("ascii")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
