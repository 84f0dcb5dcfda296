"""In-memory simulator of the Opine public API (tickets and organization users).

Mirrors https://docs.tryopine.com/api: ``X-API-Key`` auth with scopes, offset pagination
(``{items, limit, offset, totalCount}``), zod-style validation errors
(``{"error": "Validation error.", "issues": [...]}``). Choices where the docs are silent are
listed under "Assumptions" in this folder's README.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from unigate.kit import SimulatorControl

BASE_URL = "https://api.tryopine.com"
DEFAULT_API_KEY = "opine_sk_live_7f3c2a9e4b1d48c6a0e5f2b7c9d1e3a4"
READ_ONLY_API_KEY = "opine_sk_live_0b8e61d2c4a94f7e9d3b5a1c6e2f8d70"  # scope "*:read"
OTHER_ORG_API_KEY = "opine_sk_live_5d2a7c9e1f3b4a6c8e0d2f4b6a8c0e1d"  # a second organization
DEFAULT_ORGANIZATION_ID = 1
DEFAULT_ORGANIZATION_SLUG = "northwind"
OTHER_ORGANIZATION_ID = 2
TICKET_TYPES = ("BUG", "FEATURE_REQUEST", "IMPROVEMENT", "TASK")
TICKET_STATES = ("OPEN", "IN_PROGRESS", "CLOSED")
CLOSED_STATES = frozenset({"CLOSED"})
DEAL_PRIORITIES = ("BLOCKER", "HIGH", "MEDIUM", "LOW")
USER_ROLES = ("ADMIN", "MEMBER")
MAX_LIMIT, DEFAULT_LIMIT = 1000, 100

_MISSING: Any = object()
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")
_SEED_NOW = datetime(2025, 10, 1, tzinfo=UTC)


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status, self.body = status, body


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status, media_type="application/json")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def _parse_datetime(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- zod-like validation ---------------------------------------------------------------------
def _kind(value: Any) -> str:
    if value is _MISSING:
        return "undefined"
    names = {type(None): "null", bool: "boolean", int: "number", float: "number", str: "string",
             list: "array", dict: "object"}
    return names.get(type(value), "unknown")


def _invalid_type(path: list[Any], expected: str, value: Any) -> dict[str, Any]:
    received = _kind(value)
    message = "Required" if value is _MISSING else f"Expected {expected}, received {received}"
    return {"code": "invalid_type", "expected": expected, "received": received,
            "path": path, "message": message}


def _check_string(path: list[Any], value: Any, lo: int, hi: int) -> list[dict[str, Any]]:
    if not isinstance(value, str):
        return [_invalid_type(path, "string", value)]
    bound = {"type": "string", "inclusive": True, "exact": False, "path": path}
    if len(value) < lo:
        return [{"code": "too_small", "minimum": lo, **bound,
                 "message": f"String must contain at least {lo} character(s)"}]
    if len(value) > hi:
        return [{"code": "too_big", "maximum": hi, **bound,
                 "message": f"String must contain at most {hi} character(s)"}]
    return []


def _check_enum(path: list[Any], value: Any, options: tuple[str, ...]) -> list[dict[str, Any]]:
    expected = " | ".join(f"'{o}'" for o in options)
    if not isinstance(value, str):
        return [_invalid_type(path, expected, value)]
    if value in options:
        return []
    return [{"received": value, "code": "invalid_enum_value", "options": list(options),
             "path": path,
             "message": f"Invalid enum value. Expected {expected}, received '{value}'"}]


def _check_format(path: list[Any], value: Any, kind: str) -> list[dict[str, Any]]:
    if not isinstance(value, str):
        return [_invalid_type(path, "string", value)]
    if kind == "url" and _URL.match(value):
        return []
    if kind == "datetime" and _DATETIME.match(value):
        try:
            _parse_datetime(value)
            return []
        except ValueError:
            pass
    message = "Invalid url" if kind == "url" else "Invalid datetime"
    return [{"code": "invalid_string", "validation": kind, "message": message, "path": path}]


def _check_description(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return []
    node_issues: list[dict[str, Any]] = []
    if not isinstance(value, list):
        node_issues.append(_invalid_type(["description"], "array", value))
    else:
        for i, node in enumerate(value):
            path = ["description", i]
            if not isinstance(node, dict):
                node_issues.append(_invalid_type(path, "object", node))
                continue
            node_issues += _check_string([*path, "type"], node.get("type", _MISSING), 0, 10**9)
            if not isinstance(node.get("children", _MISSING), list):
                node_issues.append(_invalid_type([*path, "children"], "array",
                                                 node.get("children", _MISSING)))
    if not node_issues:
        return []
    string_issue = _invalid_type(["description"], "string", value)
    return [{"code": "invalid_union", "path": ["description"], "message": "Invalid input",
             "unionErrors": [{"issues": node_issues, "name": "ZodError"},
                             {"issues": [string_issue], "name": "ZodError"}]}]


def _check_deals(value: Any, allow_delete: bool) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return [_invalid_type(["deals"], "array", value)]
    issues: list[dict[str, Any]] = []
    for i, deal in enumerate(value):
        if not isinstance(deal, dict):
            issues.append(_invalid_type(["deals", i], "object", deal))
            continue
        deal_id = deal.get("id", _MISSING)
        if not isinstance(deal_id, int) or isinstance(deal_id, bool):
            issues.append(_invalid_type(["deals", i, "id"], "number", deal_id))
        if "priority" in deal:
            issues += _check_enum(["deals", i, "priority"], deal["priority"], DEAL_PRIORITIES)
        if allow_delete and "delete" in deal and not isinstance(deal["delete"], bool):
            issues.append(_invalid_type(["deals", i, "delete"], "boolean", deal["delete"]))
    return issues


def _validate_ticket(body: Any, *, partial: bool) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return [_invalid_type([], "object", body)]
    issues: list[dict[str, Any]] = []
    for key in ("title", "type", "state"):
        value = body.get(key, _MISSING)
        if partial and value is _MISSING:
            continue
        if key == "title":
            issues += _check_string([key], value, 1, 256)
        else:
            issues += _check_enum([key], value, TICKET_TYPES if key == "type" else TICKET_STATES)
    for key, value in body.items():
        if value is None and partial and key in {"description", "targetDueDate", "labels",
                                                 "vendorEntityUrl"}:
            continue
        if key == "description":
            issues += _check_description(value)
        elif key == "targetDueDate":
            issues += _check_format([key], value, "datetime")
        elif key == "vendorEntityUrl":
            issues += _check_format([key], value, "url")
        elif key == "labels":
            issues += ([_invalid_type([key], "array", value)] if not isinstance(value, list) else
                       [_invalid_type([key, i], "string", v) for i, v in enumerate(value)
                        if not isinstance(v, str)])
        elif key == "deals":
            issues += _check_deals(value, allow_delete=partial)
    return issues


def _int_param(request: Request, names: tuple[str, ...], default: int, lo: int,
               hi: int | None) -> tuple[int, list[dict[str, Any]]]:
    raw = next((request.query_params[n] for n in names if n in request.query_params), None)
    if raw is None:
        return default, []
    path = [names[0]]
    try:
        number = float(raw.strip() or "0")
    except ValueError:
        return default, [{"code": "invalid_type", "expected": "number", "received": "nan",
                          "path": path, "message": "Expected number, received nan"}]
    bound = {"type": "number", "inclusive": True, "exact": False, "path": path}
    if not number.is_integer():
        return default, [{"code": "invalid_type", "expected": "integer", "received": "float",
                          "path": path, "message": "Expected integer, received float"}]
    if number < lo:
        return default, [{"code": "too_small", "minimum": lo, **bound,
                          "message": f"Number must be greater than or equal to {lo}"}]
    if hi is not None and number > hi:
        return default, [{"code": "too_big", "maximum": hi, **bound,
                          "message": f"Number must be less than or equal to {hi}"}]
    return int(number), []


# -- Slate -> markdown -------------------------------------------------------------------------
_BLOCK_PREFIX = {"heading-one": "# ", "heading-two": "## ", "heading-three": "### ",
                 "block-quote": "> ", "list-item": "- "}
_MARKS = (("code", "`"), ("bold", "**"), ("italic", "_"), ("strikethrough", "~~"))


def _slate_inline(node: dict[str, Any]) -> str:
    if isinstance(node.get("text"), str):
        text = node["text"]
        for mark, fence in _MARKS:
            if node.get(mark) and text:
                text = f"{fence}{text}{fence}"
        return text
    inner = "".join(_slate_inline(c) for c in node.get("children", []) if isinstance(c, dict))
    return f"[{inner}]({node['url']})" if node.get("type") == "link" and "url" in node else inner


def slate_to_markdown(nodes: list[dict[str, Any]]) -> str:
    """Render Slate block nodes as markdown, one block per top-level node."""
    blocks = []
    for node in nodes:
        kind = node.get("type")
        items = [c for c in node.get("children", []) if isinstance(c, dict)]
        if kind in ("bulleted-list", "numbered-list"):
            bullets = (f"{i}. " if kind == "numbered-list" else "- " for i in range(1, 10**6))
            blocks.append("\n".join(b + _slate_inline(c) for b, c in zip(bullets, items, strict=False)))
        elif kind == "code-block":
            blocks.append("```\n" + "\n".join(_slate_inline(c) for c in items) + "\n```")
        else:
            blocks.append(_BLOCK_PREFIX.get(str(kind), "") + _slate_inline(node))
    return "\n\n".join(blocks)


# -- state -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApiKey:
    organization_id: int
    scopes: tuple[str, ...]

    def allows(self, scope: str) -> bool:
        resource, _, action = scope.partition(":")
        return any(s in ("*", scope, f"*:{action}", f"{resource}:*") for s in self.scopes)


_FIRST = ("Ava", "Noah", "Priya", "Mateo", "Chen", "Fatima", "Lukas", "Zoe", "Omar", "Ines")
_LAST = ("Patel", "Okafor", "Schmidt", "Nakamura", "Rossi", "Haddad", "Larsen", "Silva")
_AREAS = ("SSO login", "CSV export", "Salesforce sync", "dashboard filters", "audit log",
          "webhook retries", "SCIM provisioning", "PDF reports", "role permissions",
          "bulk import", "Slack alerts", "API rate limits", "usage analytics", "data retention")
_TITLES = {
    "BUG": ("{a} fails for accounts with more than 10k records", "{a} returns 500 after update",
            "{a} times out on large workspaces", "Wrong timezone shown in {a}"),
    "FEATURE_REQUEST": ("Support {a} for EU data residency", "Allow admins to schedule {a}",
                        "Add API access to {a}", "Custom fields in {a}"),
    "IMPROVEMENT": ("Speed up {a}", "Clearer error messages in {a}", "Paginate {a} results"),
    "TASK": ("Document {a} limits for the buyer", "Security review of {a}",
             "Prepare {a} demo environment"),
}
_LABELS = ("customer-blocker", "enterprise", "security", "performance", "ux", "integrations",
           "compliance", "needs-triage", "quick-win", "Q4")
_WORKAROUNDS = ("none", "manual export", "ask support")
_COMPANIES = ("Initech", "Globex", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises",
              "Soylent", "Cyberdyne", "Tyrell", "Wonka", "Acme Corp", "Massive Dynamic")


class OpineState:
    """Everything the simulated Opine tenant knows; one instance per app."""

    def __init__(self, seed: int, ticket_count: int, api_key: str) -> None:
        self.rng = random.Random(seed)
        self.keys = {READ_ONLY_API_KEY: ApiKey(DEFAULT_ORGANIZATION_ID, ("*:read",)),
                     OTHER_ORG_API_KEY: ApiKey(OTHER_ORGANIZATION_ID, ("*",)),
                     api_key: ApiKey(DEFAULT_ORGANIZATION_ID, ("*",))}
        self.users: dict[int, dict[str, Any]] = {}
        self.deals: dict[int, dict[str, Any]] = {}
        self.tickets: dict[int, dict[str, Any]] = {}
        self.labels: dict[int, set[str]] = {DEFAULT_ORGANIZATION_ID: set(),
                                            OTHER_ORGANIZATION_ID: set()}
        for org, users, deals, tickets in ((DEFAULT_ORGANIZATION_ID, 8, 12, ticket_count),
                                           (OTHER_ORGANIZATION_ID, 2, 2, 5)):
            self._seed_org(org, users, deals, tickets)

    def _seed_org(self, org: int, users: int, deals: int, tickets: int) -> None:
        rng, domain = self.rng, ("northwind.io" if org == DEFAULT_ORGANIZATION_ID else "globex.com")
        for _ in range(users):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            created = _iso(_SEED_NOW - timedelta(days=rng.randint(400, 700)))
            uid = len(self.users) + 1
            self.users[uid] = {"id": uid, "email": f"{first}.{last}{uid}@{domain}".lower(),
                               "firstName": first, "lastName": last,
                               "role": USER_ROLES[0] if uid % 4 == 1 else USER_ROLES[1],
                               "createdAt": created, "updatedAt": created, "_org": org}
        for _ in range(deals):
            did = len(self.deals) + 1
            stage = rng.choice(("Pilot", "Expansion", "Renewal"))
            self.deals[did] = {"id": did, "evaluationId": 100 + did, "_org": org,
                               "name": f"{rng.choice(_COMPANIES)} – {stage}",
                               "amount": rng.randrange(15_000, 400_000, 5_000)}
        org_users = [u for u in self.users if self.users[u]["_org"] == org]
        org_deals = [d for d in self.deals if self.deals[d]["_org"] == org]
        # ids are auto-increment, so older tickets get smaller ids
        ages = sorted((rng.randint(86_400, 640 * 86_400) for _ in range(tickets)), reverse=True)
        for age in ages:
            opened = _SEED_NOW - timedelta(seconds=age, milliseconds=rng.randint(0, 999))
            self._seed_ticket(org, rng.choice(org_users), org_deals, opened)

    def _seed_ticket(self, org: int, author: int, org_deals: list[int],
                     created: datetime) -> None:
        rng, tid = self.rng, len(self.tickets) + 1
        kind = rng.choices(TICKET_TYPES, weights=(5, 4, 2, 1))[0]
        state = rng.choices(TICKET_STATES, weights=(5, 2, 3))[0]
        area = rng.choice(_AREAS)
        updated = min(created + timedelta(hours=rng.randint(0, 24 * 60)), _SEED_NOW)
        source = rng.choices(("native", "jira", "linear"), weights=(55, 30, 15))[0]
        key = f"PLAT-{200 + tid}" if source == "jira" else f"ENG-{900 + tid}"
        vendor = {"native": (None, None, None, None),
                  "jira": (str(10_000 + tid), key, 11,
                           f"https://northwind.atlassian.net/browse/{key}"),
                  "linear": (f"{rng.getrandbits(64):016x}", key, 12,
                             f"https://linear.app/northwind/issue/{key}")}[source]
        links = rng.sample(org_deals, k=min(len(org_deals), rng.choice((0, 0, 1, 1, 2, 3))))
        self.tickets[tid] = {
            "type": kind, "state": state, "id": tid, "createdAt": _iso(created),
            "updatedAt": _iso(updated),
            "closedAt": _iso(updated) if state in CLOSED_STATES else None,
            "organizationId": org, "createdByUserId": author,
            "title": rng.choice(_TITLES[kind]).format(a=area),
            "description": None if rng.random() < 0.2 else (
                f"Reported by {rng.choice(_COMPANIES)} during their evaluation.\n\n"
                f"**Impact:** {area} is part of their success criteria.\n\n"
                f"- Seen since {created:%B %Y}\n- Workaround: {rng.choice(_WORKAROUNDS)}"),
            "vendorEntityId": vendor[0], "vendorEntityKey": vendor[1],
            "integrationInstallationId": vendor[2], "vendorEntityUrl": vendor[3],
            "targetDueDate": _iso(created + timedelta(days=rng.randint(14, 120)))
            if rng.random() < 0.4 else None,
            "_labels": sorted(rng.sample(_LABELS, k=rng.randint(0, 3))),
            "_deals": {d: {"priority": rng.choice(DEAL_PRIORITIES),
                           "sharedWithBuyer": rng.random() < 0.5} for d in links},
        }
        self.labels[org].update(self.tickets[tid]["_labels"])

    # -- queries and commands used by the routes --------------------------------------------
    def org_tickets(self, org: int) -> list[dict[str, Any]]:
        return [t for t in self.tickets.values() if t["organizationId"] == org]

    def find(self, org: int, ref: str) -> dict[str, Any]:
        if ref.startswith("eid:"):
            found = next((t for t in self.org_tickets(org) if t["vendorEntityId"] == ref[4:]), None)
        else:
            found = self.tickets.get(int(ref)) if ref.isascii() and ref.isdigit() else None
        if found is None or found["organizationId"] != org:
            raise ApiError(404, {"error": "Ticket not found."})
        return found

    def render(self, ticket: dict[str, Any]) -> dict[str, Any]:
        linked = [{"id": d, "evaluationId": self.deals[d]["evaluationId"],
                   "name": self.deals[d]["name"], **link}
                  for d, link in sorted(ticket["_deals"].items())]
        public = {k: v for k, v in ticket.items() if not k.startswith("_")}
        return {**public, "linkedDeals": linked,
                "dealAmountSum": sum(self.deals[d]["amount"] for d in ticket["_deals"])}

    def apply(self, ticket: dict[str, Any], body: dict[str, Any], now: datetime) -> None:
        org = ticket["organizationId"]
        for deal in body.get("deals") or []:
            if deal["id"] not in self.deals or self.deals[deal["id"]]["_org"] != org:
                raise ApiError(404, {"error": f"Deal {deal['id']} not found."})
        for key in ("title", "type", "vendorEntityUrl"):
            if key in body:
                ticket[key] = body[key]
        if "state" in body:
            was_closed = ticket["state"] in CLOSED_STATES
            ticket["state"] = body["state"]
            if body["state"] not in CLOSED_STATES:
                ticket["closedAt"] = None
            elif not was_closed:
                ticket["closedAt"] = _iso(now)
        if "description" in body:
            text = body["description"]
            ticket["description"] = slate_to_markdown(text) if isinstance(text, list) else text
        if "targetDueDate" in body:
            due = body["targetDueDate"]
            ticket["targetDueDate"] = due and _iso(_parse_datetime(due))
        if "labels" in body:
            ticket["_labels"] = list(dict.fromkeys(body["labels"] or []))
            self.labels[org].update(ticket["_labels"])
        for deal in body.get("deals") or []:
            if deal.get("delete"):
                ticket["_deals"].pop(deal["id"], None)
                continue
            link = ticket["_deals"].setdefault(deal["id"], {"priority": None,
                                                            "sharedWithBuyer": False})
            link["priority"] = deal.get("priority", link["priority"])
        ticket["updatedAt"] = _iso(now)


# -- HTTP ------------------------------------------------------------------------------------
def _authorize(request: Request, scope: str) -> ApiKey:
    state: OpineState = request.app.state.opine
    key = state.keys.get(request.headers.get("x-api-key", ""))
    if key is None:
        raise ApiError(401, {"error": "Unauthorized."})
    if not key.allows(scope):
        raise ApiError(403, {"error": f"Forbidden. This API key is missing the '{scope}' scope."})
    return key


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return orjson.loads(raw) if raw.strip() else _MISSING
    except orjson.JSONDecodeError:
        raise ApiError(400, {"error": "Malformed JSON in request body."}) from None


def _validation(issues: list[dict[str, Any]]) -> None:
    if issues:
        raise ApiError(400, {"error": "Validation error.", "issues": issues})


def _paging(request: Request) -> tuple[int, int]:
    limit, issues = _int_param(request, ("limit",), DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset, more = _int_param(request, ("offset", "skip"), 0, 0, None)
    _validation(issues + more)
    return limit, offset


def _page(items: list[Any], limit: int, offset: int, render: Any = None) -> Response:
    window = items[offset:offset + limit]
    return _json({"items": [render(i) for i in window] if render else window, "limit": limit,
                  "offset": offset, "totalCount": len(items)})


async def list_tickets(request: Request) -> Response:
    key, state = _authorize(request, "tickets:read"), request.app.state.opine
    limit, offset = _paging(request)
    return _page(state.org_tickets(key.organization_id), limit, offset, state.render)


async def create_ticket(request: Request) -> Response:
    key, state = _authorize(request, "tickets:write"), request.app.state.opine
    body = await _body(request)
    _validation(_validate_ticket({} if body is _MISSING else body, partial=False))
    now = datetime.now(UTC)
    ticket = {"type": body["type"], "state": TICKET_STATES[0], "id": max(state.tickets) + 1,
              "createdAt": _iso(now), "updatedAt": _iso(now), "closedAt": None,
              "organizationId": key.organization_id,
              "createdByUserId": min(u for u, v in state.users.items()
                                     if v["_org"] == key.organization_id),
              "title": body["title"], "description": None, "vendorEntityId": None,
              "vendorEntityKey": None, "integrationInstallationId": None, "targetDueDate": None,
              "vendorEntityUrl": None, "_labels": [], "_deals": {}}
    state.apply(ticket, body, now)
    state.tickets[ticket["id"]] = ticket
    return _json(state.render(ticket), 201)


async def get_ticket(request: Request) -> Response:
    key, state = _authorize(request, "tickets:read"), request.app.state.opine
    return _json(state.render(state.find(key.organization_id, request.path_params["id"])))


async def update_ticket(request: Request) -> Response:
    key, state = _authorize(request, "tickets:write"), request.app.state.opine
    body = await _body(request)
    _validation(_validate_ticket({} if body is _MISSING else body, partial=True))
    ticket = state.find(key.organization_id, request.path_params["id"])
    state.apply(ticket, {} if body is _MISSING else body, datetime.now(UTC))
    return _json(state.render(ticket))


async def list_users(request: Request) -> Response:
    key, state = _authorize(request, "users:read"), request.app.state.opine
    limit, offset = _paging(request)
    users = [{k: v for k, v in u.items() if k != "_org"} for u in state.users.values()
             if u["_org"] == key.organization_id]
    return _page(users, limit, offset)


async def _api_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _json(exc.body, exc.status)


async def _not_found(_: Request, __: Exception) -> Response:
    return _json({"error": "Not found."}, 404)


def create_app(*, seed: int = 7, ticket_count: int = 260,
               api_key: str = DEFAULT_API_KEY) -> SimulatorControl:
    """A fresh simulated Opine tenant, wrapped with the ``/__sim`` control endpoints."""
    app = Starlette(
        routes=[
            Route("/v1/tickets", list_tickets, methods=["GET"]),
            Route("/v1/tickets", create_ticket, methods=["POST"]),
            Route("/v1/tickets/{id}", get_ticket, methods=["GET"]),
            Route("/v1/tickets/{id}", update_ticket, methods=["PUT"]),
            Route("/v1/organization/users", list_users, methods=["GET"]),
        ],
        exception_handlers={ApiError: _api_error, HTTPException: _not_found},
    )
    app.state.opine = OpineState(seed, ticket_count, api_key)
    return SimulatorControl(app)
