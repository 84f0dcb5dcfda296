"""In-memory simulator of the Selectel Tickets API (v1.1.0), served under ``/support``.

Layout, validation and error bodies follow ``connectors/selectel/README.md`` (section
"Simulator"); every choice the public documentation leaves open is listed there as an
assumption. ``create_app()`` returns the app wrapped in :class:`SimulatorControl`.
"""

from __future__ import annotations

import math
import random
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from unigate.kit import SimulatorControl

ACCOUNT_ID = "208417"  # the single "collection": every ticket belongs to the token's account
DEFAULT_API_KEY = f"Xq7tLmB2vR9cKs4WnZ1pDh8Fy_{ACCOUNT_ID}"  # Selectel tokens end in _<account id>
BASE_PATH = "/support"  # simulator paths mirror https://api.selectel.ru/support/...
PRODUCTION_BASE_URL = "https://api.selectel.ru/support"
DEFAULT_ITEMS_PER_PAGE = 10
MAX_ITEMS_PER_PAGE = 1000

# status key (internal only; never serialised) -> the documented localized ``status`` object
STATUSES: dict[str, dict[str, str]] = {
    "open": {"en": "Open", "ru": "Открыт"},
    "in_progress": {"en": "In progress", "ru": "В работе"},
    "awaiting_client": {"en": "Awaiting reply", "ru": "Ожидает ответа"},
    "resolved": {"en": "Resolved", "ru": "Решён"},
    "closed": {"en": "Closed", "ru": "Закрыт"},
}
TOPICS: list[dict[str, Any]] = [
    {"key": key, "name": {"en": en, "ru": ru}}
    for key, en, ru in [
        ("cloud_servers", "Cloud servers", "Облачные серверы"),
        ("dedicated_servers", "Dedicated servers", "Выделенные серверы"),
        ("object_storage", "Object storage", "Объектное хранилище"),
        ("managed_kubernetes", "Managed Kubernetes", "Managed Kubernetes"),
        ("managed_databases", "Cloud databases", "Облачные базы данных"),
        ("network", "Network and IP addresses", "Сеть и IP-адреса"),
        ("dns", "DNS hosting", "DNS-хостинг"),
        ("billing", "Billing and documents", "Финансы и документы"),
        ("account", "Account and access", "Аккаунт и доступ"),
        ("other", "Other", "Другое"),
    ]
]
USERS = [  # account users: the source of client_aliased_name and client_emails
    ("Ivan Petrov", "ivan.petrov@northwind-labs.ru"), ("Maria Sokolova", "m.sokolova@northwind-labs.ru"),
    ("Dmitry Volkov", "dvolkov@northwind-labs.ru"), ("Anna Kuznetsova", "anna.k@northwind-labs.ru"),
    ("Sergey Morozov", "s.morozov@northwind-labs.ru"), ("Olga Lebedeva", "olga.lebedeva@northwind-labs.ru"),
    ("DevOps on-call", "devops@northwind-labs.ru"), ("Accounting", "buh@northwind-labs.ru"),
]
SUMMARIES = [
    "Cloud server {srv} unreachable after reboot in {zone}", "Increase vCPU quota in project {proj} ({zone})",
    "Invoice for {month} not received", "S3 bucket {bucket} returns 403 on public URL",
    "DNS zone {domain} is not delegated", "SMART errors on disk sdb of dedicated server {srv}",
    "MKS cluster node NotReady in {zone}", "High latency to {zone} from our office network",
    "Cannot attach network volume to {srv}", "PostgreSQL cluster {proj}-db failover took 10 minutes",
    "Request a PTR record for {ip}", "Floating IP {ip} stopped responding",
    "Closing documents for {month} needed", "Two-factor authentication lost for user {user}",
    "Snapshot of {srv} stuck in 'creating'", "Load balancer health checks fail for {proj}",
    "Packet loss on private network in {zone}", "Upgrade RAM on dedicated server {srv}",
    "Object storage upload speed degraded", "Question about prepaid billing for {proj}",
]
BODIES = [
    "Hello! Since yesterday evening we see the following: {detail}. Please take a look.",
    "Good afternoon. The problem started about an hour ago: {detail}. It affects production.",
    "Hi, {detail}. Could you check it on your side? Project: {proj}, zone {zone}.",
]
DETAILS = [
    "ping shows 30% packet loss", "the console shows a kernel panic", "requests time out",
    "the operation fails with error 500", "the graphs show a sharp drop at night",
    "the status in the panel has not changed for hours", "we get 'access denied'",
]
SUPPORT_REPLIES = [
    "Hello! Thank you for contacting us. We are checking the issue and will get back soon.",
    "We have found the cause: a faulty switch port. It has been replaced, please check.",
    "Please send the output of `mtr` to the server from your side.",
    "The quota has been increased. Let us know if anything else is needed.",
    "The documents have been sent to the email from the account settings.",
    "Our engineers have fixed the problem. Please confirm that everything works.",
]
CLIENT_REPLIES = [
    "Here is the mtr output: loss starts at the 4th hop.", "Thanks, it works now.",
    "The problem is still there, please check again.", "Attached the logs from the server.", "Any news on this?",
]
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
Json = dict[str, Any]


def _ts(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: Json | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields

    def body(self) -> Json:
        error: Json = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return {"error": error}


@dataclass
class Comment:
    id: int
    ticket_number: int
    body: str
    sent_at: datetime
    is_client_author: bool
    files: list[str] = field(default_factory=list)
    is_client_read: bool = True
    splitted_at: datetime | None = None
    splitted_to_ticket_number: int | None = None
    vote: Json | None = None

    def to_json(self) -> Json:
        return {
            "files": self.files, "body": self.body, "id": self.id,
            "is_client_author": self.is_client_author, "is_client_read": self.is_client_read,
            "sent_at": _ts(self.sent_at), "splitted_at": _ts(self.splitted_at),
            "splitted_to_ticket_number": self.splitted_to_ticket_number, "vote": self.vote,
        }


@dataclass
class Ticket:
    number: int
    summary: str
    created_at: datetime
    client_aliased_name: str | None = None
    client_emails: list[str] = field(default_factory=list)
    topic_key: str | None = None  # accepted on create, never returned (not in the documented shape)
    status: str = "open"
    is_client_author: bool = True
    is_client_read: bool = True
    is_resolved: bool = False
    closed_at: datetime | None = None
    updated_at: datetime | None = None
    splitted_from_ticket_number: int | None = None
    vote: Json | None = None
    comments: list[Comment] = field(default_factory=list)

    @property
    def is_closed(self) -> bool:
        return self.status == "closed"

    def to_json(self) -> Json:
        return {
            "client_aliased_name": self.client_aliased_name, "client_emails": self.client_emails,
            "closed_at": _ts(self.closed_at), "created_at": _ts(self.created_at),
            "is_client_author": self.is_client_author, "is_client_read": self.is_client_read,
            "is_closed": self.is_closed, "is_resolved": self.is_resolved, "number": self.number,
            "splitted_from_ticket_number": self.splitted_from_ticket_number,
            "status": STATUSES[self.status], "summary": self.summary, "type": None,
            "updated_at": _ts(self.updated_at), "vote": self.vote,
        }


# -- validation (marshmallow-style messages, collected per field) ---------------------------
Check = Callable[[Any], str | None]


def _string(lo: int, hi: int | None = None) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return "Not a valid string."
        if hi is None:
            return "Shorter than minimum length 1." if len(value) < lo else None
        return None if lo <= len(value) <= hi else f"Length must be between {lo} and {hi}."
    return check


def _integer(allowed: range | tuple[int, ...]) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "Not a valid integer."
        if value in allowed:
            return None
        if isinstance(allowed, tuple):
            return f"Must be one of: {', '.join(map(str, allowed))}."
        return (f"Must be greater than or equal to {allowed.start} and less than or equal to "
                f"{allowed.stop - 1}.")
    return check


def _list_of(item: Check, message: str, lo: int = 0, hi: int | None = None) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, list):
            return "Not a valid list."
        if len(value) < lo or (hi is not None and len(value) > hi):
            return f"Length must be between {lo} and {hi}." if hi else "Shorter than minimum length 1."
        return message if any(item(v) for v in value) else None
    return check


def _is_uuid(value: Any) -> str | None:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return "bad"
    return None


def _is_email(value: Any) -> str | None:
    return None if isinstance(value, str) and EMAIL_RE.match(value) else "bad"


FILES = _list_of(_is_uuid, "Not a valid UUID.", 1, 10)
BODY = _string(1, 50000)
NON_EMPTY = _string(1)
# schema: field -> (required, nullable, check)
CREATE_TICKET = {
    "files": (False, False, FILES), "client_aliased_name": (False, False, NON_EMPTY),
    "client_emails": (False, False, _list_of(_is_email, "Not a valid email address.", 1)),
    "comment_body": (True, False, BODY), "summary": (True, False, _string(1, 255)),
    "topic_key": (False, False, NON_EMPTY),
}
MODIFY_TICKET = {
    "client_aliased_name": (False, True, NON_EMPTY),
    "client_emails": (False, False, _list_of(_is_email, "Not a valid email address.")),
}
CLOSE_TICKET = {"comment": (False, False, NON_EMPTY), "score": (False, False, _integer(range(1, 11)))}
EVALUATE_TICKET = {"comment": (False, False, NON_EMPTY), "score": (True, False, _integer(range(1, 11)))}
EVALUATE_COMMENT = {"comment": (False, False, NON_EMPTY), "score": (True, False, _integer((1, -1)))}
NEW_COMMENT = {"files": (False, False, FILES), "body": (True, False, BODY)}


def validate(data: Any, schema: dict[str, tuple[bool, bool, Check]]) -> Json:
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "Request body must be a JSON object.")
    errors: Json = {name: ["Unknown field."] for name in data if name not in schema}
    for name, (required, nullable, check) in schema.items():
        if name not in data:
            if required:
                errors[name] = ["Missing data for required field."]
        elif data[name] is None:
            if not nullable:
                errors[name] = ["Field may not be null."]
        elif (message := check(data[name])) is not None:
            errors[name] = [message]
    if errors:
        raise ApiError(400, "validation_error", "Request validation failed.", errors)
    return data


def _query_bool(value: str) -> bool | None:
    lowered = value.lower()
    if lowered in {"true", "1", "yes", "on"}:
        return True
    return False if lowered in {"false", "0", "no", "off"} else None


def _query_int(value: str, lo: int, hi: int | None) -> tuple[int | None, str | None]:
    if not re.fullmatch(r"[+-]?\d+", value):
        return None, "Not a valid integer."
    number = int(value)
    if number < lo or (hi is not None and number > hi):
        bound = f" and less than or equal to {hi}" if hi is not None else ""
        return None, f"Must be greater than or equal to {lo}{bound}."
    return number, None


# -- state -----------------------------------------------------------------------------------
class Store:
    """All tickets and comments of one simulated account."""

    def __init__(self, seed: int, ticket_count: int) -> None:
        self.rng = random.Random(seed)
        self.tickets: dict[int, Ticket] = {}
        self.comments: dict[int, Comment] = {}
        self.last_number = 2_417_300
        self.last_comment_id = 18_400_000
        self._seed(ticket_count)

    # ids are global across all Selectel customers, so one account sees gaps between them
    def _next_number(self) -> int:
        self.last_number += self.rng.randint(3, 60)
        return self.last_number

    def _add_comment(self, ticket: Ticket, body: str, at: datetime, client: bool,
                     files: list[str] | None = None) -> Comment:
        self.last_comment_id += self.rng.randint(1, 25)
        comment = Comment(self.last_comment_id, ticket.number, body, at, client, files or [])
        ticket.comments.append(comment)
        self.comments[comment.id] = comment
        ticket.updated_at = at
        return comment

    def _seed(self, count: int) -> None:
        rng, moment = self.rng, datetime(2024, 2, 1, 8, 0, tzinfo=UTC)
        for index in range(count):
            moment += timedelta(minutes=rng.randint(20, 3600))
            self._seed_ticket(moment, age=1 - index / max(count, 1))
        numbers, half = sorted(self.tickets), len(self.tickets) // 2
        pairs = zip(rng.sample(numbers[:half], min(3, half)), rng.sample(numbers[half:], min(3, half)), strict=True)
        for origin, split in ((self.tickets[a], self.tickets[b]) for a, b in pairs):
            split.splitted_from_ticket_number = origin.number
            origin.comments[0].splitted_at = split.created_at
            origin.comments[0].splitted_to_ticket_number = split.number

    def _seed_ticket(self, created: datetime, age: float) -> None:
        rng = self.rng
        name, _ = rng.choice(USERS)
        words = {"srv": f"srv-{rng.randint(100, 999)}", "zone": rng.choice(["ru-1a", "ru-3b", "ru-7a", "ru-9a"]),
                 "proj": rng.choice(["shop", "crm", "analytics", "staging"]), "bucket": f"media-{rng.randint(1, 99)}",
                 "domain": rng.choice(["northwind-labs.ru", "nwl.shop", "nwl-cdn.ru"]),
                 "month": rng.choice(["January", "March", "June", "September", "November"]),
                 "ip": f"95.213.{rng.randint(0, 255)}.{rng.randint(1, 254)}", "user": name}
        summary = rng.choice(SUMMARIES).format(**words)
        ticket = Ticket(self._next_number(), summary, created,
                        client_aliased_name=name if rng.random() < 0.8 else None,
                        client_emails=sorted({e for _, e in rng.sample(USERS, rng.randint(0, 2))}),
                        topic_key=rng.choice(TOPICS)["key"], is_client_author=rng.random() < 0.95)
        self.tickets[ticket.number] = ticket
        body = rng.choice(BODIES).format(detail=rng.choice(DETAILS), **words)
        self._add_comment(ticket, body, created, ticket.is_client_author, self._files(0.15))
        at, client = created, not ticket.is_client_author
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4, 6])):
            at += timedelta(minutes=rng.randint(5, 720))
            comment = self._add_comment(ticket, rng.choice(CLIENT_REPLIES if client else SUPPORT_REPLIES),
                                        at, client, self._files(0.1 if client else 0.0))
            if not client and rng.random() < 0.15:
                comment.vote = {"comment": None, "created_at": _ts(at + timedelta(hours=1)),
                                "score": rng.choice([1, 1, 1, -1])}
            client = not client
        self._seed_status(ticket, age)

    def _seed_status(self, ticket: Ticket, age: float) -> None:
        rng, last = self.rng, ticket.comments[-1]
        support_last = not last.is_client_author
        if rng.random() < 0.35 + 0.6 * age:  # older tickets are mostly closed
            ticket.status, ticket.is_resolved = "closed", support_last and rng.random() < 0.85
            ticket.closed_at = ticket.updated_at = last.sent_at + timedelta(hours=rng.randint(1, 96))
            if rng.random() < 0.4:
                ticket.vote = {"comment": rng.choice([None, "Quick and helpful, thanks!", "Took too long."]),
                               "created_at": _ts(ticket.closed_at), "score": rng.randint(4, 10)}
        elif support_last:
            ticket.status = rng.choice(["awaiting_client", "awaiting_client", "resolved"])
            ticket.is_resolved = ticket.status == "resolved"
            ticket.is_client_read = last.is_client_read = rng.random() < 0.5
        else:
            ticket.status = "open" if len(ticket.comments) == 1 else "in_progress"

    def _files(self, chance: float) -> list[str]:
        if self.rng.random() >= chance:
            return []
        return [str(uuid.UUID(int=self.rng.getrandbits(128), version=4)) for _ in range(self.rng.randint(1, 3))]

    # -- operations ---------------------------------------------------------------------------
    def ticket(self, number: int) -> Ticket:
        if number not in self.tickets:
            raise ApiError(404, "not_found", f"Ticket {number} not found.")
        return self.tickets[number]

    def comment(self, comment_id: int) -> Comment:
        if comment_id not in self.comments:
            raise ApiError(404, "not_found", f"Comment {comment_id} not found.")
        return self.comments[comment_id]

    def listing(self, opened: bool, closed: bool, query: str | None) -> list[Ticket]:
        terms = query.lower().split() if query else []
        found = []
        for ticket in sorted(self.tickets.values(), key=lambda t: t.number, reverse=True):
            if (opened and ticket.is_closed) or (closed and not ticket.is_closed):
                continue
            text = " ".join([str(ticket.number), ticket.summary, *(c.body for c in ticket.comments)]).lower()
            if all(term in text for term in terms):
                found.append(ticket)
        return found

    def create(self, data: Json) -> Ticket:
        if "topic_key" in data and data["topic_key"] not in {t["key"] for t in TOPICS}:
            raise ApiError(404, "not_found", f"Topic {data['topic_key']!r} not found.")
        now = _now()
        ticket = Ticket(self._next_number(), data["summary"], now,
                        client_aliased_name=data.get("client_aliased_name"),
                        client_emails=list(data.get("client_emails", [])), topic_key=data.get("topic_key"))
        self.tickets[ticket.number] = ticket
        self._add_comment(ticket, data["comment_body"], now, True, list(data.get("files", [])))
        return ticket

    def client_comment(self, ticket: Ticket, body: str, files: list[str]) -> Comment:
        if ticket.is_closed:
            raise ApiError(400, "ticket_closed", f"Ticket {ticket.number} is closed; reopen it to comment.")
        comment = self._add_comment(ticket, body, _now(), True, files)
        if ticket.status in {"awaiting_client", "resolved"}:
            ticket.status, ticket.is_resolved = "open", False
        return comment

    def close(self, ticket: Ticket, data: Json) -> None:
        if ticket.is_closed:
            raise ApiError(400, "ticket_closed", f"Ticket {ticket.number} is already closed.")
        now = _now()
        if "score" in data:
            ticket.vote = {"comment": data.get("comment"), "created_at": _ts(now), "score": data["score"]}
        elif "comment" in data:
            self._add_comment(ticket, data["comment"], now, True)
        ticket.status, ticket.closed_at, ticket.updated_at = "closed", now, now

    def reopen(self, ticket: Ticket, data: Json) -> None:
        if not ticket.is_closed:
            raise ApiError(400, "ticket_not_closed", f"Ticket {ticket.number} is not closed.")
        self._add_comment(ticket, data["body"], _now(), True, list(data.get("files", [])))
        ticket.status, ticket.is_resolved, ticket.closed_at = "open", False, None

    def evaluate(self, ticket: Ticket, data: Json) -> Json:
        if not (ticket.is_closed or ticket.is_resolved):
            raise ApiError(400, "ticket_not_resolved",
                           f"Ticket {ticket.number} can be evaluated only when resolved or closed.")
        ticket.vote = {"comment": data.get("comment"), "created_at": _ts(_now()), "score": data["score"]}
        return ticket.vote

    def evaluate_comment(self, comment: Comment, data: Json) -> Json:
        if comment.is_client_author:
            raise ApiError(400, "own_comment", "Only support comments can be evaluated.")
        comment.vote = {"comment": data.get("comment"), "created_at": _ts(_now()), "score": data["score"]}
        return comment.vote


# -- HTTP layer ------------------------------------------------------------------------------
def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise ApiError(400, "bad_request", "Request body is not valid JSON.") from None


def _list_params(request: Request) -> Json:
    """page, items_per_page, only_opened, only_closed and q, validated, with defaults."""
    params, errors = request.query_params, {}
    clean: Json = {"page": 1, "items_per_page": DEFAULT_ITEMS_PER_PAGE, "only_opened": False,
                   "only_closed": False, "q": params.get("q")}
    for name, hi in (("page", None), ("items_per_page", MAX_ITEMS_PER_PAGE)):
        if name in params:
            clean[name], message = _query_int(params[name], 1, hi)
            if message:
                errors[name] = [message]
    for name in ("only_opened", "only_closed"):
        if name in params:
            clean[name] = _query_bool(params[name])
            if clean[name] is None:
                errors[name] = ["Not a valid boolean."]
    if clean["q"] == "":
        errors["q"] = ["Shorter than minimum length 1."]
    if errors:
        raise ApiError(400, "validation_error", "Request validation failed.", errors)
    return clean


Handler = Callable[[Request], Awaitable[Response]]


def create_app(*, seed: int = 7, ticket_count: int = 260, api_key: str = DEFAULT_API_KEY) -> SimulatorControl:
    """The Selectel Tickets simulator with ``ticket_count`` seeded tickets, behind ``X-Token``."""
    store = Store(seed, ticket_count)

    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            token = request.headers.get("x-token")
            if not token:
                raise ApiError(401, "unauthorized", "Authentication required: the X-Token header is missing.")
            if token != api_key:
                raise ApiError(401, "unauthorized", "Invalid token.")
            return await handler(request)
        return guarded

    def number(request: Request) -> Ticket:
        return store.ticket(request.path_params["ticket_number"])

    async def list_tickets(request: Request) -> Response:
        params = _list_params(request)
        page, ipp = params["page"], params["items_per_page"]
        found = store.listing(params["only_opened"], params["only_closed"], params["q"])
        items = [t.to_json() for t in found[(page - 1) * ipp: page * ipp]]
        return _json({"item_count": len(found), "items": items, "items_per_page": ipp, "page": page,
                      "page_count": math.ceil(len(found) / ipp)})

    async def create_ticket(request: Request) -> Response:
        return _json(store.create(validate(await _body(request), CREATE_TICKET)).to_json())

    async def get_ticket(request: Request) -> Response:
        return _json(number(request).to_json())

    async def modify_ticket(request: Request) -> Response:
        ticket, data = number(request), validate(await _body(request), MODIFY_TICKET)
        if "client_aliased_name" in data:
            ticket.client_aliased_name = data["client_aliased_name"]
        if "client_emails" in data:
            ticket.client_emails = list(data["client_emails"])
        ticket.updated_at = _now()
        return _json(ticket.to_json())

    async def close_ticket(request: Request) -> Response:
        ticket = number(request)
        store.close(ticket, validate(await _body(request), CLOSE_TICKET))
        return _json(ticket.to_json())

    async def reopen_ticket(request: Request) -> Response:
        ticket = number(request)
        store.reopen(ticket, validate(await _body(request), NEW_COMMENT))
        return _json(ticket.to_json())

    async def evaluate_ticket(request: Request) -> Response:
        ticket = number(request)
        return _json(store.evaluate(ticket, validate(await _body(request), EVALUATE_TICKET)))

    async def create_comment(request: Request) -> Response:
        ticket = number(request)
        data = validate(await _body(request), NEW_COMMENT)
        return _json(store.client_comment(ticket, data["body"], list(data.get("files", []))).to_json())

    async def list_comments(request: Request) -> Response:
        return _json({"items": [c.to_json() for c in number(request).comments]})

    async def get_comment(request: Request) -> Response:
        return _json(store.comment(request.path_params["comment_id"]).to_json())

    async def evaluate_comment(request: Request) -> Response:
        comment = store.comment(request.path_params["comment_id"])
        return _json(store.evaluate_comment(comment, validate(await _body(request), EVALUATE_COMMENT)))

    async def list_topics(request: Request) -> Response:
        return _json({"items": TOPICS})

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return _json(exc.body(), exc.status)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
        response = _json(ApiError(exc.status_code, code, str(exc.detail)).body(), exc.status_code)
        response.headers.update(exc.headers or {})
        return response

    ticket_path = BASE_PATH + "/tickets/{ticket_number:int}"
    routes = [
        Route(BASE_PATH + "/tickets", endpoint(list_tickets), methods=["GET"]),
        Route(BASE_PATH + "/tickets", endpoint(create_ticket), methods=["POST"]),
        Route(ticket_path, endpoint(get_ticket), methods=["GET"]),
        Route(ticket_path, endpoint(modify_ticket), methods=["PATCH"]),
        Route(ticket_path + "/close", endpoint(close_ticket), methods=["POST"]),
        Route(ticket_path + "/reopen", endpoint(reopen_ticket), methods=["POST"]),
        Route(ticket_path + "/evaluate", endpoint(evaluate_ticket), methods=["POST"]),
        Route(ticket_path + "/comments", endpoint(list_comments), methods=["GET"]),
        Route(ticket_path + "/comments", endpoint(create_comment), methods=["POST"]),
        Route(BASE_PATH + "/comments/{comment_id:int}", endpoint(get_comment), methods=["GET"]),
        Route(BASE_PATH + "/comments/{comment_id:int}/evaluate", endpoint(evaluate_comment), methods=["POST"]),
        Route(BASE_PATH + "/topics", endpoint(list_topics), methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={ApiError: api_error, HTTPException: http_error})
    return SimulatorControl(app)
