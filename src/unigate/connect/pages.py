"""The connect page's screens. Every change goes through the Vault API's own handlers
(:mod:`unigate.vault_api.connections`, :mod:`~unigate.vault_api.custom_mappings`) acting for the
session's consumer, so the page and the API share one implementation, one validation, one audit trail.

A successful POST redirects (303) to its screen with a ``notice``; a refused one shows the screen
again with the error, in the status the API would have answered.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from unigate.connect import sample
from unigate.connect.web import PREFIX, Page, call, form, problem, redirect
from unigate.errors import ConnectionNotFoundError, EntityNotFoundError, RequestValidationError, UnifiedError
from unigate.mapping.paths import InvalidPathError, compile_path
from unigate.observability import requestlog
from unigate.vault.models import Connection
from unigate.vault_api import connections, custom_mappings
from unigate.vault_api.oauth import base_url
from unigate.vault_api.views import UNIFIED_API

NOTICES = {"saved": "Saved.", "authorized": "Authorized.", "validated": "Connection checked.",
           "disconnected": "Disconnected.", "mapped": "Field mapping saved.", "unmapped": "Field mapping removed."}
LOG_ROWS = 50


def base(service_id: str) -> str:
    return f"{PREFIX}{UNIFIED_API}/{service_id}"


def notice(page: Page) -> str | None:
    return NOTICES.get(page.request.query_params.get("notice", ""))


def in_scope(page: Page, service_id: str) -> None:
    if page.session.service_id not in (None, service_id):
        raise EntityNotFoundError("Not found", "this session is for another integration")


def stored(page: Page, service_id: str) -> Connection | None:
    return page.gateway.store.find_connection(page.session.app_id, page.session.consumer_id, service_id)


async def index(page: Page) -> Response:
    """The trackers the app offers, each with the consumer's connection state (one that needs the app's
    OAuth client first is shown as not available yet, with no link)."""
    if page.session.service_id:
        return redirect(base(page.session.service_id))
    listed = await call(connections.all_, page.vault_request())
    offered = [c for c in listed if c["integration_state"] != "disabled"]
    return page.render("index.html", connections=offered, notice=notice(page))


async def connection(page: Page, service_id: str, *, error: UnifiedError | None = None) -> Response:
    """One tracker: its form (from ``form_fields``), state, and actions."""
    in_scope(page, service_id)
    view = await call(connections.one, page.vault_request(service_id))
    found = await asyncio.to_thread(stored, page, service_id)
    return page.render("connection.html", status=error.status_code if error else 200, connection=view,
                       oauth_link=authorize_link(page, view),
                       credentials_set=set(found.credentials) if found else set(), added=found is not None,
                       notice=None if error else notice(page), error=problem(error) if error else None)


def authorize_link(page: Page, view: dict[str, Any]) -> str | None:
    """The connection's ``authorize_url`` returning to this page after consent (the OAuth flow accepts the
    gateway's own pages under ``/connect/``); as given where the gateway's URL is unknown."""
    link, origin = view.get("authorize_url"), base_url(page.gateway, page.request)
    if not link or origin is None:
        return link
    back = f"{origin}{base(view['service_id'])}?notice=authorized"
    return f"{link}{'&' if '?' in link else '?'}{urlencode({'redirect_uri': back})}"


def entered(view: dict[str, Any], fields: dict[str, str], added: bool) -> dict[str, Any]:
    """The settings a form sends: an empty secret keeps the stored one; an empty setting removes it."""
    settings: dict[str, Any] = {}
    for spec in view["form_fields"]:
        value = fields.get(spec["id"], "").strip()
        if value:
            settings[spec["id"]] = value
        elif added and not spec.get("sensitive"):
            settings[spec["id"]] = None
    return settings


async def save(page: Page, service_id: str) -> Response:
    """Save the form; a connection that has everything it needs is then validated."""
    in_scope(page, service_id)
    fields = await form(page)
    view = await call(connections.one, page.vault_request(service_id))
    found = await asyncio.to_thread(stored, page, service_id)
    try:
        body = {"settings": entered(view, fields, found is not None)}
        saved = await call(connections.update, page.vault_request(service_id, body))
        if saved["state"] in ("callable", "invalid"):
            await call(connections.validate, page.vault_request(service_id))
    except UnifiedError as error:
        return await connection(page, service_id, error=error)
    return redirect(f"{base(service_id)}?notice=saved")


async def validate(page: Page, service_id: str) -> Response:
    in_scope(page, service_id)
    await form(page)
    try:
        await call(connections.validate, page.vault_request(service_id))
    except UnifiedError as error:
        return await connection(page, service_id, error=error)
    return redirect(f"{base(service_id)}?notice=validated")


async def disconnect(page: Page, service_id: str) -> Response:
    in_scope(page, service_id)
    await form(page)
    if not (page.session.allows("delete") or page.session.allows("disconnect")):
        raise RequestValidationError("Not allowed", "the application does not let this session disconnect")
    await call(connections.delete, page.vault_request(service_id))
    return redirect(f"{base(service_id)}?notice=disconnected")


def targets(page: Page, found: Connection) -> list[dict[str, Any]]:
    """The custom mappings the app declared for the session, then any others the connection has."""
    declared = [dict(m, value=found.custom_mappings.get(m["key"])) for m in page.session.mappings]
    known = {m["key"] for m in declared}
    return declared + [{"key": k, "label": None, "description": None, "value": v}
                       for k, v in sorted(found.custom_mappings.items()) if k not in known]


async def mapping(page: Page, service_id: str, *, error: UnifiedError | None = None) -> Response:
    """A sample ticket's downstream values to pick from, and the unified ticket the choice gives."""
    in_scope(page, service_id)
    found = await asyncio.to_thread(stored, page, service_id)
    if found is None:
        raise ConnectionNotFoundError("Connection not found", "connect the tracker before mapping its fields")
    query = page.request.query_params
    try:
        got = await sample.fetch(page.gateway.dispatcher, found, query.get("collection_id"))
    except UnifiedError as failure:
        return page.render("mapping.html", status=failure.status_code, connection_name=service_id,
                           service_id=service_id, error=problem(failure), targets=targets(page, found), sample=None)
    target, path = query.get("target", ""), query.get("path", "")
    shown = _preview(page, found, got.record, target, path) if target and path and got.record is not None else None
    name = page.gateway.registry.connectors[service_id].spec.name
    return page.render("mapping.html", status=error.status_code if error else 200, connection_name=name,
                       service_id=service_id, sample=got, leaves=sample.leaves(got.record), targets=targets(page, found),
                       target=target, path=path, preview=shown, notice=None if error else notice(page),
                       error=problem(error) if error else None)


def _preview(page: Page, found: Connection, record: Any, target: str, path: str) -> dict[str, Any]:
    try:
        compile_path(path)
    except InvalidPathError as exc:
        return {"error": str(exc)}
    ticket = sample.preview(page.gateway.dispatcher, found, record, {**found.custom_mappings, target: path})
    return {"ticket": ticket, "value": (ticket.get("custom_mappings") or {}).get(target)}


async def bind(page: Page, service_id: str) -> Response:
    """Store the chosen JSONPath as the custom mapping (added, or changed if it exists; empty: removed)."""
    in_scope(page, service_id)
    fields = await form(page)
    key, path = fields.get("target", "").strip(), fields.get("path", "").strip()
    found = await _existing(page, service_id)
    if key not in {t["key"] for t in targets(page, found)}:
        raise RequestValidationError("Unknown field", {"target": "not a custom mapping of this application"})
    ctx = page.vault_request(service_id, {"value": path} if path else None,
                             target_field_id=f"{custom_mappings.TARGET_PREFIX}{key}")
    handler = (custom_mappings.delete if not path else
               custom_mappings.update if key in found.custom_mappings else custom_mappings.add)
    try:
        await call(handler, ctx)
    except UnifiedError as error:
        return await mapping(page, service_id, error=error)
    return redirect(f"{base(service_id)}/mapping?notice={'mapped' if path else 'unmapped'}")


async def _existing(page: Page, service_id: str) -> Connection:
    found = await asyncio.to_thread(stored, page, service_id)
    if found is None:
        raise ConnectionNotFoundError("Connection not found", "connect the tracker before mapping its fields")
    return found


async def logs(page: Page) -> Response:
    """The consumer's recent calls, newest first, each with its downstream calls (redacted as stored)."""
    if not page.session.settings.get("show_logs", True):
        raise EntityNotFoundError("Not found", "the application does not show logs in this session")
    flt = requestlog.LogFilter()
    flt.app_id, flt.consumer_id, flt.service_id = page.session.app_id, page.session.consumer_id, page.session.service_id
    rows = await asyncio.to_thread(page.gateway.request_log.query, flt, LOG_ROWS)
    entries = [{"log": requestlog.apideck_log(r), "details": requestlog.details(r)} for r in rows]
    return page.render("logs.html", entries=entries)
