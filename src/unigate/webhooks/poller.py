"""Virtual webhooks: find what changed in a connection's tickets since the last poll.

For each connection of an app with an enabled subscription, each collection is polled through the
unified API (``Dispatcher.dispatch``: the same connector, mapping and downstream limits as a
client's request), the cheapest way the connector's ``tickets.all`` allows
(:func:`unigate.connector.capabilities.since_mode`):

- **native** (``filter[since]`` declared: Redmine, Roundup, GitHub, GitLab, Jira, Linear):
  ``filter[since]=<watermark>`` (and ``sort[by]=updated_at`` ascending where declared) returns the
  tickets changed since the newest ``updated_at`` seen. Cost per cycle: 1 call per page of changes
  (at least 1).
- **emulated** (the list can come newest-updated first: Codimir): the same ``filter[since]``,
  served by the engine (:mod:`unigate.connector.emulated`) reading newest-updated first and
  stopping at the first ticket older than the watermark. Cost per cycle: 1 call per page of
  changes plus the page the stop is found on.
- **scan** (neither: AgentsMesh, Opine, Selectel): a bounded full scan
  (``webhook_scan_max_records``) every cycle. Cost per cycle: ⌈tickets / page size⌉ calls;
  creates, updates and deletes all found.

Native and emulated cannot see deletes, so every ``webhook_delete_scan_every`` cycles their
cycle is a full scan instead. Either way each ticket's fingerprint (a hash of its unified record)
is compared with the stored one.

The first poll of a collection is its baseline: fingerprints stored, no events. What a poll found
(watermark, fingerprints, the outbox rows of its events) is committed in one transaction
(``WebhookStore.record_poll``), so a restart neither repeats nor loses an event. Every downstream
call spends a token of the connection's :class:`~unigate.webhooks.budget.CallBudget`; a 429 pauses it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from unigate.connector.capabilities import since_mode
from unigate.connector.context import UnifiedRequest
from unigate.downstream.limiter import QUEUE_WAIT
from unigate.errors import ConnectorRateLimitError, EntityNotFoundError
from unigate.mapping.transforms import parse_timestamp
from unigate.webhooks import events as ev
from unigate.webhooks.budget import CallBudget
from unigate.webhooks.store import PollState, Subscription, WebhookStore

if TYPE_CHECKING:
    from unigate.dispatch import Dispatcher
    from unigate.settings import Settings
    from unigate.vault.models import Connection

log = logging.getLogger("unigate.webhooks")
SINCE_MODES = {"native": "native", "sorted": "emulated", "scan": "scan", "unsupported": "scan"}


class PollPaused(Exception):
    """The tracker answered 429: this connection's poll stops until its Retry-After has passed."""


@dataclass
class Listing:
    records: list[dict[str, Any]]
    complete: bool       # every page read (False: the scan hit webhook_scan_max_records)
    calls: int           # downstream calls made


@dataclass
class Detected:
    changed: dict[str, str] = field(default_factory=dict)     # entity id -> new fingerprint
    removed: list[str] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (event type, entity id, occurred_at)
    watermark: str | None = None


@dataclass
class CycleReport:
    """One connection's poll: for logs, tests and bench/sync.py."""

    connection_id: str
    mode: str = "scan"                # native | emulated | scan | unsupported (the connector cannot list tickets)
    calls: int = 0
    events: int = 0
    collections: int = 0
    paused: bool = False


def fingerprint(record: dict[str, Any]) -> str:
    """A hash of the unified record (keys sorted): any change of any unified field changes it."""
    return hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def newest(watermark: str | None, stamps: list[Any]) -> str | None:
    """The latest of ``watermark`` and ``stamps`` (ISO 8601; unparseable ones ignored)."""
    best, best_at = watermark, parse_timestamp(watermark) if watermark else None
    for stamp in stamps:
        try:
            at = parse_timestamp(stamp)
        except Exception:  # noqa: BLE001 - a record without a usable updated_at does not move it
            continue
        if best_at is None or at > best_at:
            best, best_at = str(stamp), at
    return best


def detect(state: PollState, records: list[dict[str, Any]], *, full: bool) -> Detected:
    """What changed: creates and updates by fingerprint; deletes only when ``full`` (every id was seen)."""
    found = Detected(watermark=newest(state.watermark, [r.get("updated_at") for r in records]))
    seen = set()
    for record in records:
        entity_id = str(record.get("id"))
        seen.add(entity_id)
        printed = fingerprint(record)
        old = state.fingerprints.get(entity_id)
        if old == printed:
            continue
        found.changed[entity_id] = printed
        if state.known:
            kind = ev.UPDATED if old is not None else ev.CREATED
            stamp = record.get("updated_at") or record.get("created_at") or ev.iso_now()
            found.events.append((kind, entity_id, str(stamp)))
    if full:
        found.removed = sorted(set(state.fingerprints) - seen)
        if state.known:
            found.events += [(ev.DELETED, entity_id, ev.iso_now()) for entity_id in found.removed]
    return found


class Poller:
    def __init__(self, dispatcher: Dispatcher, store: WebhookStore, settings: Settings,
                 budget: CallBudget | None = None) -> None:
        self.dispatcher = dispatcher
        self.store = store
        self.settings = settings
        self.budget = budget or CallBudget(settings.webhook_calls_per_minute)

    def mode(self, service_id: str) -> str:
        """How changes are found on ``service_id``'s tickets: ``native``, ``emulated`` (since served newest-updated
        first, stopped at the watermark), ``scan`` (a full scan each cycle) or ``unsupported`` (no list)."""
        connector = self.dispatcher.connector(service_id)
        resource = connector.spec.resources.get("tickets")
        op = resource.operations.get("all") if resource is not None else None
        if op is None or not (connector.supports("collections", "all") and connector.supports("tickets", "all")):
            return "unsupported"
        return SINCE_MODES[since_mode(connector.spec, "tickets", op)]

    def since_sort(self, service_id: str) -> dict[str, str] | None:
        """The sort sent with ``filter[since]``: natively, oldest change first where the tracker sorts by update;
        emulated, none (the engine reads newest-updated first to stop at the watermark)."""
        op = self.dispatcher.connector(service_id).spec.resources["tickets"].operations["all"]
        declared = op.sort is not None and op.sort.param is not None and "updated_at" in op.sort.fields
        return {"by": "updated_at", "direction": "asc"} if declared and "since" in op.filters else None

    async def poll_connection(self, connection: Connection, subscriptions: list[Subscription]) -> CycleReport:
        """Poll every collection of ``connection``; its events go to ``subscriptions``' outbox."""
        report = CycleReport(connection.id, self.mode(connection.service_id))
        if report.mode == "unsupported":   # nothing to list: no virtual webhooks (a native handler may still send)
            return report
        if self.budget.paused(connection.id):
            report.paused = True
            return report
        try:
            collections = await self.list_all(connection, "collections", {}, full=True)
            report.calls += collections.calls
            for collection in collections.records:
                await self.poll_collection(connection, str(collection["id"]), subscriptions, report)
        except PollPaused:
            report.paused = True
        return report

    async def poll_collection(self, connection: Connection, collection_id: str, subscriptions: list[Subscription],
                              report: CycleReport) -> None:
        state = await _to_thread(self.store.poll_state, connection.id, collection_id)
        incremental = report.mode in ("native", "emulated")
        full = not incremental or not state.known or \
            state.cycles % max(1, self.settings.webhook_delete_scan_every) == 0
        since = None if full else state.watermark
        listing = await self.list_all(connection, "tickets", {"collection_id": collection_id}, full=full,
                                      since=since)
        report.calls += listing.calls
        report.collections += 1
        found = detect(state, listing.records, full=full and listing.complete)
        if found.removed and state.known:
            report.calls += await self.confirm_deletes(connection, collection_id, found)
        outbox = self.addressed(connection, collection_id, found.events, subscriptions)
        report.events += len(found.events)
        next_state = PollState(found.watermark, state.cycles + 1)
        await _to_thread(self.store.record_poll, connection.id, collection_id, next_state, found.changed,
                         found.removed, outbox)

    async def confirm_deletes(self, connection: Connection, collection_id: str, found: Detected) -> int:
        """Ask for each ticket a scan missed (a page can shift under a scan when tickets are deleted meanwhile):
        only a 404 is a delete. Returns the calls made."""
        if not self.dispatcher.connector(connection.service_id).supports("tickets", "one"):
            return 0
        calls = 0
        for entity_id in list(found.removed):
            request = UnifiedRequest(resource="tickets", operation="one",
                                     path_params={"collection_id": collection_id, "ticket_id": entity_id})
            try:
                await self._call(connection, request)
            except EntityNotFoundError:
                continue
            finally:
                calls += 1
            # still there: no event now; its fingerprint stays (a single read's record may carry more fields than
            # a list's, so it is not compared) and the next scan sees any change
            found.removed.remove(entity_id)
            found.events = [e for e in found.events if (e[0], e[1]) != (ev.DELETED, entity_id)]
        return calls

    def addressed(self, connection: Connection, collection_id: str, found: list[tuple[str, str, str]],
                  subscriptions: list[Subscription]) -> list[tuple[str, str, str, dict[str, Any]]]:
        """Outbox rows: each event once per subscription that wants it, each with its own idempotency key."""
        rows = []
        for event_type, entity_id, occurred_at in found:
            event = ev.TicketEvent(event_type, connection.service_id, connection.consumer_id, connection.app_id,
                                   collection_id, entity_id, occurred_at)
            payload = event.payload(ev.new_id(), public_base(self.settings))
            rows += [(s.id, ev.new_id(), event_type, payload) for s in subscriptions
                     if s.enabled and s.app_id == connection.app_id and ev.subscribed(s.events, event_type)]
        return rows

    async def list_all(self, connection: Connection, resource: str, path_params: dict[str, str], *,
                       full: bool, since: str | None = None) -> Listing:
        """Every page of a list (bounded by ``webhook_scan_max_records``), each call within the budget."""
        request = UnifiedRequest(resource=resource, operation="all", path_params=path_params,
                                 limit=self.settings.webhook_page_size)
        if since is not None:
            request.filter = {"since": since}
            request.sort = self.since_sort(connection.service_id)
        listing = Listing([], True, 0)
        while True:
            dispatched = await self._call(connection, request)
            listing.calls += len(dispatched.session.calls)
            listing.records += [r for r in dispatched.result.data if isinstance(r, dict)]
            request.cursor = (dispatched.cursors or {}).get("next")
            if not request.cursor:
                return listing
            if len(listing.records) >= self.settings.webhook_scan_max_records:
                log.warning("webhooks: %s %s of connection %s has over %d records; deletes are not detected",
                            resource, path_params, connection.id, self.settings.webhook_scan_max_records)
                listing.complete = False
                return listing

    async def _call(self, connection: Connection, request: UnifiedRequest) -> Any:
        await self.budget.take(connection.id)
        token = QUEUE_WAIT.set(0.0)   # a poll does not queue behind the tracker's limit: it pauses (below)
        try:
            return await self.dispatcher.dispatch(request, connection)
        except ConnectorRateLimitError as error:
            seconds = self.budget.pause(connection.id, error.headers.get("retry-after"))
            log.warning("webhooks: %s rate-limits connection %s; polling paused %.0fs", connection.service_id,
                        connection.id, seconds)
            raise PollPaused from None
        finally:
            QUEUE_WAIT.reset(token)


def public_base(settings: Settings) -> str:
    """The base of ``entity_url``: ``UNIGATE_PUBLIC_URL``, else the address the gateway binds."""
    return settings.public_url or f"http://{settings.host}:{settings.port}"


async def _to_thread(func: Any, *args: Any) -> Any:
    import asyncio

    return await asyncio.to_thread(func, *args)
