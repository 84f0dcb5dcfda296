"""What a downstream call is made of: a connection's ``Endpoint``, a call's record (``RawCall``) and answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from unigate.downstream.auth import ConnectionAuth
from unigate.downstream.conditional import Validators
from unigate.downstream.redact import Redactor
from unigate.mapping.spec import RateLimitSpec, StatusErrorSpec

DEFAULT_MAX_BODY = 32 * 1024 * 1024
CAPTURE_BYTES = 9 * 1024  # of each body, for the request log (which cuts at 8 KB once redacted)


@dataclass
class RawCall:
    """One downstream call as made (``_raw``, the request log, metrics). Nothing here is redacted:
    whoever shows it redacts it with the session's ``Redactor``; bodies are kept up to ``CAPTURE_BYTES``."""

    call_id: str
    method: str
    url: str
    query: list[tuple[str, str]]
    status_code: int | None
    body: Any
    duration_ms: float
    request_headers: dict[str, str] | None = None
    request_body: bytes | None = None
    response_headers: httpx.Headers | None = None
    response_excerpt: bytes | None = None  # the first CAPTURE_BYTES of the answer's body
    response_size: int | None = None
    retries: int = 0                        # earlier attempts of this call
    error: str | None = None                # no answer: timeout, connection, response_too_large
    started_at: float = 0.0                 # time.time()

    @property
    def full_url(self) -> str:
        return str(httpx.URL(self.url, params=self.query)) if self.query else self.url


@dataclass
class DownstreamResponse:
    status_code: int
    headers: httpx.Headers
    body: Any


@dataclass
class ErrorPaths:
    message: list[str]
    code: list[str]
    detail: list[str]
    statuses: dict[int, StatusErrorSpec] = field(default_factory=dict)   # http.errors.statuses


@dataclass(frozen=True)
class Endpoint:
    """What every call of one connection shares, rendered once per connection revision."""

    base_url: str
    headers: dict[str, str]
    query: dict[str, str]
    timeout: float
    errors: ErrorPaths
    redactor: Redactor
    max_body: int = DEFAULT_MAX_BODY  # bytes of one answer read at most
    rate_limit: RateLimitSpec | None = None   # the manifest's http.rate_limit
    validators: Validators | None = None      # http.conditional: this connection's ETag'd GET answers
    auth: ConnectionAuth | None = None        # http.auth: the scheme completing each request (downstream.auth)
