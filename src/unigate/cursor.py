"""``CursorCodec``: opaque, connector-scoped, tamper-evident paging cursors.

A cursor is ``base64url(orjson(payload)) + "." + base64url(hmac)[:22]``. The payload holds the
service id and scope (resource and parent ids) it was issued for and the paging position
(``o`` an absolute offset, or ``t``/``s`` a downstream token and items to skip, or ``x`` the
state of an emulated list: :mod:`unigate.connector.emulated`). Decoding checks
the MAC, then that service and scope match the request: a forged, truncated or foreign cursor is
an ``InvalidCursorError``, never a downstream call.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import orjson

from unigate.errors import InvalidCursorError


@dataclass(frozen=True)
class CursorPosition:
    offset: int = 0
    token: str | None = None  # downstream cursor token (cursor-style pagination)
    skip: int = 0             # items of the token's page already returned
    # an emulated list's position (filter[since] emulated, a status fanned out): JSON data, see
    # unigate.connector.streams; signed like the rest, so it is never a client's invention
    state: Any = None

    def to_payload(self) -> dict[str, Any]:
        if self.state is not None:
            return {"x": self.state}
        if self.token is not None:
            return {"t": self.token, "s": self.skip}
        return {"o": self.offset}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())[:22]

    def encode(self, service_id: str, scope: str, position: CursorPosition) -> str:
        body = _b64(orjson.dumps({"v": 1, "svc": service_id, "scp": scope, **position.to_payload()}))
        return f"{body}.{self._mac(body)}"

    def decode(self, cursor: str, service_id: str, scope: str) -> CursorPosition:
        body, _, mac = cursor.partition(".")
        # compare_digest raises TypeError on non-ASCII str; a cursor we issued is ASCII anyway
        if not body or not mac or not cursor.isascii() or not hmac.compare_digest(mac, self._mac(body)):
            raise InvalidCursorError(
                "Invalid cursor", "the cursor was not issued by this gateway or was altered; "
                "use meta.cursors from a previous response, or omit cursor to start over",
            )
        try:
            payload = orjson.loads(_unb64(body))
        except (binascii.Error, ValueError, orjson.JSONDecodeError):
            raise InvalidCursorError("Invalid cursor", "the cursor is malformed") from None
        if payload.get("svc") != service_id:
            raise InvalidCursorError(
                "Invalid cursor", f"this cursor was issued for service {payload.get('svc')!r}, "
                f"not {service_id!r}",
            )
        if payload.get("scp") != scope:
            raise InvalidCursorError("Invalid cursor", "this cursor was issued for another list; "
                                     "cursors only page the list they came from")
        return position_from(payload)


def position_from(payload: dict[str, Any]) -> CursorPosition:
    """The position a payload (``CursorPosition.to_payload``) holds; ``InvalidCursorError`` if malformed."""
    if "x" in payload:
        return CursorPosition(state=payload["x"])
    if "t" in payload:
        return CursorPosition(token=str(payload["t"]), skip=int(payload.get("s", 0)))
    offset = payload.get("o")
    if not isinstance(offset, int) or offset < 0:
        raise InvalidCursorError("Invalid cursor", "the cursor is malformed")
    return CursorPosition(offset=offset)
