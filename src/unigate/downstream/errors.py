"""A downstream failure as the typed error the client is answered with.

- 4xx/5xx -> ``ConnectorExecutionError`` (status: the downstream 4xx, or 502 for a 5xx) with
  ``downstream_errors`` read from the body by the mapping's ``http.errors`` paths;
  401 -> ``ConnectorCredentialsError`` (the stored credentials need attention);
  404 -> ``EntityNotFoundError`` (every unified operation addresses a collection, ticket, comment
  or user: a tracker's 404 says it does not exist), same ``detail`` and ``downstream_errors``;
  429 -> ``ConnectorRateLimitError`` with ``Retry-After`` passed on;
- no answer (``SendFailure``): refused, unreachable, dropped -> ``ConnectorExecutionError`` 502;
  timeout -> 504; an answer over the size cap -> 502; an answer that is not JSON -> 502;
- a status the manifest's ``http.errors.statuses`` declares -> the type and message it names
  (GitHub's 410 "issues disabled", its 301 for a renamed repository with ``detail.moved_to``);
- a redirect (3xx) is never followed and never a success: to a sign-in page (login, signin, sso,
  auth, saml, oauth in the Location's host or path) -> ``ConnectorCredentialsError`` 401, elsewhere
  -> ``ConnectorExecutionError`` 502. Credentials therefore never travel to another origin.

Every ``detail`` names the call (``call_id``, method, URL with secrets redacted).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import orjson

from unigate.downstream.models import Endpoint, ErrorPaths
from unigate.downstream.ratelimit import downstream_headers, refusal_wait
from unigate.downstream.send import INVALID_JSON, Answer, Outgoing, SendFailure, network_reason
from unigate.errors import (
    ConnectorCredentialsError,
    ConnectorExecutionError,
    ConnectorOperationUnsupportedError,
    ConnectorRateLimitError,
    EntityNotFoundError,
    UnifiedError,
)
from unigate.mapping.paths import MISSING, compile_path
from unigate.mapping.spec import StatusErrorSpec

# a redirect whose Location (host or path, '-' and '_' removed) contains one of these goes to a sign-in page
SIGN_IN_WORDS = ("login", "signin", "sso", "auth", "saml", "oauth")


def _where(endpoint: Endpoint, out: Outgoing) -> dict[str, Any]:
    return {"call_id": out.call_id, "method": out.method, "url": endpoint.redactor.url(out.url)}


def failure_error(service_id: str, endpoint: Endpoint, out: Outgoing, failure: SendFailure) -> UnifiedError:
    """The error for a call that got no answer."""
    where = _where(endpoint, out)
    if failure.kind == "response_too_large":
        return too_large_error(service_id, endpoint.max_body, failure, where)
    if failure.kind == "timeout":
        return ConnectorExecutionError(f"{service_id} did not answer within {endpoint.timeout:g}s",
                                       {**where, "reason": "timeout"}, status_code=504)
    reason = network_reason(failure.cause) if failure.cause is not None else "connection failed"
    return ConnectorExecutionError(f"could not reach {service_id}: {reason}", {**where, "reason": reason},
                                   status_code=502)


def too_large_error(service_id: str, limit: int, failure: SendFailure, where: dict[str, Any]) -> UnifiedError:
    return ConnectorExecutionError(
        f"{service_id}'s answer exceeded {limit} bytes"
        + (f" (Content-Length: {failure.size})" if failure.declared else "") + "; it was not read further",
        {**where, "reason": "response_too_large", "limit_bytes": limit, "downstream_status": failure.status},
        status_code=502)


def answer_error(service_id: str, endpoint: Endpoint, out: Outgoing, answer: Answer, body: Any) -> UnifiedError | None:
    """The error an answer stands for (a redirect, a 4xx/5xx, a body that is not JSON), or ``None``."""
    status = answer.response.status_code
    declared = endpoint.errors.statuses.get(status)
    if declared is not None and status >= 300:
        return declared_error(service_id, endpoint, out, answer.response, body, declared)
    if 300 <= status < 400:
        return redirect_error(service_id, endpoint, out, answer.response)
    if status >= 400:
        return status_error(service_id, endpoint, out, answer.response, body)
    if body is INVALID_JSON:
        return ConnectorExecutionError(
            f"{service_id} returned a body that is not valid JSON",
            {**_where(endpoint, out), "status": status,
             "body_excerpt": endpoint.redactor.text(answer.body.decode("utf-8", "replace"))[:200]},
            status_code=502)
    return None


def redirect_error(service_id: str, endpoint: Endpoint, out: Outgoing, response: httpx.Response) -> UnifiedError:
    """A 3xx: never followed (the connection's credentials stay with its own origin), never a success."""
    status, location = response.status_code, response.headers.get("location")
    try:
        target = httpx.URL(out.url).join(location) if location else None
    except (httpx.InvalidURL, ValueError):
        target = None
    shown = endpoint.redactor.url(str(target.copy_with(query=None, fragment=None))) if target else location
    detail = {**_where(endpoint, out), "downstream_status": status, "location": shown}
    if target is not None and _is_sign_in(target):
        return ConnectorCredentialsError(
            f"{service_id} redirected the call to a sign-in page ({shown}): it did not accept the "
            "connection's credentials", detail)
    return ConnectorExecutionError(
        f"{service_id} answered {status}, a redirect" + (f" to {shown}" if shown else "")
        + "; redirects are not followed", detail, status_code=502)


DECLARED_TYPES: dict[str, type[UnifiedError]] = {
    "EntityNotFoundError": EntityNotFoundError, "ConnectorOperationUnsupportedError": ConnectorOperationUnsupportedError}


def declared_error(service_id: str, endpoint: Endpoint, out: Outgoing, response: httpx.Response, body: Any,
                   declared: StatusErrorSpec) -> UnifiedError:
    """A status the manifest's ``http.errors.statuses`` names: its type and message, the tracker's
    own words in ``downstream_errors``; a redirect's ``moved`` location read into ``detail.moved_to``."""
    status, redactor = response.status_code, endpoint.redactor
    errors = redactor.deep(downstream_errors(body, endpoint.errors))
    detail = {**_where(endpoint, out), "downstream_status": status,
              "downstream_body": redactor.deep(body if body is not INVALID_JSON else None)}
    location = response.headers.get("location")
    if declared.moved is not None and location:
        found = re.search(declared.moved.location, httpx.URL(location).path)
        detail.update(location=redactor.url(location), moved_to=found.groupdict() if found else {})
    message = f"{service_id} answered {status}: {declared.message}"
    if declared.type == "ConnectorExecutionError":
        return ConnectorExecutionError(message, detail, downstream_errors=errors,
                                       status_code=declared.status or (status if 400 <= status < 500 else 502))
    return DECLARED_TYPES[declared.type](message, detail, downstream_errors=errors)


def status_error(service_id: str, endpoint: Endpoint, out: Outgoing, response: httpx.Response,
                 body: Any) -> UnifiedError:
    status, redactor = response.status_code, endpoint.redactor
    errors = redactor.deep(downstream_errors(body, endpoint.errors))
    detail = {**_where(endpoint, out), "downstream_status": status,
              "downstream_body": redactor.deep(body if body is not INVALID_JSON else None)}
    retry_after = refusal_wait(endpoint.rate_limit, status, response.headers,
                               [str(e["message"]) for e in errors if e.get("message")])
    if status == 429 or retry_after is not None:   # a 429, or a refusal the manifest's http.rate_limit names
        return ConnectorRateLimitError(
            f"{service_id} is rate limiting requests" + (f"; retry after {retry_after}s" if retry_after else ""),
            detail, downstream_errors=errors,
            headers={**({"retry-after": retry_after} if retry_after else {}),
                     **downstream_headers(endpoint.rate_limit, response.headers)} or None)
    summary = "; ".join(e["message"] for e in errors if e.get("message")) or response.reason_phrase
    if status == 401:
        return ConnectorCredentialsError(
            f"{service_id} rejected the connection's credentials: {summary}", detail, downstream_errors=errors)
    if status == 404:
        return EntityNotFoundError(f"{service_id} answered 404: {summary}", detail, downstream_errors=errors)
    return ConnectorExecutionError(f"{service_id} answered {status}: {summary}", detail,
                                   status_code=status if 400 <= status < 500 else 502, downstream_errors=errors)


def _is_sign_in(url: httpx.URL) -> bool:
    text = f"{url.host}{url.path}".lower().replace("-", "").replace("_", "")
    return any(word in text for word in SIGN_IN_WORDS)


def downstream_errors(body: Any, paths: ErrorPaths) -> list[dict[str, Any]]:
    """Read ``[{message, code, detail}]`` from an error body using the mapping's paths."""
    if body is INVALID_JSON or body is None:
        return []
    if isinstance(body, str):
        return [{"message": body}]
    message, code = _first(body, paths.message), _first(body, paths.code)
    detail = _first(body, paths.detail, objects=True)
    out = []
    for m in message if isinstance(message, list) else [message]:
        entry: dict[str, Any] = {"message": m if isinstance(m, str) or m is None else orjson.dumps(m).decode()}
        if code is not None:
            entry["code"] = str(code)
        if detail is not None:
            entry["detail"] = detail if isinstance(detail, str) else orjson.dumps(detail).decode()
        out.append(entry)
    return [e for e in out if e.get("message") or e.get("code") or e.get("detail")]


def _first(body: Any, candidates: list[str], objects: bool = False) -> Any:
    """The first candidate path with a value in ``body`` (a dict only if ``objects``)."""
    for candidate in candidates:
        value = compile_path(candidate).get(body)
        if value is MISSING or value is None or value == [] or value == {}:   # says nothing: the next
            continue
        if objects or not isinstance(value, dict):
            return value
    return None
