"""Vault envelopes: ``status_code``, ``status`` and ``data`` (no service, resource or operation)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from unigate.jsonutil import JSONResponse


def ok(data: Any, *, status_code: int = 200, headers: dict[str, str] | None = None, **extra: Any) -> Response:
    """``{"status_code", "status", "data", **extra}`` (``extra``: ``meta``, ``links``)."""
    body = {"status_code": status_code, "status": HTTPStatus(status_code).phrase, "data": data, **extra}
    return JSONResponse(body, status_code=status_code, headers=headers)


def no_content() -> Response:
    """204, as vault.yml's deletes of connections and custom mappings answer."""
    return Response(status_code=204)
