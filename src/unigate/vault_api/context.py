"""One Vault API request: who calls (the app, by its API key), for which consumer, with what body.

Auth is the unified API's: ``Authorization: Bearer <api key>`` of the app named by
``x-apideck-app-id`` (:func:`unigate.vault.resolve.app_credentials`); ``x-apideck-consumer-id``
names the consumer where the spec has it (connections, custom mappings). The caller becomes the
:class:`~unigate.vault.audit.Actor` of every vault change the request makes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from starlette.datastructures import QueryParams
from starlette.requests import Request

from unigate.api.handler import read_body
from unigate.errors import RequestHeadersValidationError, RequestValidationError, UnauthorizedError
from unigate.vault.audit import Actor
from unigate.vault.models import App
from unigate.vault.resolve import app_credentials
from unigate.vault.store import hash_api_key

if TYPE_CHECKING:
    from unigate.app import Gateway

KEY_ID_DIGITS = 12  # of the API key's SHA-256: names the key in the audit trail without revealing it


@dataclass
class VaultRequest:
    gateway: Gateway
    request: Request
    app: App
    key_id: str
    headers: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)   # the path's named segments
    body: Any = None                                      # the parsed JSON body (writes)
    actor_kind: str = "api"   # who the audit trail names: the app's API key; a connect-page session would say so

    @property
    def query(self) -> QueryParams:
        return self.request.query_params

    @property
    def actor(self) -> Actor:
        consumer = self.headers.get("x-apideck-consumer-id", "").strip() or self.params.get("consumer_id")
        return Actor(self.actor_kind, self.app.id, self.key_id, self.app.id, consumer)

    def consumer_id(self, *, required: bool = True) -> str:
        """``x-apideck-consumer-id`` (a 400 when required and missing)."""
        consumer_id = self.headers.get("x-apideck-consumer-id", "").strip()
        if required and not consumer_id:
            raise RequestHeadersValidationError("Missing Header: x-apideck-consumer-id",
                                                "send the id of the consumer to act for in x-apideck-consumer-id")
        return consumer_id


def authenticate(gateway: Gateway, headers: dict[str, str]) -> tuple[App, str]:
    """The calling app and its key id, or the unified API's typed auth errors."""
    api_key, app_id = app_credentials(headers)
    app = gateway.store.authenticate(app_id, api_key)
    if app is None:
        raise UnauthorizedError("Unauthorized", "the API key is not valid for this application (x-apideck-app-id)")
    return app, hash_api_key(api_key)[:KEY_ID_DIGITS]


async def json_body(request: Request, *, optional: bool = False) -> Any:
    """The request's JSON body (size-capped like the unified API's), or a 400 (``optional``: None if empty)."""
    raw = await read_body(request)
    if not raw.strip():
        if optional:
            return None
        raise RequestValidationError("Missing request body", "send a JSON object")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RequestValidationError("Invalid request body", {"body": f"not valid JSON: {exc}"}) from None
