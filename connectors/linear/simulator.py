"""In-memory simulator of Linear's GraphQL API (``POST /graphql``).

Documents are parsed and validated by graphql-core against Linear's own schema (the subset
vendored in ``spec/``) and executed by resolvers over in-memory data, so a field or argument Linear
does not have fails with the error Linear's validation gives. Behaviour the schema does not fix
follows the research notes and Linear's SDK (``packages/sdk/src/error.ts``); each such choice is
listed under *Assumptions* in this folder's README.
"""

from __future__ import annotations

import math
import random
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    build_schema,
    execute_sync,
    parse,
    validate,
)
from graphql.error import GraphQLSyntaxError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from unigate.kit import OAuthServer, SimulatorControl

SCHEMA_PATH = Path(__file__).parent / "spec" / "schema.subset.graphql"
API_KEY = "lin_api_8f3c2a1e9d7b6f5a4c3e2d1b0a9f8e7d6c5b4a39"
OAUTH_TOKEN = "lin_oauth_5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d"
ORG_URL_KEY = "unigate-sim"
SEED_EPOCH = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
MAX_COMPLEXITY = 10_000          # one query
DEFAULT_PAGE = 50                # `first` when neither first nor last is given (the schema says 50)
MAX_PAGE = 250
PRIORITY_LABELS = ("No priority", "Urgent", "High", "Medium", "Low")
STATE_TYPES = ("triage", "backlog", "unstarted", "started", "completed", "canceled", "duplicate")
# team key, name, issue count (ENG's is create_app's), states (name, type, color), triage
TEAMS = (("ENG", "Engineering", None, (("Triage", "triage", "#FC7840"), ("Backlog", "backlog", "#bec2c8"),
                                       ("Todo", "unstarted", "#e2e2e2"), ("In Progress", "started", "#f2c94c"),
                                       ("In Review", "started", "#0f783c"), ("Done", "completed", "#5e6ad2"),
                                       ("Canceled", "canceled", "#95a2b3"), ("Duplicate", "duplicate", "#95a2b3"))),
         ("DES", "Design", 15, (("Backlog", "backlog", "#bec2c8"), ("Todo", "unstarted", "#e2e2e2"),
                                ("In Progress", "started", "#f2c94c"), ("Done", "completed", "#5e6ad2"),
                                ("Canceled", "canceled", "#95a2b3"))))
USERS = (("Ada Byron", "ada"), ("Bao Nguyen", "bao"), ("Carmen Ruiz", "carmen"), ("Deniz Kaya", "deniz"),
         ("Elif Demir", "elif"), ("Femi Adeyemi", "femi"))
WORKSPACE_LABELS = (("Bug", "#eb5757"), ("Feature", "#bb87fc"), ("Improvement", "#4ea7fc"))
TEAM_LABELS = {"ENG": (("backend", "#26b5ce"), ("frontend", "#f2994a")), "DES": (("ux", "#0f783c"),)}
TITLES = ("Sync stalls on large workspaces", "Keyboard shortcut for archive", "Slow search on mobile",
          "Inbox badge count is wrong", "Export issues to CSV", "Dark mode contrast", "Webhook retries",
          "SAML login loop", "Cycle burndown off by one", "Markdown tables in comments")
BODIES = ("Steps to reproduce are in the linked thread.", "Customer report from **Acme**.",
          "- [ ] design\n- [ ] build\n- [ ] ship", "Happens since the last release.")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@lru_cache(maxsize=1)
def schema() -> GraphQLSchema:
    """Linear's schema (the vendored subset), built once per process and given our resolvers."""
    built = build_schema(SCHEMA_PATH.read_text())
    for (type_name, field_name), resolver in RESOLVERS.items():
        built.get_type(type_name).fields[field_name].resolve = resolver  # type: ignore[union-attr]
    return built


# -- errors ----------------------------------------------------------------------------------------

class LinearError(Exception):
    """A GraphQL error in Linear's shape: ``extensions {type, code, userError, userPresentableMessage}``."""

    def __init__(self, message: str, kind: str, code: str, *, user_error: bool = False,
                 presentable: str | None = None) -> None:
        super().__init__(message)
        self.extensions = {"type": kind, "code": code, "userError": user_error,
                           **({"userPresentableMessage": presentable} if presentable else {})}

    def as_json(self, path: Iterable[str | int] | None = None) -> dict[str, Any]:
        return {"message": str(self), **({"path": list(path)} if path else {}), "extensions": self.extensions}


def invalid_input(message: str, presentable: str | None = None) -> LinearError:
    return LinearError(message, "invalid input", "INVALID_INPUT", user_error=True, presentable=presentable or message)


def not_found(kind: str) -> LinearError:
    return LinearError(f"Entity not found: {kind}", "invalid input", "INVALID_INPUT", user_error=True,
                       presentable=f"Could not find referenced {kind}.")


AUTHENTICATION = LinearError("Authentication required, not authenticated", "authentication error",
                             "AUTHENTICATION_ERROR", presentable="You need to authenticate to access this operation.")


# -- state -----------------------------------------------------------------------------------------

@dataclass
class Record:
    """One stored entity; ``kind`` is its GraphQL type, ``values`` its scalar fields by schema name."""

    kind: str
    id: str
    values: dict[str, Any]
    links: dict[str, Any] = field(default_factory=dict)  # relation name -> id (or list of ids)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class State:
    rng: random.Random
    records: dict[str, Record] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    clock: datetime = SEED_EPOCH
    sync_id: int = 1000

    def tick(self, seconds: float = 1) -> datetime:
        self.clock += timedelta(seconds=seconds)
        return self.clock

    def sync(self) -> float:
        self.sync_id += 1
        return float(self.sync_id)

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add(self, kind: str, values: dict[str, Any], **links: Any) -> Record:
        record = Record(kind, values.get("id") or self.new_id(), values, links)
        record.values["id"] = record.id
        record.values.setdefault("updatedAt", values.get("createdAt"))
        self.records[record.id] = record
        return record

    def of(self, kind: str) -> list[Record]:
        return [r for r in self.records.values() if r.kind == kind]

    def get(self, kind: str, ident: str | None) -> Record:
        record = self.records.get(ident or "")
        if record is None and kind == "Issue" and ident:
            record = next((r for r in self.of("Issue") if r.identifier == ident.upper()), None)
        if record is None and kind == "Team" and ident:
            record = next((r for r in self.of("Team") if r.key == ident.upper()), None)
        if record is None or record.kind != kind or record.values.get("_deleted"):
            raise not_found(kind)
        return record

    def link(self, record: Record, name: str) -> Record | None:
        ident = record.links.get(name)
        return self.records.get(ident) if ident else None

    def team_states(self, team: Record) -> list[Record]:
        return sorted((s for s in self.of("WorkflowState") if s.links["team"] == team.id), key=lambda s: s.position)


def _seed(state: State, issue_count: int) -> None:
    rng = state.rng
    state.add("Organization", {"name": "Unigate Sim", "urlKey": ORG_URL_KEY, "createdAt": _stamp(SEED_EPOCH)})
    for name, handle in USERS:
        state.add("User", {"name": name, "displayName": handle, "email": f"{handle}@unigate-sim.example",
                           "active": True, "admin": handle == "ada", "guest": False, "app": False,
                           "createdAt": _stamp(SEED_EPOCH - timedelta(days=300)), "timezone": "Europe/Madrid"})
    for name, color in WORKSPACE_LABELS:
        state.add("IssueLabel", {"name": name, "color": color, "isGroup": False, "createdAt": _stamp(SEED_EPOCH)},
                  team=None)
    for key, name, _, states in TEAMS:
        _seed_team(state, key, name, states)
    for key, _, count, _ in TEAMS:
        team = state.get("Team", key)
        for _ in range(issue_count if count is None else count):
            _seed_issue(state, rng, team)
    state.clock = max(_parse_time(i.updatedAt) for i in state.of("Issue"))


def _seed_team(state: State, key: str, name: str, states: tuple[tuple[str, str, str], ...]) -> None:
    team = state.add("Team", {"key": key, "name": name, "displayName": name, "private": False,
                              "timezone": "Europe/Madrid", "triageEnabled": states[0][1] == "triage",
                              "createdAt": _stamp(SEED_EPOCH - timedelta(days=200))})
    for position, (state_name, kind, color) in enumerate(states):
        state.add("WorkflowState", {"name": state_name, "type": kind, "color": color, "position": float(position),
                                    "createdAt": team.createdAt}, team=team.id)
    default = next(s for s in state.team_states(team) if s.type == "unstarted")
    team.links["defaultIssueState"] = default.id
    for label, color in TEAM_LABELS[key]:
        state.add("IssueLabel", {"name": label, "color": color, "isGroup": False, "createdAt": team.createdAt},
                  team=team.id)


def _seed_issue(state: State, rng: random.Random, team: Record) -> None:
    created = state.tick(rng.randint(600, 30_000))
    states = state.team_states(team)
    users = state.of("User")
    labels = [label for label in state.of("IssueLabel") if label.links["team"] in (None, team.id)]
    earlier = [i for i in state.of("Issue") if i.links["team"] == team.id]
    workflow_state = rng.choice(states)
    updated = created + timedelta(minutes=rng.randint(0, 40_000))
    issue = _new_issue(state, team, {
        "title": rng.choice(TITLES), "description": rng.choice(BODIES) if rng.random() < 0.7 else None,
        "priority": rng.choice((0, 1, 2, 2, 3, 3, 3, 4)),
        "dueDate": (created + timedelta(days=rng.randint(3, 40))).date().isoformat() if rng.random() < 0.25 else None,
    }, created, state_id=workflow_state.id,
        assignee=rng.choice(users).id if rng.random() < 0.7 else None, creator=rng.choice(users).id,
        labels=sorted(label.id for label in rng.sample(labels, rng.choice((0, 1, 1, 2)))),
        parent=rng.choice(earlier).id if earlier and rng.random() < 0.1 else None)
    issue.values["updatedAt"] = _stamp(updated)
    _stamp_state_change(issue, workflow_state, updated)
    for n in range(rng.choice((0, 0, 1, 2))):
        at = created + timedelta(hours=n + 1)
        state.add("Comment", {"body": rng.choice(BODIES), "createdAt": _stamp(at), "updatedAt": _stamp(at),
                              "editedAt": None}, issue=issue.id, user=rng.choice(users).id)


def _new_issue(state: State, team: Record, values: dict[str, Any], at: datetime, *, state_id: str,
               assignee: str | None, creator: str, labels: list[str], parent: str | None) -> Record:
    number = state.counters.get(team.key, 0) + 1
    state.counters[team.key] = number
    identifier = f"{team.key}-{number}"
    return state.add("Issue", {
        "identifier": identifier, "number": float(number), "createdAt": _stamp(at), "updatedAt": _stamp(at),
        "archivedAt": None, "trashed": None, "completedAt": None, "canceledAt": None, "startedAt": None,
        "url": f"https://linear.app/{ORG_URL_KEY}/issue/{identifier.lower()}", "sortOrder": float(-number),
        "branchName": f"{identifier.lower()}", "estimate": None, **values},
        team=team.id, state=state_id, assignee=assignee, creator=creator, labels=labels, parent=parent)


def _stamp_state_change(issue: Record, workflow_state: Record, at: datetime) -> None:
    kind = workflow_state.type
    issue.values["completedAt"] = _stamp(at) if kind == "completed" else None
    issue.values["canceledAt"] = _stamp(at) if kind in ("canceled", "duplicate") else None
    if kind == "started" and not issue.values.get("startedAt"):
        issue.values["startedAt"] = _stamp(at)


# -- filters, order and Relay pages -----------------------------------------------------------------

DURATION = re.compile(r"(-?)P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?")
STRING_TESTS: dict[str, Callable[[str, Any], bool]] = {
    "contains": lambda v, x: x in v, "notContains": lambda v, x: x not in v,
    "containsIgnoreCase": lambda v, x: x.lower() in v.lower(),
    "containsIgnoreCaseAndAccent": lambda v, x: x.lower() in v.lower(),
    "notContainsIgnoreCase": lambda v, x: x.lower() not in v.lower(),
    "startsWith": lambda v, x: v.startswith(x), "notStartsWith": lambda v, x: not v.startswith(x),
    "startsWithIgnoreCase": lambda v, x: v.lower().startswith(x.lower()),
    "endsWith": lambda v, x: v.endswith(x), "notEndsWith": lambda v, x: not v.endswith(x),
    "eqIgnoreCase": lambda v, x: v.lower() == x.lower(), "neqIgnoreCase": lambda v, x: v.lower() != x.lower(),
}
ORDER_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "lt": lambda v, x: v < x, "lte": lambda v, x: v <= x, "gt": lambda v, x: v > x, "gte": lambda v, x: v >= x}
COMPARATORS = frozenset({"eq", "neq", "in", "nin", "null", *STRING_TESTS, *ORDER_TESTS})
# relations a filter may follow that are not stored as links: (type, name) -> the related records
COLLECTIONS: dict[tuple[str, str], Callable[[State, Record], list[Record]]] = {
    ("Issue", "children"): lambda s, r: [i for i in s.of("Issue") if i.links.get("parent") == r.id],
    ("Issue", "comments"): lambda s, r: [c for c in s.of("Comment") if c.links.get("issue") == r.id],
    ("Team", "issues"): lambda s, r: [i for i in s.of("Issue") if i.links.get("team") == r.id],
    ("Team", "members"): lambda s, r: s.of("User"),
}


def _moment(value: Any) -> datetime:
    """A DateTime, TimelessDate or ISO 8601 duration (relative to now) as an aware datetime."""
    text = str(value)
    duration = DURATION.fullmatch(text)
    if duration and text not in ("P", "-P"):
        sign, weeks, days, hours, minutes = duration.groups()
        delta = timedelta(weeks=int(weeks or 0), days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0))
        return datetime.now(UTC) + (-delta if sign else delta)
    try:
        moment = _parse_time(text) if "T" in text else datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        raise invalid_input(f"'{text}' is not a valid date, date-time or ISO 8601 duration") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare(key: str, value: Any, comparator: dict[str, Any]) -> bool:
    dated = key.endswith("At") or key == "dueDate"
    for name, raw in comparator.items():
        if name == "null":
            if (value is None) != bool(raw):
                return False
            continue
        operand = ([_moment(x) for x in raw] if isinstance(raw, list) else _moment(raw)) if dated else raw
        if value is None:
            return False
        if not _one_test(name, _moment(value) if dated else value, operand):
            return False
    return True


def _one_test(name: str, subject: Any, operand: Any) -> bool:
    if name == "eq":
        return bool(subject == operand)
    if name == "neq":
        return bool(subject != operand)
    if name in ("in", "nin"):
        return (subject in operand) == (name == "in")
    if name in ORDER_TESTS:
        return ORDER_TESTS[name](subject, operand)
    return STRING_TESTS[name](str(subject), str(operand))


def matches(state: State, record: Record, filt: dict[str, Any] | None) -> bool:
    """Linear's filter semantics over a record: fields, comparators, relations, and/or."""
    for key, wanted in (filt or {}).items():
        if wanted is None:
            continue
        if key in ("and", "or"):
            results = [matches(state, record, part) for part in wanted]
            if not (all(results) if key == "and" else any(results)):
                return False
        elif not _matches_key(state, record, key, wanted):
            return False
    return True


def _matches_key(state: State, record: Record, key: str, wanted: Any) -> bool:
    if isinstance(record.links.get(key), list) or (record.kind, key) in COLLECTIONS:
        related = [state.records[i] for i in record.links[key]] if key in record.links \
            else COLLECTIONS[(record.kind, key)](state, record)
        return _matches_collection(state, related, wanted)
    if key in record.links:
        target = state.link(record, key)
        if "null" in wanted and (target is None) != wanted["null"]:
            return False
        rest = {k: v for k, v in wanted.items() if k != "null"}
        return not rest or (target is not None and matches(state, target, rest))
    if key not in record.values:
        raise invalid_input(f"Filtering {record.kind} by '{key}' is not modelled by this simulator")
    return _compare(key, record.values.get(key), wanted)


def _matches_collection(state: State, related: list[Record], wanted: dict[str, Any]) -> bool:
    special = {"some", "every", "length", "null"}
    if "null" in wanted and (not related) != wanted["null"]:
        return False
    if "length" in wanted and not _compare("length", len(related), wanted["length"]):
        return False
    if wanted.get("every") is not None and not all(matches(state, r, wanted["every"]) for r in related):
        return False
    rest = {k: v for k, v in wanted.items() if k not in special}
    some = [part for part in (wanted.get("some"), rest or None) if part]
    return all(any(matches(state, r, part) for r in related) for part in some)


def ordered(records: list[Record], order_by: str | None) -> list[Record]:
    """Newest first by ``createdAt`` (default) or ``updatedAt``; the id breaks ties."""
    key = "updatedAt" if order_by == "updatedAt" else "createdAt"
    return sorted(records, key=lambda r: (r.values.get(key) or "", r.id), reverse=True)


def page(records: list[Record], args: dict[str, Any]) -> dict[str, Any]:
    """A Relay connection over ``records``: ``first``/``after`` forwards, ``last``/``before`` backwards."""
    first, last = args.get("first"), args.get("last")
    for name, size in (("first", first), ("last", last)):
        if size is not None and not 0 <= size <= MAX_PAGE:
            raise invalid_input(f"{name} must be between 0 and {MAX_PAGE}")
    ids = [r.id for r in records]
    after, before = args.get("after"), args.get("before")
    start = _cursor_index(ids, str(after)) + 1 if after else 0
    end = _cursor_index(ids, str(before)) if before else len(ids)
    window = records[start:end]
    if last is not None and first is None:
        offset = max(len(window) - last, 0)
    else:
        offset = 0
        last = DEFAULT_PAGE if first is None else first
    chosen = window[offset:offset + last]
    head = start + offset
    return {"nodes": chosen, "edges": [{"node": r, "cursor": r.id} for r in chosen],
            "pageInfo": {"hasNextPage": head + len(chosen) < len(ids), "hasPreviousPage": head > 0,
                         "startCursor": chosen[0].id if chosen else None,
                         "endCursor": chosen[-1].id if chosen else None}}


def _cursor_index(ids: list[str], cursor: str) -> int:
    try:
        return ids.index(cursor)
    except ValueError:
        raise invalid_input(f"Cursor '{cursor}' does not point into this list") from None


def _listing(kind: str, rows: Callable[[State, Any], list[Record]] | None = None) -> Callable[..., Any]:
    """A connection resolver: rows (all of ``kind`` by default), filter, archived, order, page."""
    def resolve(source: Any, info: Any, **args: Any) -> dict[str, Any]:
        state: State = info.context["state"]
        records = rows(state, source) if rows else state.of(kind)
        if not args.get("includeArchived"):
            records = [r for r in records if not r.values.get("archivedAt")]
        records = [r for r in records if not r.values.get("_deleted") and matches(state, r, args.get("filter"))]
        return page(ordered(records, args.get("orderBy")), args)
    return resolve


# -- resolvers -------------------------------------------------------------------------------------

def _state(info: Any) -> State:
    return info.context["state"]


def _linked(name: str) -> Callable[..., Any]:
    return lambda source, info, **_: _state(info).link(source, name)


def _by_link(kind: str, name: str) -> Callable[[State, Record], list[Record]]:
    return lambda state, source: [r for r in state.of(kind) if r.links.get(name) == source.id]


def _get(kind: str) -> Callable[..., Any]:
    return lambda source, info, id=None, **_: _state(info).get(kind, id)


def _organization(source: Any, info: Any, **_: Any) -> Record:
    return _state(info).of("Organization")[0]


def _issue_labels(state: State, issue: Record) -> list[Record]:
    return [state.records[i] for i in issue.links["labels"]]


def _team_labels(state: State, team: Record) -> list[Record]:
    return [label for label in state.of("IssueLabel") if label.links["team"] in (None, team.id)]


def _issue_url(state: State, comment: Record) -> str:
    issue = state.link(comment, "issue")
    return issue.url if issue is not None else f"https://linear.app/{ORG_URL_KEY}"


RESOLVERS: dict[tuple[str, str], Callable[..., Any]] = {
    ("Query", "viewer"): lambda source, info, **_: info.context["viewer"],
    ("Query", "organization"): _organization,
    ("Query", "teams"): _listing("Team"), ("Query", "team"): _get("Team"),
    ("Query", "users"): _listing("User"), ("Query", "user"): _get("User"),
    ("Query", "issues"): _listing("Issue"), ("Query", "issue"): _get("Issue"),
    ("Query", "issueLabels"): _listing("IssueLabel"), ("Query", "issueLabel"): _get("IssueLabel"),
    ("Query", "workflowStates"): _listing("WorkflowState"), ("Query", "workflowState"): _get("WorkflowState"),
    ("Query", "comments"): _listing("Comment"), ("Query", "comment"): _get("Comment"),
    ("Issue", "team"): _linked("team"), ("Issue", "state"): _linked("state"),
    ("Issue", "assignee"): _linked("assignee"), ("Issue", "creator"): _linked("creator"),
    ("Issue", "parent"): _linked("parent"),
    ("Issue", "labels"): _listing("IssueLabel", _issue_labels),
    ("Issue", "labelIds"): lambda source, info, **_: list(source.links["labels"]),
    ("Issue", "children"): _listing("Issue", _by_link("Issue", "parent")),
    ("Issue", "comments"): _listing("Comment", _by_link("Comment", "issue")),
    ("Issue", "priorityLabel"): lambda source, info, **_: PRIORITY_LABELS[int(source.priority)],
    ("Issue", "priority"): lambda source, info, **_: float(source.priority),
    ("Team", "issues"): _listing("Issue", _by_link("Issue", "team")),
    ("Team", "states"): _listing("WorkflowState", _by_link("WorkflowState", "team")),
    ("Team", "labels"): _listing("IssueLabel", _team_labels),
    ("Team", "members"): _listing("User"), ("Team", "organization"): _organization,
    ("Team", "defaultIssueState"): _linked("defaultIssueState"),
    ("Team", "issueCount"): lambda source, info, **_: len(_by_link("Issue", "team")(_state(info), source)),
    ("WorkflowState", "team"): _linked("team"),
    ("WorkflowState", "issues"): _listing("Issue", _by_link("Issue", "state")),
    ("IssueLabel", "team"): _linked("team"), ("IssueLabel", "organization"): _organization,
    ("IssueLabel", "issues"): _listing("Issue", lambda s, label: [i for i in s.of("Issue")
                                                                  if label.id in i.links["labels"]]),
    ("User", "assignedIssues"): _listing("Issue", _by_link("Issue", "assignee")),
    ("User", "createdIssues"): _listing("Issue", _by_link("Issue", "creator")),
    ("User", "teams"): _listing("Team"), ("User", "organization"): _organization,
    ("User", "isMe"): lambda source, info, **_: source is info.context["viewer"],
    ("User", "initials"): lambda source, info, **_: "".join(p[0] for p in source.name.split()[:2]).upper(),
    ("User", "url"): lambda source, info, **_: f"https://linear.app/{ORG_URL_KEY}/profiles/{source.displayName}",
    ("Comment", "user"): _linked("user"), ("Comment", "issue"): _linked("issue"),
    ("Comment", "parent"): _linked("parent"),
    ("Comment", "url"): lambda source, info, **_: f"{_issue_url(_state(info), source)}#comment-{source.id[:8]}",
    ("Organization", "teams"): _listing("Team"), ("Organization", "users"): _listing("User"),
    ("Organization", "labels"): _listing("IssueLabel", lambda s, _: [r for r in s.of("IssueLabel")
                                                                     if r.links["team"] is None]),
}


# -- mutations -------------------------------------------------------------------------------------

def _check_priority(value: Any) -> int:
    if not isinstance(value, int) or not 0 <= value <= 4:
        raise invalid_input("Argument Validation Error", "Priority must be an integer between 0 and 4.")
    return value


def _check_date(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise invalid_input("Argument Validation Error", f"dueDate '{value}' is not a valid date.") from None


def _writes(state: State, team: Record, given: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Values and links an issueCreate/issueUpdate input asks for, each checked as Linear does."""
    values: dict[str, Any] = {}
    links: dict[str, Any] = {}
    if "title" in given:
        if not (given["title"] or "").strip():
            raise invalid_input("Argument Validation Error", "Title must not be empty.")
        values["title"] = given["title"]
    if "description" in given:
        values["description"] = given["description"]
    if "priority" in given:
        values["priority"] = _check_priority(given["priority"])
    if "dueDate" in given:
        values["dueDate"] = _check_date(given["dueDate"])
    if "stateId" in given:
        workflow_state = state.get("WorkflowState", given["stateId"])
        if workflow_state.links["team"] != team.id:
            raise invalid_input("Invalid state", "The workflow state does not belong to the issue's team.")
        links["state"] = workflow_state.id
    if "assigneeId" in given:
        links["assignee"] = state.get("User", given["assigneeId"]).id if given["assigneeId"] else None
    if "parentId" in given:
        links["parent"] = state.get("Issue", given["parentId"]).id if given["parentId"] else None
    if given.get("labelIds") is not None:
        links["labels"] = _labels(state, team, given["labelIds"])
    return values, links


def _labels(state: State, team: Record, ids: list[str]) -> list[str]:
    labels = [state.get("IssueLabel", i) for i in ids]
    if any(label.links["team"] not in (None, team.id) for label in labels):
        raise invalid_input("Invalid label", "Labels must belong to the issue's team or the workspace.")
    return sorted({label.id for label in labels})


def _payload(state: State, **fields: Any) -> dict[str, Any]:
    return {"success": True, "lastSyncId": state.sync(), **fields}


def issue_create(source: Any, info: Any, input: dict[str, Any]) -> dict[str, Any]:
    state = _state(info)
    team = state.get("Team", input["teamId"])
    if "title" not in input:
        raise invalid_input("Argument Validation Error", "Title must not be empty.")
    values, links = _writes(state, team, input)
    issue = _new_issue(state, team, {"description": None, "priority": 0, "dueDate": None, **values},
                       state.tick(), state_id=links.get("state") or team.links["defaultIssueState"],
                       assignee=links.get("assignee"), creator=info.context["viewer"].id,
                       labels=links.get("labels", []), parent=links.get("parent"))
    _stamp_state_change(issue, state.link(issue, "state"), state.clock)  # type: ignore[arg-type]
    return _payload(state, issue=issue)


def issue_update(source: Any, info: Any, id: str, input: dict[str, Any]) -> dict[str, Any]:
    state = _state(info)
    issue = state.get("Issue", id)
    if input.get("teamId") not in (None, issue.links["team"]):
        raise invalid_input("Moving an issue to another team is not modelled by this simulator")
    team = state.link(issue, "team")
    assert team is not None
    values, links = _writes(state, team, input)
    if links.get("parent") == issue.id:
        raise invalid_input("Invalid parent", "An issue cannot be its own parent.")
    current = set(links.get("labels", issue.links["labels"]))
    current |= set(_labels(state, team, input.get("addedLabelIds") or []))
    current -= set(input.get("removedLabelIds") or [])
    moved = links.get("state") not in (None, issue.links["state"])
    issue.values.update(values, updatedAt=_stamp(state.tick()))
    issue.links.update(links, labels=sorted(current))
    if moved:
        _stamp_state_change(issue, state.link(issue, "state"), state.clock)  # type: ignore[arg-type]
    return _payload(state, issue=issue)


def issue_archive(source: Any, info: Any, id: str, trash: bool | None = None) -> dict[str, Any]:
    state = _state(info)
    issue = state.get("Issue", id)
    issue.values.update(archivedAt=_stamp(state.tick()), trashed=True if trash else None)
    return _payload(state, entity=issue)


def issue_unarchive(source: Any, info: Any, id: str) -> dict[str, Any]:
    state = _state(info)
    issue = state.get("Issue", id)
    issue.values.update(archivedAt=None, trashed=None, updatedAt=_stamp(state.tick()))
    return _payload(state, entity=issue)


def issue_delete(source: Any, info: Any, id: str, permanentlyDelete: bool | None = None) -> dict[str, Any]:
    """Deleting moves an issue to the trash (archived, ``trashed``); admins may delete for good."""
    state = _state(info)
    issue = state.get("Issue", id)
    if permanentlyDelete:
        if not info.context["viewer"].admin:
            raise LinearError("Only admins can permanently delete issues", "forbidden", "FORBIDDEN",
                              presentable="You need to be an admin to permanently delete issues.")
        issue.values["_deleted"] = True
        return _payload(state, entity=None)
    issue.values.update(archivedAt=_stamp(state.tick()), trashed=True)
    return _payload(state, entity=issue)


def comment_create(source: Any, info: Any, input: dict[str, Any]) -> dict[str, Any]:
    state = _state(info)
    if not input.get("issueId"):
        raise invalid_input("Argument Validation Error", "A comment needs an issueId here.")
    issue = state.get("Issue", input["issueId"])
    if not (input.get("body") or "").strip():
        raise invalid_input("Argument Validation Error", "Comment body must not be empty.")
    parent = state.get("Comment", input["parentId"]).id if input.get("parentId") else None
    at = _stamp(state.tick())
    comment = state.add("Comment", {"body": input["body"], "createdAt": at, "updatedAt": at, "editedAt": None},
                        issue=issue.id, user=info.context["viewer"].id, parent=parent)
    return _payload(state, comment=comment)


def comment_update(source: Any, info: Any, id: str, input: dict[str, Any], skipEditedAt: bool | None = None) -> dict[str, Any]:
    state = _state(info)
    comment = state.get("Comment", id)
    if comment.links["user"] != info.context["viewer"].id:
        raise LinearError("You can only edit your own comments", "forbidden", "FORBIDDEN",
                          presentable="You can only edit your own comments.")
    if "body" in input and not (input["body"] or "").strip():
        raise invalid_input("Argument Validation Error", "Comment body must not be empty.")
    at = _stamp(state.tick())
    comment.values.update({k: v for k, v in input.items() if k == "body"}, updatedAt=at)
    if not skipEditedAt:
        comment.values["editedAt"] = at
    return _payload(state, comment=comment)


def comment_delete(source: Any, info: Any, id: str) -> dict[str, Any]:
    state = _state(info)
    comment = state.get("Comment", id)
    comment.values["_deleted"] = True
    return _payload(state, entityId=comment.id)


RESOLVERS.update({
    ("Mutation", "issueCreate"): issue_create, ("Mutation", "issueUpdate"): issue_update,
    ("Mutation", "issueArchive"): issue_archive, ("Mutation", "issueUnarchive"): issue_unarchive,
    ("Mutation", "issueDelete"): issue_delete, ("Mutation", "commentCreate"): comment_create,
    ("Mutation", "commentUpdate"): comment_update, ("Mutation", "commentDelete"): comment_delete,
})


# -- complexity ------------------------------------------------------------------------------------

def complexity(schema_: GraphQLSchema, operation: OperationDefinitionNode,
               fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]) -> int:
    """Linear's rule: 0.1 a property, 1 an object, a connection's children times its page size
    (``first``/``last``, else 50); the total rounded up."""
    root = schema_.mutation_type if operation.operation.value == "mutation" else schema_.query_type
    return math.ceil(_selection_cost(schema_, root, operation.selection_set, fragments, variables) - 1e-9)


def _selection_cost(schema_: GraphQLSchema, parent: Any, selection: SelectionSetNode | None,
                    fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]) -> float:
    total = 0.0
    for node in selection.selections if selection else ():
        if isinstance(node, FieldNode):
            total += _field_cost(schema_, parent, node, fragments, variables)
        elif isinstance(node, (FragmentSpreadNode, InlineFragmentNode)):
            fragment = fragments[node.name.value] if isinstance(node, FragmentSpreadNode) else node
            condition = fragment.type_condition
            target = schema_.get_type(condition.name.value) if condition else parent
            total += _selection_cost(schema_, target, fragment.selection_set, fragments, variables)
    return total


def _field_cost(schema_: GraphQLSchema, parent: Any, node: FieldNode,
                fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]) -> float:
    if node.selection_set is None:
        return 0.1
    definition = getattr(parent, "fields", {}).get(node.name.value)
    target = definition.type if definition else None
    while target is not None and hasattr(target, "of_type"):
        target = target.of_type
    children = _selection_cost(schema_, target, node.selection_set, fragments, variables)
    if target is not None and target.name.endswith("Connection"):
        return 1 + children * _page_size(node, variables)
    return 1 + children


def _page_size(node: FieldNode, variables: dict[str, Any]) -> int:
    for argument in node.arguments or ():
        if argument.name.value in ("first", "last"):
            value = argument.value
            raw = variables.get(value.name.value) if isinstance(value, VariableNode) else getattr(value, "value", None)
            if raw is not None:
                return int(raw)
    return DEFAULT_PAGE


# -- the HTTP endpoint -----------------------------------------------------------------------------

@dataclass
class Budget:
    """Linear's per-credential hourly budgets: requests and complexity points (leaky, reset hourly here)."""

    requests: int
    points: int
    window: float = 3600.0
    started: float = field(default_factory=time.monotonic)
    used_requests: int = 0
    used_points: int = 0

    def headers(self, cost: int) -> dict[str, str]:
        reset = str(int((time.time() + self.window - (time.monotonic() - self.started)) * 1000))
        return {"x-ratelimit-requests-limit": str(self.requests),
                "x-ratelimit-requests-remaining": str(max(self.requests - self.used_requests, 0)),
                "x-ratelimit-requests-reset": reset, "x-ratelimit-complexity-limit": str(self.points),
                "x-ratelimit-complexity-remaining": str(max(self.points - self.used_points, 0)),
                "x-ratelimit-complexity-reset": reset, "x-complexity": str(cost)}

    def spend(self, cost: int) -> bool:
        """Charge one request of ``cost`` points; False when either budget is exhausted."""
        if time.monotonic() - self.started >= self.window:
            self.started, self.used_requests, self.used_points = time.monotonic(), 0, 0
        if self.used_requests + 1 > self.requests or self.used_points + cost > self.points:
            return False
        self.used_requests += 1
        self.used_points += cost
        return True


RATELIMITED = LinearError("Rate limit exceeded", "ratelimited", "RATELIMITED",
                          presentable="You have exceeded the API rate limit. Please try again later.")


def _reply(payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(payload), status, headers=headers, media_type="application/json; charset=utf-8")


def _graphql_error(error: GraphQLError, code: str) -> dict[str, Any]:
    out: dict[str, Any] = dict(error.formatted)
    out["extensions"] = {"type": "graphql error", "code": code, "userError": True}
    return out


def _execution_error(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    if isinstance(original, LinearError):
        return original.as_json(error.path)
    if error.path is None:  # not a field's: the request's variables could not be coerced
        return _graphql_error(error, "BAD_USER_INPUT")
    out: dict[str, Any] = dict(error.formatted)
    out["extensions"] = {"type": "internal error", "code": "INTERNAL_SERVER_ERROR", "userError": False}
    return out


class LinearSimulator:
    def __init__(self, state: State, budgets: dict[str, Budget], viewer: Record,
                 oauth: OAuthServer | None = None) -> None:
        self.state, self.budgets, self.viewer, self.oauth = state, budgets, viewer, oauth

    def _credential(self, request: Request) -> str | None:
        """Whose budget the request spends: the API key's, or the OAuth app's (``OAUTH_TOKEN``, or a
        live token of the simulated authorization server)."""
        header = request.headers.get("authorization", "")
        if header == API_KEY:
            return API_KEY
        if header == f"Bearer {OAUTH_TOKEN}" or (self.oauth is not None and header.startswith("Bearer ")
                                                 and self.oauth.valid(header[7:])):
            return OAUTH_TOKEN
        return None

    async def endpoint(self, request: Request) -> Response:
        credential = self._credential(request)
        if credential is None:
            return _reply({"errors": [AUTHENTICATION.as_json()]}, 400)
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            error = GraphQLError("Must provide query string.")
            return _reply({"errors": [_graphql_error(error, "BAD_REQUEST")]}, 400)
        return self._run(body, self.budgets[credential])

    def _run(self, body: dict[str, Any], budget: Budget) -> Response:
        try:
            document = parse(body["query"])
        except GraphQLSyntaxError as error:
            return _reply({"errors": [_graphql_error(error, "GRAPHQL_PARSE_FAILED")]}, 400, budget.headers(0))
        problems = validate(schema(), document)
        if problems:
            return _reply({"errors": [_graphql_error(p, "GRAPHQL_VALIDATION_FAILED") for p in problems]}, 400,
                          budget.headers(0))
        variables = body.get("variables") or {}
        cost = self._cost(document, body.get("operationName"), variables)
        if cost > MAX_COMPLEXITY:
            too_complex = LinearError(f"Query too complex: complexity {cost} exceeds the maximum of {MAX_COMPLEXITY}",
                                      "invalid input", "QUERY_TOO_COMPLEX", user_error=True,
                                      presentable="This query is too complex. Request fewer items per page.")
            return _reply({"errors": [too_complex.as_json()]}, 400, budget.headers(cost))
        if not budget.spend(cost):
            return _reply({"errors": [RATELIMITED.as_json()]}, 400, budget.headers(cost))
        result = execute_sync(schema(), document, variable_values=variables, operation_name=body.get("operationName"),
                         context_value={"state": self.state, "viewer": self.viewer})
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [_execution_error(e) for e in result.errors]
        status = 400 if result.errors and all(e.path is None for e in result.errors) else 200
        return _reply(payload, status, budget.headers(cost))

    def _cost(self, document: Any, name: str | None, variables: dict[str, Any]) -> int:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        chosen = next((o for o in operations if name is None or (o.name and o.name.value == name)), operations[0])
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        return complexity(schema(), chosen, fragments, variables if isinstance(variables, dict) else {})


def create_app(*, seed: int = 5, issue_count: int = 260, requests_per_hour: int = 5_000,
               complexity_per_hour: int = 3_000_000, oauth: OAuthServer | None = None) -> SimulatorControl:
    """A fresh simulator with deterministic seed data (``issue_count`` issues in team ENG); the API
    key and the OAuth token each get ``requests_per_hour`` requests and ``complexity_per_hour`` points.
    ``oauth``: Linear's authorization server too (``/oauth/authorize``, ``/oauth/token``: codes, PKCE,
    refresh tokens), whose access tokens ``/graphql`` accepts as ``Bearer``."""
    state = State(random.Random(seed))
    _seed(state, issue_count)
    budgets = {credential: Budget(requests_per_hour, complexity_per_hour) for credential in (API_KEY, OAUTH_TOKEN)}
    simulator = LinearSimulator(state, budgets, state.of("User")[0], oauth)
    auth = oauth.routes() if oauth else []   # /oauth/authorize, /oauth/token
    app = Starlette(routes=[Route("/graphql", simulator.endpoint, methods=["POST"]), *auth])
    app.state.simulator = state
    return SimulatorControl(app)
