"""Connect-page sessions: ``POST /vault/sessions`` (vault.yml ``sessionsCreate``) and the session token.

A session is scoped to one consumer of one app (and, with ``x-apideck-service-id``, to one service the app
offers).
Its token is opaque and signed: the session (ids, expiry, settings, theme, redirect URI) compressed
and sealed with Fernet (AES-CBC + HMAC-SHA256) under a key derived from the vault's secret key for
this one purpose, so it cannot be read, forged or altered, and it expires (``session_length``,
default 1 h, at most 1 week); rotating the vault key ends every session. Nothing is stored.

unigate's reading of ``custom_consumer_settings.custom_mappings``: the custom mappings the app lets
the consumer bind on the field-mapping screen, ``[{"key", "label"?, "description"?}]`` (keys as
in ``issue-tracking+tickets+<key>``).
"""

from __future__ import annotations

import base64
import os
import re
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import orjson
from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.responses import Response

from unigate.errors import RequestValidationError, UnauthorizedError
from unigate.vault_api.bodies import ConsumerMetadataIn, parse
from unigate.vault_api.context import VaultRequest
from unigate.vault_api.envelope import ok
from unigate.vault_api.lookup import integration_of
from unigate.vault_api.views import UNIFIED_API

PURPOSE = "unigate connect-page session v1"
DEFAULT_LENGTH = 3600
MAX_LENGTH = 7 * 24 * 3600
_LENGTH = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
Action = Literal["delete", "disconnect", "reauthorize", "disable"]


def _http_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise ValueError("an http(s) URL without user info")
    return value


class SessionSettings(BaseModel):
    """``Session.settings``; those without effect here are accepted (docs/connect-page.md says which)."""

    model_config = ConfigDict(extra="forbid")
    unified_apis: list[str] | None = None
    hide_resource_settings: bool = False
    sandbox_mode: bool = False
    isolation_mode: bool = False
    session_length: str = "1h"
    show_logs: bool = True
    show_suggestions: bool = False
    show_sidebar: bool = True
    auto_redirect: bool = False
    hide_guides: bool = False
    allow_actions: list[Action] | None = None

    @field_validator("session_length")
    @classmethod
    def _length(cls, value: str) -> str:
        seconds(value)
        return value


class Theme(BaseModel):
    """``Session.theme``: colours are ``#rgb``/``#rrggbb``; URLs http(s)."""

    model_config = ConfigDict(extra="forbid")
    favicon: str | None = None
    logo: str | None = None
    primary_color: str | None = None
    sidepanel_background_color: str | None = None
    sidepanel_text_color: str | None = None
    vault_name: str | None = Field(None, max_length=100)
    privacy_url: str | None = None
    terms_url: str | None = None

    @field_validator("favicon", "logo", "privacy_url", "terms_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _http_url(value)

    @field_validator("primary_color", "sidepanel_background_color", "sidepanel_text_color")
    @classmethod
    def _color(cls, value: str | None) -> str | None:
        if value is not None and not _COLOR.fullmatch(value):
            raise ValueError("a colour as #rgb or #rrggbb")
        return value


class DeclaredMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    label: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=500)


class SessionIn(BaseModel):
    """vault.yml ``Session``."""

    model_config = ConfigDict(extra="forbid")
    consumer_metadata: ConsumerMetadataIn | None = None
    redirect_uri: str | None = None
    settings: SessionSettings = Field(default_factory=SessionSettings)
    theme: Theme = Field(default_factory=Theme)
    custom_consumer_settings: dict[str, Any] | None = None

    @field_validator("redirect_uri")
    @classmethod
    def _redirect(cls, value: str | None) -> str | None:
        return _http_url(value)


def seconds(length: str) -> int:
    """``session_length`` (``30m``, ``1h``, ``2d``, ``1h30m``...) in seconds, at most a week."""
    text = length.strip().lower()
    parts = _LENGTH.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError("a duration such as 30m, 1h, 2d or 1w")
    total = sum(int(n) * _UNITS[u] for n, u in parts)
    if not 60 <= total <= MAX_LENGTH:
        raise ValueError("between 1 minute and 1 week")
    return total


@dataclass(frozen=True)
class Session:
    """A decoded session token: for whom, until when, and how the page looks and behaves."""

    id: str
    app_id: str
    consumer_id: str
    service_id: str | None
    expires_at: float
    settings: dict[str, Any] = field(default_factory=dict)
    theme: dict[str, Any] = field(default_factory=dict)
    redirect_uri: str | None = None
    mappings: list[dict[str, Any]] = field(default_factory=list)

    def allows(self, action: str) -> bool:
        allowed = self.settings.get("allow_actions")
        return allowed is None or action in allowed


def _fernet(key: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(key))


def seal(session: Session, key: bytes) -> str:
    payload = orjson.dumps(session.__dict__)
    return _fernet(key).encrypt(zlib.compress(payload, 9)).decode("ascii")


def unseal(token: str, key: bytes, now: float | None = None) -> Session:
    """The session of ``token``, or 401 ``UnauthorizedError`` (forged, altered, expired, another key)."""
    try:
        fields = orjson.loads(zlib.decompress(_fernet(key).decrypt(token.encode("ascii"))))
        session = Session(**fields)
    except (InvalidToken, UnicodeEncodeError, zlib.error, orjson.JSONDecodeError, TypeError):
        raise UnauthorizedError("Invalid session", "the session link is not valid: ask the application for a "
                                "new one") from None
    if session.expires_at <= (time.time() if now is None else now):
        raise UnauthorizedError("Session expired", "the session has expired: ask the application for a new one")
    return session


def _scope(ctx: VaultRequest) -> str | None:
    """The one service the session is for (``x-apideck-service-id``), checked to be installed (404
    ``ConnectorNotFoundError``) and offered by the app (404 ``IntegrationNotFoundError``)."""
    service_id = ctx.headers.get("x-apideck-service-id", "").strip() or None
    if service_id is not None:
        integration_of(VaultRequest(ctx.gateway, ctx.request, ctx.app, ctx.key_id, ctx.headers,
                                  {"unified_api": UNIFIED_API, "service_id": service_id}))
    return service_id


def new_session(ctx: VaultRequest, body: SessionIn) -> Session:
    return make_session(ctx.app.id, ctx.consumer_id(), _scope(ctx), body)


def make_session(app_id: str, consumer_id: str, service_id: str | None, body: SessionIn) -> Session:
    """The session ``body`` asks for, for one consumer (and service); refused (400) if it asks for
    another unified API or declares custom mappings wrongly."""
    apis = body.settings.unified_apis
    if apis and UNIFIED_API not in apis:
        raise RequestValidationError("Invalid request body", {"settings.unified_apis": f"this gateway serves "
                                                              f"{UNIFIED_API} only"})
    declared = (body.custom_consumer_settings or {}).get("custom_mappings") or []
    if not isinstance(declared, list):
        raise RequestValidationError("Invalid request body", {"custom_consumer_settings.custom_mappings": "a list"})
    mappings = [parse(DeclaredMapping, m).model_dump() for m in declared]
    return Session(id=os.urandom(12).hex(), app_id=app_id, consumer_id=consumer_id,
                   service_id=service_id, expires_at=time.time() + seconds(body.settings.session_length),
                   settings=body.settings.model_dump(), theme=body.theme.model_dump(exclude_none=True),
                   redirect_uri=body.redirect_uri, mappings=mappings)


def create(ctx: VaultRequest) -> Response:
    """``POST /vault/sessions``: the consumer (created if new, ``consumer_metadata`` merged in) gets a session."""
    body = parse(SessionIn, ctx.body if ctx.body is not None else {})
    session = new_session(ctx, body)
    metadata = body.consumer_metadata.model_dump(exclude_none=True) if body.consumer_metadata else None
    ctx.gateway.store.upsert_consumer(ctx.app.id, session.consumer_id, metadata)
    token = seal(session, ctx.gateway.store.derive_key(PURPOSE))
    return ok({"session_uri": f"{public_base(ctx)}/connect/session/{token}", "session_token": token})


def public_base(ctx: VaultRequest) -> str:
    """Where the consumer's browser reaches the gateway: ``UNIGATE_PUBLIC_URL``, else the request's own
    origin when its Host is trusted, else nothing (a path relative to the gateway)."""
    settings = ctx.gateway.settings
    if settings.public_url:
        return settings.public_url.rstrip("/")
    if (ctx.request.url.hostname or "").lower() in settings.trusted_hosts:
        return str(ctx.request.base_url).rstrip("/")
    return ""
