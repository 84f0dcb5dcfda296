"""``GET /openapi.json`` and the interactive API reference at ``/docs``, served without auth.

``/openapi.json`` is :func:`unigate.openapi.document` as JSON, built once, with an ETag (a
matching ``If-None-Match`` answers 304) and a Cache-Control header. ``/docs`` is a Swagger UI page
whose scripts and styles are all served by the gateway from the ``swagger-ui-bundle`` package
(no CDN, nothing fetched from elsewhere: the validator badge is off). Only the files listed in
``ASSETS`` are served.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from starlette.responses import Response
from starlette.types import Scope

from unigate.errors import EntityNotFoundError, MethodNotAllowedError

CACHE = "public, max-age=3600"
ASSETS = {  # URL name -> (file in swagger-ui-bundle, media type)
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
INIT_JS = b"""window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout"
  });
};
"""
PAGE = b"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>unigate: Issue Tracking API reference</title>
    <link rel="stylesheet" type="text/css" href="/docs/swagger-ui.css">
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
    <link rel="icon" type="image/png" href="/docs/favicon-16x16.png" sizes="16x16">
    <style>body { margin: 0; }</style>
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="/docs/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
    <script src="/docs/unigate-docs.js" charset="UTF-8"></script>
  </body>
</html>
"""



@lru_cache(maxsize=len(ASSETS))
def _asset(name: str) -> bytes:
    from swagger_ui_bundle import swagger_ui_path  # the static files of Swagger UI, as a package

    return (Path(str(swagger_ui_path)) / name).read_bytes()


def respond(scope: Scope, path: str, method: str, request_id: str) -> Response:
    """The answer to a ``GET``/``HEAD`` (``method`` is ``GET`` for both) of a docs path."""
    if method != "GET":
        raise MethodNotAllowedError(scope["method"], path, ["GET", "HEAD"])
    headers = {"request-id": request_id, "cache-control": CACHE}
    if path == "/openapi.json":
        from unigate.openapi import document_json

        body, etag = document_json()
        headers["etag"] = etag
        if etag in _if_none_match(scope):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/json", headers=headers)
    name = path[len("/docs/"):] if path.startswith("/docs/") else ""
    if name in ("", "index.html"):
        return Response(PAGE, media_type="text/html; charset=utf-8", headers=headers)
    if name == "unigate-docs.js":
        return Response(INIT_JS, media_type="text/javascript; charset=utf-8", headers=headers)
    if name in ASSETS:
        return Response(_asset(name), media_type=ASSETS[name], headers=headers)
    raise EntityNotFoundError("Not found", f"no documentation file at {path}")


def _if_none_match(scope: Scope) -> list[str]:
    for key, value in scope.get("headers", ()):
        if key == b"if-none-match":
            return [tag.strip() for tag in value.decode("latin-1").split(",")]
    return []
