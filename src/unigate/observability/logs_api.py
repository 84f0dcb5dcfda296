"""``GET /vault/logs`` as Apideck's Vault API serves it (vault.yml ``logsAll``): the request log of
one consumer of the calling app.

Auth as every unified request: ``Authorization: Bearer <api key>`` of the app named by
``x-apideck-app-id``; ``x-apideck-consumer-id`` (required, as in the spec) names the consumer whose
logs are listed. Only that app's rows are ever read. Query: ``limit`` (1..200, default 20),
``cursor`` (``meta.cursors.next``), and ``filter[...]`` (``LogsFilter``): ``connector_id``
(``issue-tracking+codimir`` or ``codimir``), ``status_code``/``status_codes``, ``http_method``/
``http_methods``, ``path`` with ``path_match_mode``, ``start_date``/``end_date``,
``exclude_unified_apis``. Newest first. Each item is a ``Log`` with no property beyond the schema's;
``raw=true`` adds ``_raw.logs``: per log its operation, error type and downstream calls (request and
response headers and bodies, redacted and capped at 8 KB).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.responses import Response
from starlette.types import Scope

from unigate.api.params import deep_objects, parse_bool, parse_limit
from unigate.errors import RequestHeadersValidationError, RequestValidationError, UnauthorizedError
from unigate.jsonutil import JSONResponse
from unigate.mapping.transforms import TransformError, parse_timestamp
from unigate.observability import requestlog
from unigate.vault.resolve import app_credentials

if TYPE_CHECKING:
    from unigate.app import Gateway

PATH = "/vault/logs"
PATH_MATCH_MODES = ("CONTAINS", "STARTS_WITH", "ENDS_WITH", "EXACT")
MAX_STATUS_CODES = 50


async def respond(gateway: Gateway, scope: Scope, request_id: str) -> Response:
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in reversed(scope["headers"])}
    app_id, consumer_id = _authenticate(gateway, headers)
    params = QueryParams(scope.get("query_string", b"").decode("latin-1"))
    flt, limit, raw = _parse(params)
    flt.app_id, flt.consumer_id = app_id, consumer_id
    rows = await asyncio.to_thread(gateway.request_log.query, flt, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = params.get("cursor") or None
    cursors = {"previous": None, "current": cursor,
               "next": requestlog.encode_cursor(rows[-1]["seq"]) if more and rows else None}
    kept = [(k, v) for k, v in params.multi_items() if k != "cursor"]

    def link(c: str | None) -> str:
        query = kept + ([("cursor", c)] if c else [])
        return PATH + ("?" + urlencode(query) if query else "")

    body: dict[str, Any] = {
        "status_code": 200, "status": "OK",
        "data": [requestlog.apideck_log(r) for r in rows],
        "meta": {"items_on_page": len(rows), "cursors": cursors},
        "links": {"previous": None, "current": link(cursor), "next": link(cursors["next"]) if cursors["next"] else None},
    }
    if raw:
        body["_raw"] = {"logs": [requestlog.details(r) for r in rows]}
    return JSONResponse(body, headers={"request-id": request_id})


def _authenticate(gateway: Gateway, headers: dict[str, str]) -> tuple[str, str]:
    api_key, app_id = app_credentials(headers)
    if gateway.store.authenticate(app_id, api_key) is None:
        raise UnauthorizedError("Unauthorized", "the API key is not valid for this application (x-apideck-app-id)")
    consumer_id = headers.get("x-apideck-consumer-id", "").strip()
    if not consumer_id:
        raise RequestHeadersValidationError("Missing Header: x-apideck-consumer-id",
                                            "send the id of the consumer whose logs to list in x-apideck-consumer-id")
    return app_id, consumer_id


def _parse(params: QueryParams) -> tuple[requestlog.LogFilter, int, bool]:
    limit = parse_limit(params)
    raw = parse_bool(params, "raw")
    flt = requestlog.LogFilter()
    cursor = params.get("cursor")
    if cursor:
        seq = requestlog.decode_cursor(cursor)
        if seq is None:
            raise RequestValidationError("Invalid cursor", {"cursor": "not a cursor of /vault/logs"})
        flt.before_seq = seq
    given = deep_objects(params).get("filter") or {}
    connector = _one(given, "connector_id")
    if connector:
        flt.service_id = connector.rpartition("+")[2]
    codes = _list(given, "status_codes") + _list(given, "status_code")
    if len(codes) > MAX_STATUS_CODES:
        raise RequestValidationError("Invalid filter", {"filter[status_codes]": f"at most {MAX_STATUS_CODES} codes"})
    for code in codes:
        if not (code.isascii() and code.isdigit() and 100 <= int(code) <= 599):
            raise RequestValidationError("Invalid filter", {"filter[status_codes]": f"{code[:20]!r} is not an HTTP "
                                                            "status code (100-599)"})
    flt.status_codes = [int(c) for c in codes]
    flt.http_methods = [m.upper() for m in _list(given, "http_methods") + _list(given, "http_method")]
    flt.path = _one(given, "path")
    mode = (_one(given, "path_match_mode") or "CONTAINS").upper()
    if mode not in PATH_MATCH_MODES:
        raise RequestValidationError("Invalid filter", {"filter[path_match_mode]": f"one of {', '.join(PATH_MATCH_MODES)}"})
    flt.path_match_mode = mode
    flt.start, flt.end = _date(given, "start_date"), _date(given, "end_date")
    if flt.start is not None and flt.end is not None and flt.end < flt.start:
        raise RequestValidationError("Invalid filter", {"filter[end_date]": "must be on or after start_date"})
    flt.exclude_unified_apis = _list(given, "exclude_unified_apis")
    return flt, limit, raw


def _one(given: dict[str, Any], key: str) -> str | None:
    value = given.get(key)
    if isinstance(value, list):
        value = value[-1] if value else None
    if value is not None and not isinstance(value, str):
        raise RequestValidationError("Invalid filter", {f"filter[{key}]": "a single value"})
    return value or None


def _list(given: dict[str, Any], key: str) -> list[str]:
    value = given.get(key)
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in values):
        raise RequestValidationError("Invalid filter", {f"filter[{key}]": "a list of values"})
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def _date(given: dict[str, Any], key: str) -> float | None:
    text = _one(given, key)
    if text is None:
        return None
    try:
        return parse_timestamp(text).timestamp()
    except (TransformError, ValueError, OverflowError):
        raise RequestValidationError("Invalid filter", {f"filter[{key}]": "an ISO 8601 date-time"}) from None
