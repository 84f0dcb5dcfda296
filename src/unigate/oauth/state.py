"""Signed, expiring OAuth ``state`` values (HMAC-SHA256 with a key derived from the vault's master key).

Two kinds, told apart by a ``kind`` field inside the signature:

* ``link``: what a connection's ``authorize_url`` carries (app, consumer, service; valid for an hour).
  It names who may authorize; it is not the state the provider sees.
* ``flow``: the state sent to the provider (app, consumer, service, redirect URI, and the id of the
  stored authorization holding the PKCE verifier; valid for ten minutes). The callback deletes that
  stored authorization as it reads it, so a flow state is good once (``ConnectionStore.take_oauth_flow``).

A token is ``<payload>.<signature>``, both base64url: the payload is JSON, not encrypted (it holds no
secret: the verifier stays in the vault). Anything wrong with it is ``OAuthInvalidStateError``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import orjson

from unigate.errors import OAuthInvalidStateError

LINK_TTL = 3600.0
FLOW_TTL = 600.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class StateSigner:
    def __init__(self, key: bytes, *, clock: Any = time.time) -> None:
        self._key = key
        self.clock = clock

    def sign(self, kind: str, ttl: float, **claims: Any) -> str:
        payload = _b64(orjson.dumps({"kind": kind, "exp": self.clock() + ttl, **claims}))
        return f"{payload}.{self._signature(payload)}"

    def verify(self, token: str | None, kind: str) -> dict[str, Any]:
        """The claims of a valid, unexpired ``kind`` token, else ``OAuthInvalidStateError``."""
        if not token:
            raise OAuthInvalidStateError("Invalid state", "the state parameter is missing")
        payload, _, signature = token.partition(".")
        if not hmac.compare_digest(self._signature(payload), signature):
            raise OAuthInvalidStateError("Invalid state", "the state was not issued by this gateway or was altered")
        try:
            claims = orjson.loads(_unb64(payload))
        except (ValueError, orjson.JSONDecodeError):
            raise OAuthInvalidStateError("Invalid state", "the state cannot be read") from None
        if not isinstance(claims, dict) or claims.get("kind") != kind:
            raise OAuthInvalidStateError("Invalid state", f"the state is not an {kind} state")
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] < self.clock():
            raise OAuthInvalidStateError("State expired", "the authorization took too long; start it again")
        return claims

    def _signature(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii", "replace"), hashlib.sha256).digest())
