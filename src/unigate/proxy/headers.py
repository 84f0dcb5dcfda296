"""What a proxied call carries: headers each way, its method and its timeout.

Request headers are forwarded as Apideck documents it, except: every ``x-apideck-*`` header,
``Authorization`` (``x-apideck-downstream-authorization`` takes its place), ``Cookie``, ``Host``,
``Content-Length`` (computed for the call) and the hop-by-hop headers (RFC 9110 7.6.1, and any
named in ``Connection``). The connection's own headers (its credentials, from the connector's
mapping) then replace any the client sent under the same names.

Response headers come back as the tracker sent them, except the hop-by-hop ones, ``Date`` and
``Server`` (the gateway's server sends its own), ``Content-Length`` (set again for what is sent)
and ``Set-Cookie``: a tracker's session cookie is minted for the connection's stored credentials
and is not handed to the client.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from unigate.errors import RequestHeadersValidationError

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "proxy-connection", "te", "trailer", "trailers", "transfer-encoding", "upgrade", "expect"})
NEVER_FORWARDED = frozenset({"authorization", "cookie", "host", "content-length"}) | HOP_BY_HOP
NOT_RETURNED = frozenset({"set-cookie", "content-length", "date", "server"}) | HOP_BY_HOP
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

MAX_TIMEOUT_MS = 120_000      # what x-apideck-timeout may ask for at most; larger values are lowered to it


def _connection_tokens(headers: Iterable[tuple[str, str]]) -> set[str]:
    return {token.strip().lower() for name, value in headers if name == "connection" for token in value.split(",")}


def forwarded_request_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The client's headers (names lower-cased, repeats kept) that go downstream."""
    dropped = NEVER_FORWARDED | _connection_tokens(headers)
    return [(name, value) for name, value in headers if name not in dropped and not name.startswith("x-apideck-")]


def returned_response_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The tracker's response headers (names lower-cased) that go back to the client."""
    headers = list(headers)
    dropped = NOT_RETURNED | _connection_tokens(headers)
    return [(name, value) for name, value in headers if name not in dropped]


def downstream_method(headers: Mapping[str, str], upstream: str) -> str:
    """``x-apideck-downstream-method`` if given (one of the proxy's methods), else the request's own."""
    given = headers.get("x-apideck-downstream-method", "").strip()
    if not given:
        return upstream
    method = given.upper()
    if method not in METHODS:
        raise RequestHeadersValidationError(
            "Invalid Header: x-apideck-downstream-method",
            f"x-apideck-downstream-method must be one of {', '.join(METHODS)}; got {given[:20]!r}")
    return method


def timeout_seconds(headers: Mapping[str, str], default: float) -> float:
    """``x-apideck-timeout`` (milliseconds, at most ``MAX_TIMEOUT_MS``) in seconds; without it ``default``
    (the connection's timeout: Apideck's default is 28 s, which its SDK always sends)."""
    given = headers.get("x-apideck-timeout", "").strip()
    if not given:
        return default
    if not given.isascii() or not given.isdigit() or not given.strip("0"):
        raise RequestHeadersValidationError(
            "Invalid Header: x-apideck-timeout",
            f"x-apideck-timeout is a whole number of milliseconds, at least 1; got {given[:20]!r}")
    return min(int(given) if len(given) <= 12 else MAX_TIMEOUT_MS, MAX_TIMEOUT_MS) / 1000
