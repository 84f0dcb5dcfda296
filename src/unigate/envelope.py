"""Responses in the spec's shapes: the success envelope and the error schema."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import orjson

from unigate.connector.context import OperationResult, UnifiedRequest
from unigate.errors import ConflictError, RequestValidationError, UnexpectedError, UnifiedError
from unigate.jsonutil import JSONResponse
from unigate.mapping.fields import select_fields
from unigate.vault.crypto import WrongSecretKeyError
from unigate.vault.store import RevisionConflictError, VaultError

log = logging.getLogger("unigate")

STATUS_TEXT = {200: "OK", 201: "Created"}


def success(
    request: UnifiedRequest,
    service_id: str,
    result: OperationResult,
    cursors: dict[str, str | None] | None,
    url: str,
    query: list[tuple[str, str]],
    raw: Any = None,
) -> dict[str, Any]:
    status_code = 201 if request.operation == "add" else 200
    data = result.data
    if request.fields is not None and request.operation in ("all", "one"):
        data = select_fields(data, request.fields)
    body: dict[str, Any] = {
        "status_code": status_code,
        "status": STATUS_TEXT[status_code],
        "service": service_id,
        "resource": request.resource,
        "operation": request.operation,
        "data": data,
    }
    if request.operation == "all":
        meta: dict[str, Any] = {"items_on_page": len(data), "cursors": cursors}
        if result.total_count is not None:
            meta["total_count"] = result.total_count
        if result.warnings:
            meta["warnings"] = result.warnings
        body["meta"] = meta
        body["links"] = _links(url, query, cursors or {})
    elif result.warnings and request.operation in ("add", "update"):
        body["meta"] = {"warnings": result.warnings}   # fields not stored as sent (unigate's addition)
    if request.raw:
        body["_raw"] = raw
    return body


def _links(url: str, query: list[tuple[str, str]], cursors: dict[str, str | None]) -> dict[str, str | None]:
    kept = [(k, v) for k, v in query if k != "cursor"]

    def link(cursor: str | None) -> str:
        return url + ("?" + urlencode(kept + ([("cursor", cursor)] if cursor else [])) if kept or cursor else "")

    return {
        "previous": link(cursors["previous"]) if cursors.get("previous") else None,
        "current": link(cursors.get("current")),
        "next": link(cursors["next"]) if cursors.get("next") else None,
    }


# Statuses whose error schema in the spec allows only a string ``detail`` (PaymentRequiredResponse);
# the SDK rejects an object there (ResponseValidationError), so an object detail goes as its JSON text.
STRING_DETAIL_STATUSES = frozenset({402})


def as_unified(exc: Exception, request_id: str) -> UnifiedError:
    """The error a request answers for ``exc``: itself if typed, else a 500 ``UnexpectedError`` whose
    traceback goes to the server log only (a vault key rotated under the gateway is named as such;
    a vault store's refusal is typed by :func:`vault_refusal`)."""
    if isinstance(exc, UnifiedError):
        return exc
    if isinstance(exc, VaultError):
        return vault_refusal(exc)
    if isinstance(exc, WrongSecretKeyError):  # rotated under a running gateway: say so, not "unexpected"
        log.error("request %s: %s", request_id, exc)
        return UnexpectedError("Vault key rotated", "the gateway's secret key no longer opens the vault "
                               "(it was rotated); the operator must restart it with the new key")
    log.error("unexpected error in request %s", request_id, exc_info=exc)
    return UnexpectedError("Unexpected error", f"the gateway failed unexpectedly; "
                           f"quote request id {request_id} when reporting it")


def vault_refusal(exc: VaultError) -> UnifiedError:
    """A store's refusal as the typed error it is: a stale revision 409, anything else (an unknown
    setting, an invalid JSONPath) 400, with the store's sentence as the detail."""
    if isinstance(exc, RevisionConflictError):
        return ConflictError("Connection changed", str(exc))
    return RequestValidationError("Invalid request", str(exc))


def error_response(error: UnifiedError, request_id: str, raw: Any = None) -> JSONResponse:
    """The error schema; ``raw`` (``raw=true`` and downstream calls were made): ``_raw`` with each call's
    request and response, secrets redacted (unigate's addition; the schema allows more properties)."""
    headers = {"request-id": request_id, **error.headers}
    body = error.to_dict()
    if raw is not None:
        body["_raw"] = raw
    if error.status_code in STRING_DETAIL_STATUSES and not isinstance(body.get("detail", ""), str):
        body["detail"] = orjson.dumps(body["detail"], option=orjson.OPT_NON_STR_KEYS).decode()
    return JSONResponse(body, status_code=error.status_code, headers=headers)
