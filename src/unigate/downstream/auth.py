"""Auth schemes: credentials put on each downstream request by a named component.

The manifest's built-in kinds are rendered once per connection revision into the ``Endpoint``
every call shares (``unigate.dispatch``): ``http.headers`` and ``http.query`` templates (an API
key, ``Bearer {credentials.token}``), ``http.basic_auth`` and OAuth2's token placement. A tracker
whose credentials depend on each request — a signature over its method, path, query and body, a
timestamp or a nonce — names an **auth scheme** component instead::

    http:
      auth: {scheme: acme_hmac, options: {key_id: "{credentials.key_id}", secret: "{credentials.secret}"}}

The component (kind ``auth``, registered by a plugin's ``register_auth_schemes`` hook) is an
:class:`AuthScheme`: a callable given the request about to be sent (:class:`AuthRequest`), the
connection's credentials (declared defaults applied) and the manifest's ``options`` (their strings
rendered as templates over ``settings`` and ``credentials`` once per connection revision), which
sets headers or query parameters on the request in place. It runs after the connection's own
headers and query are added, before every attempt of a call (a retry is signed again: a fresh
timestamp or nonce), for the unified API's calls and for ``/proxy`` calls alike (a proxied body is
then read whole before it is sent, to be signed), and not when a proxy client replaces the
connection's credentials with ``x-apideck-downstream-authorization``.

Every credential value is a secret of the connection (``Redactor``): redacted in ``_raw``, errors,
the request log and log lines wherever a scheme copies it; request headers named like a credential
(``authorization``, ``*signature*``, ``*key*``...) are redacted in the request log whatever they hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from urllib.parse import urlsplit

from unigate.downstream.send import Outgoing, target_of


@dataclass
class AuthRequest:
    """A downstream request about to be sent; a scheme adds to ``headers`` and ``query`` in place."""

    method: str
    url: str                          # scheme://host/path, without the query
    query: list[tuple[str, str]]      # in the order sent; append to add a parameter
    headers: dict[str, str]           # the connection's and the call's; set one to add or replace it
    body: bytes | None                # exactly as sent (JSON or form encoded), None: no body

    @property
    def path(self) -> str:
        """The URL's path, as sent (percent-encoded)."""
        return urlsplit(self.url).path or "/"


class AuthScheme(Protocol):
    """An auth scheme component: puts the connection's credentials on ``request`` (in place)."""

    def __call__(self, request: AuthRequest, credentials: Mapping[str, Any],
                 options: Mapping[str, Any]) -> None: ...


@dataclass(frozen=True)
class ConnectionAuth:
    """A connection's auth scheme with its credentials and rendered options (part of its ``Endpoint``)."""

    name: str
    scheme: AuthScheme
    credentials: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)

    def request(self, request: AuthRequest) -> AuthRequest:
        """``request`` with the scheme's headers and query parameters on it."""
        self.scheme(request, self.credentials, self.options)
        return request

    def sign(self, out: Outgoing) -> Outgoing:
        """One attempt of a call, as the scheme completes it."""
        signed = self.request(AuthRequest(out.method, out.url, list(out.query), dict(out.headers), out.content))
        return replace(out, query=signed.query, headers=signed.headers, target=target_of(out.url, signed.query))

    def fingerprint(self) -> dict[str, str]:
        """What tells this connection's tracker account apart (``unigate.downstream.limiter.account_key``)."""
        values = {f"auth.options.{k}": repr(v) for k, v in self.options.items()}
        return {"auth.scheme": self.name, **values,
                **{f"auth.credentials.{k}": repr(v) for k, v in self.credentials.items()}}
