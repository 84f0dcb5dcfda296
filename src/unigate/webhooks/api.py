"""Apideck's Webhook API, the subscription part (webhook.yml ``webhooksAll``, ``webhooksAdd``,
``webhooksOne``, ``webhooksUpdate``, ``webhooksDelete``) under ``/webhook/webhooks``.

Auth, envelopes and errors are the Vault API's (``Authorization: Bearer``, ``x-apideck-app-id``;
``{status_code, status, data}``; Apideck's error schema). A subscription belongs to the calling app
and receives the events of all its consumers' connections. ``unified_api`` must be
``issue-tracking`` (the API this gateway serves); ``events`` are ``issue-tracking.ticket.*`` or ``*``.

The signing secret is created with the subscription and returned **once**, as ``secret`` beside
``data`` in the 201 answer (Apideck signs with the app's API key, which unigate stores only as a
hash); ``unigate webhooks rotate-secret ID`` issues a new one.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field
from starlette.responses import Response
from starlette.types import Receive, Scope

from unigate.api.params import parse_limit
from unigate.errors import EntityNotFoundError, RequestValidationError
from unigate.vault_api.bodies import _In, parse
from unigate.vault_api.context import VaultRequest
from unigate.vault_api.envelope import ok
from unigate.vault_api.routes import Route, answer, route
from unigate.webhooks import events as ev
from unigate.webhooks.destination import DestinationRefused, Egress
from unigate.webhooks.store import Subscription, WebhookNotFound

if TYPE_CHECKING:
    from unigate.app import Gateway

PREFIX = "/webhook/"
PATH = "/webhook/webhooks"
EventName = Literal["*", "issue-tracking.ticket.created", "issue-tracking.ticket.updated",
                    "issue-tracking.ticket.deleted"]
URL_PATTERN = r"^(https?)://"


class CreateWebhookIn(_In):
    """``CreateWebhookRequest``."""

    unified_api: Literal["issue-tracking"]
    status: Literal["enabled", "disabled"]
    delivery_url: str = Field(pattern=URL_PATTERN, max_length=2048)
    events: list[EventName] = Field(min_length=1)
    description: str | None = None


class UpdateWebhookIn(_In):
    """``UpdateWebhookRequest``: every property optional."""

    status: Literal["enabled", "disabled"] | None = None
    delivery_url: str | None = Field(default=None, pattern=URL_PATTERN, max_length=2048)
    events: list[EventName] | None = Field(default=None, min_length=1)
    description: str | None = None


def view(subscription: Subscription, public_url: str) -> dict[str, Any]:
    """``Webhook`` as webhook.yml describes it."""
    body: dict[str, Any] = {
        "id": subscription.id, "description": subscription.description, "unified_api": subscription.unified_api,
        "status": subscription.status, "delivery_url": subscription.delivery_url,
        "execute_base_url": f"{public_url.rstrip('/')}/webhooks/inbound", "events": subscription.events,
        "updated_at": subscription.updated_at, "created_at": subscription.created_at,
    }
    if subscription.disabled_reason:
        body["disabled_reason"] = subscription.disabled_reason
    return body


def _public(ctx: VaultRequest) -> str:
    settings = ctx.gateway.settings
    if settings.public_url:
        return settings.public_url
    return str(ctx.request.base_url).rstrip("/")


def _store(ctx: VaultRequest) -> Any:
    return ctx.gateway.webhook_store


def egress(gateway: Gateway) -> Egress:
    """The gateway's delivery URL policy (``UNIGATE_WEBHOOK_ALLOW_PRIVATE``)."""
    return gateway.webhook_egress or Egress.from_settings(gateway.settings)


async def check_destination(ctx: VaultRequest, url: str) -> None:
    """A 400 naming ``delivery_url`` unless the gateway may deliver there (``unigate.webhooks.destination``)."""
    try:
        await egress(ctx.gateway).check(url)
    except DestinationRefused as exc:
        raise RequestValidationError("Invalid request body", {"delivery_url": str(exc)}) from None


async def add(ctx: VaultRequest) -> Response:
    body = parse(CreateWebhookIn, ctx.body)
    await check_destination(ctx, body.delivery_url)
    subscription, secret = await asyncio.to_thread(
        _store(ctx).create_subscription, ctx.app.id, unified_api=body.unified_api, status=body.status,
        delivery_url=body.delivery_url, events=list(dict.fromkeys(body.events)), description=body.description)
    return ok(view(subscription, _public(ctx)), status_code=201, secret=secret)


def one(ctx: VaultRequest) -> Response:
    return ok(view(_found(ctx), _public(ctx)))


async def update(ctx: VaultRequest) -> Response:
    body = parse(UpdateWebhookIn, ctx.body)
    await asyncio.to_thread(_found, ctx)
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None or k == "description"}
    if "events" in changes:
        changes["events"] = list(dict.fromkeys(changes["events"]))
    if "delivery_url" in changes:
        await check_destination(ctx, changes["delivery_url"])
    updated = await asyncio.to_thread(_store(ctx).update_subscription, ctx.app.id, ctx.params["id"], changes)
    return ok(view(updated, _public(ctx)))


def delete(ctx: VaultRequest) -> Response:
    _found(ctx)
    return ok(view(_store(ctx).delete_subscription(ctx.app.id, ctx.params["id"]), _public(ctx)))


def all_(ctx: VaultRequest) -> Response:
    limit = parse_limit(ctx.query)
    cursor = ctx.query.get("cursor") or None
    found = _store(ctx).subscriptions(ctx.app.id, after=_decode(cursor) if cursor else None, limit=limit + 1)
    page = found[:limit]
    following = _encode(page[-1].id) if len(found) > limit else None
    cursors = {"previous": None, "current": cursor, "next": following}
    links = {"previous": None, "current": _link(cursor, limit), "next": _link(following, limit) if following else None}
    return ok([view(s, _public(ctx)) for s in page], meta={"items_on_page": len(page), "cursors": cursors},
              links=links)


def _found(ctx: VaultRequest) -> Subscription:
    try:
        return _store(ctx).subscription(ctx.app.id, ctx.params["id"])
    except WebhookNotFound:
        raise EntityNotFoundError("Webhook not found", f"this app has no webhook subscription "
                                                       f"{ctx.params['id']!r}") from None


def _link(cursor: str | None, limit: int) -> str:
    return f"{PATH}?limit={limit}" + (f"&cursor={cursor}" if cursor else "")


def _encode(sub_id: str) -> str:
    return base64.urlsafe_b64encode(f"webhook:{sub_id}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError):
        text = ""
    prefix, sep, sub_id = text.partition(":")
    if prefix != "webhook" or not sep:
        raise RequestValidationError("Invalid cursor", {"cursor": "not a cursor of /webhook/webhooks"})
    return sub_id


ROUTES: list[Route] = [
    route("webhook/webhooks", GET=all_, POST=add),
    route("webhook/webhooks/{id}", GET=one, PATCH=update, DELETE=delete),
]


async def respond(gateway: Gateway, scope: Scope, receive: Receive, method: str, request_id: str) -> Response:
    """Answer one Webhook API request; refusals are raised and answered in the error schema by ``GatewayApp``."""
    response = await _respond(gateway, scope, receive, method)
    response.headers["request-id"] = request_id
    return response


async def _respond(gateway: Gateway, scope: Scope, receive: Receive, method: str) -> Response:
    return await answer(gateway, scope, receive, method, ROUTES, "Webhook API")


__all__ = ["PATH", "PREFIX", "ROUTES", "ev", "respond", "view"]
