"""The official Apideck SDK (``apideck-unify``) against the gateway: one suite for any connector.

An app written against Apideck must work by changing only the base URL, so these tests drive the
gateway with the unchanged SDK, configured the way a user configures it (``server_url`` and no
retries), and accept only what the SDK itself accepts: a success must parse into the SDK's typed
response (create answered 201, never the ``default`` branch), and an error must surface as the
typed exception the SDK raises for it. A ``ResponseValidationError`` (the gateway's answer broke
the SDK's schema) fails whichever test meets it: :func:`expect_error` accepts only the exact
class asked for, and any other SDK exception propagates.

A connector is described by an :class:`SdkProfile` (its collection, a ticket body it accepts, the
operations it answers 501 for, the filter and sort it serves); the same test functions run for
every profile. Operations a connector does not support are asserted, not skipped: the SDK must
raise ``APIError`` with status 501 and type ``ConnectorOperationUnsupportedError``.

A plugin author reuses it like the built-in connectors' ``tests/test_<name>_sdk*.py`` modules do::

    from unigate.testing.sdk import SdkProfile, simulated_sdk_target, test_ticket_lifecycle, ...

    MINE = SdkProfile("mytracker", collection_id="main", create={"subject": "A", "description": "B"},
                      missing_ticket_id="999999")
    sdk_target = simulated_sdk_target([MINE])     # or live_sdk_target([...]) for a real server

Typed errors reached (every connector unless noted): ``BadRequestResponse`` (bad ``limit``,
invalid body, an unsupported filter or sort), ``UnauthorizedResponse`` (wrong API key),
``NotFoundResponse`` (unknown ticket), ``UnprocessableResponse`` (a disabled connection),
``APIError`` (501 unsupported operations; 429 and a tracker's 402 through simulator faults:
:func:`test_rate_limited_tracker_is_api_error_429`, :func:`test_tracker_payment_required_is_typed_402`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from apideck_unify import Apideck, models
from apideck_unify.utils import RetryConfig

from unigate.testing.harness import APP_ID, CONSUMER_ID, GatewayHarness, Simulator

# What a user writes to turn the SDK's retries off (its default retries 5xx for 15 minutes).
NO_RETRIES = RetryConfig("none", None, False)  # type: ignore[arg-type]  # no backoff: nothing is retried
DISABLED_CONSUMER = "sdk-disabled-consumer"   # its connection exists but is disabled: 422
MAX_PAGES = 50
OPERATIONS = (
    "collections.list", "collections.get",
    "tickets.list", "tickets.create", "tickets.get", "tickets.update", "tickets.delete",
    "comments.list", "comments.create", "comments.get", "comments.update", "comments.delete",
    "users.list", "users.get", "tags.list",
)


@dataclass(frozen=True)
class SdkProfile:
    """What the shared SDK suite needs to know about one connector."""

    service_id: str
    collection_id: str                 # where tickets are created, read and filtered
    create: dict[str, Any]             # tickets.create keywords the connector accepts (subject + description)
    missing_ticket_id: str             # a well-formed id no ticket has: 404
    update: dict[str, Any] = field(default_factory=lambda: {"subject": "Updated through the SDK",
                                                            "status": "closed"})
    unsupported: frozenset[str] = frozenset()   # OPERATIONS answered 501 ConnectorOperationUnsupportedError
    status_filter: bool = True         # filter[status]=closed is served (else 400 UnsupportedFiltersError)
    since_filter: bool = False         # filter[since] is served (else 400 UnsupportedFiltersError)
    sort: dict[str, str] | None = None  # a sort the connector serves (None: every sort is 400)
    assignee_id: str | None = None     # a user tickets can be assigned to (None: assignees are a 400 on update)
    paging_collection: str | None = None  # where paging is walked (default: collection_id); filled if short
    tag_seed: dict[str, Any] | None = None  # a unified ticket body whose tags by name make a tag exist
    # comment bodies that read back as written (rich-text trackers read HTML: write HTML)
    comment: str = "Seen it too"
    edited_comment: str = "Seen it twice"

    def supports(self, operation: str) -> bool:
        assert operation in OPERATIONS, operation
        return operation not in self.unsupported


@dataclass
class SdkTarget:
    """An SDK client of a gateway connected to one connector (its simulator, real server or cassettes)."""

    profile: SdkProfile
    harness: GatewayHarness
    sdk: Apideck
    simulator: Simulator | None = None   # for fault injection; None for real servers

    @property
    def it(self) -> Any:
        return self.sdk.issue_tracking

    @property
    def on(self) -> dict[str, str]:
        """Keywords of every call: the collection and the service (as an app with several integrations sends it)."""
        return {"collection_id": self.profile.collection_id, "service_id": self.profile.service_id}

    def client(self, api_key: str | None = None) -> Apideck:
        return new_sdk(self.harness, api_key=api_key)


def new_sdk(harness: GatewayHarness, *, api_key: str | None = None) -> Apideck:
    """The SDK as a user configures it: credentials, the gateway's URL, no retries."""
    return Apideck(api_key=api_key or harness.api_key, app_id=APP_ID, consumer_id=CONSUMER_ID,
                   server_url=harness.server.url, retry_config=NO_RETRIES, timeout_ms=30_000)


# -- fixtures ------------------------------------------------------------------------------------
def simulated_sdk_target(profiles: Sequence[SdkProfile]) -> Any:
    """Fixture ``sdk_target``, parametrized over ``profiles``: a gateway in front of each simulator.

    Each connector's simulator and gateway start once per module, on first use.
    """
    from unigate.testing.connector import ConnectorUnderTest

    trackers = _started_trackers()

    @pytest.fixture(name="sdk_target", params=list(profiles), ids=lambda p: p.service_id)
    def target(request: pytest.FixtureRequest, _sdk_trackers: dict[str, Any],
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[SdkTarget]:
        profile: SdkProfile = request.param
        tracker = _tracker_for(_sdk_trackers, profile, tmp_path_factory, ConnectorUnderTest.start)
        tracker.simulator.clear()
        tracker.harness.forget_rate_limits()
        with new_sdk(tracker.harness) as sdk:
            yield SdkTarget(profile, tracker.harness, sdk, tracker.simulator)
        tracker.simulator.clear()

    return trackers, target


def _tracker_for(started: dict[str, Any], profile: SdkProfile, factory: pytest.TempPathFactory,
                 start: Any) -> Any:
    """The profile's tracker from ``started``, started (with a disabled consumer beside) on first use."""
    tracker = started.get(profile.service_id)
    if tracker is None:
        tracker = start(factory.mktemp(f"sdk-{profile.service_id}"), profile.service_id)
        tracker.connect(DISABLED_CONSUMER, enabled=False)
        started[profile.service_id] = tracker
    return tracker


def _started_trackers() -> Any:
    """Module fixture ``_sdk_trackers``: service id -> tracker started on first use, stopped at the end."""

    @pytest.fixture(scope="module", name="_sdk_trackers")
    def trackers() -> Iterator[dict[str, Any]]:
        started: dict[str, Any] = {}
        yield started
        for tracker in started.values():
            tracker.stop()

    return trackers


def live_sdk_target(profiles: Sequence[SdkProfile]) -> Any:
    """Fixture ``sdk_target`` for real trackers (``unigate.testing.live``): live, recording or replaying.

    Each test's downstream traffic is its own cassette, ``cassettes/<service>/live/sdk_<test name>.yaml``
    beside the test module.
    """
    from unigate.testing.cassettes import cassettes_beside
    from unigate.testing.live import LiveTracker

    trackers = _started_trackers()

    @pytest.fixture(name="sdk_target", params=list(profiles), ids=lambda p: p.service_id)
    def target(request: pytest.FixtureRequest, _sdk_trackers: dict[str, Any],
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[SdkTarget]:
        profile: SdkProfile = request.param
        cassettes = cassettes_beside(request.path) / profile.service_id
        tracker = _tracker_for(_sdk_trackers, profile, tmp_path_factory,
                               lambda tmp, service_id: LiveTracker.start(tmp, service_id, cassettes))
        tracker.forget_lookups()  # each cassette holds the reference-list calls its test needs
        with tracker.recorded(f"sdk_{request.node.originalname}"), new_sdk(tracker.harness) as sdk:
            yield SdkTarget(profile, tracker.harness, sdk)

    return trackers, target


# -- helpers -------------------------------------------------------------------------------------
def expect_error(cls: type[models.ApideckError], status: int, type_name: str, call: Callable[[], Any]) -> Any:
    """Run ``call``; it must raise exactly ``cls`` (not a subclass, never ResponseValidationError)."""
    with pytest.raises(models.ApideckError) as info:
        call()
    error = info.value
    assert type(error) is cls, (f"the SDK raised {type(error).__name__} (HTTP {error.status_code}) where "
                                f"{cls.__name__} was expected: {error}")
    assert error.status_code == status, error.body
    body = json.loads(error.body)
    assert (body["status_code"], body["type_name"]) == (status, type_name), body
    if cls is not models.APIError:   # typed errors carry the parsed body
        assert (error.data.status_code, error.data.type_name) == (status, type_name)  # type: ignore[attr-defined]
        assert str(error) == body["message"]
    return error


def expect_unsupported(call: Callable[[], Any]) -> None:
    """A 501 ConnectorOperationUnsupportedError, which the SDK raises as a plain APIError."""
    expect_error(models.APIError, 501, "ConnectorOperationUnsupportedError", call)


def check_envelope(body: Any, target: SdkTarget, resource: str, operation: str) -> None:
    assert body is not None, "the SDK found no typed body (a status or content type it does not expect)"
    status = 201 if operation == "add" else 200
    assert (body.status_code, body.status) == (status, "Created" if status == 201 else "OK")
    assert (body.service, body.resource, body.operation) == (target.profile.service_id, resource, operation)


def pages(first: Any, attribute: str, limit: int) -> list[Any]:
    """Every page of a list, the SDK's ``.next()`` after the first, until it returns None."""
    out: list[Any] = []
    response = first
    while response is not None:
        assert response.unexpected_error_response is None
        body = getattr(response, attribute)
        assert body is not None
        assert len(body.data) <= limit and body.meta.items_on_page == len(body.data)
        out.append(body)
        assert len(out) <= MAX_PAGES, "the list did not end"
        response = response.next()
    assert out[-1].meta.cursors.next is None and out[-1].links.next is None
    return out


def items(first: Any, attribute: str, limit: int) -> list[Any]:
    return [record for page in pages(first, attribute, limit) for record in page.data]


def new_ticket(target: SdkTarget, **overrides: Any) -> str:
    response = target.it.collection_tickets.create(**target.on, **{**target.profile.create, **overrides})
    assert response.unexpected_error_response is None
    check_envelope(response.create_ticket_response, target, "tickets", "add")
    ticket_id = response.create_ticket_response.data.id
    assert isinstance(ticket_id, str) and ticket_id
    return ticket_id


def get_ticket(target: SdkTarget, ticket_id: str, **params: Any) -> models.Ticket:
    response = target.it.collection_tickets.get(ticket_id=ticket_id, **target.on, **params)
    check_envelope(response.get_ticket_response, target, "tickets", "one")
    ticket = response.get_ticket_response.data
    assert ticket.id == ticket_id
    return ticket


def delete_ticket(target: SdkTarget, ticket_id: str) -> None:
    if not target.profile.supports("tickets.delete"):
        expect_unsupported(lambda: target.it.collection_tickets.delete(ticket_id=ticket_id, **target.on))
        return
    response = target.it.collection_tickets.delete(ticket_id=ticket_id, **target.on)
    check_envelope(response.delete_ticket_response, target, "tickets", "delete")
    assert response.delete_ticket_response.data.id == ticket_id


def _stamps(tickets: list[models.Ticket]) -> list[datetime]:
    return [t.created_at for t in tickets if isinstance(t.created_at, datetime)]


# -- the suite -----------------------------------------------------------------------------------
def test_collections_list_and_get(sdk_target: SdkTarget) -> None:
    t, p = sdk_target, sdk_target.profile
    first = t.it.collections.list(service_id=p.service_id, limit=1, raw=True)
    check_envelope(first.get_collections_response, t, "collections", "all")
    listed = items(first, "get_collections_response", 1)
    assert p.collection_id in [c.id for c in listed]
    one = t.it.collections.get(collection_id=p.collection_id, service_id=p.service_id)
    check_envelope(one.get_collection_response, t, "collections", "one")
    assert one.get_collection_response.data.id == p.collection_id


def test_tickets_are_paged_with_next(sdk_target: SdkTarget) -> None:
    t, p = sdk_target, sdk_target.profile
    collection = p.paging_collection or p.collection_id
    limit = 50
    created = fill(t, collection, 2 * limit + 1)  # a fresh tracker may hold fewer tickets than three pages
    first = t.it.collection_tickets.list(collection_id=collection, service_id=p.service_id, limit=limit, raw=True)
    check_envelope(first.get_tickets_response, t, "tickets", "all")
    walked = pages(first, "get_tickets_response", limit)
    ids = [ticket.id for page in walked for ticket in page.data]
    assert len(walked) > 1, f"{collection} holds a single page of {limit}; paging is not exercised"
    assert len(ids) == len(set(ids)), "a ticket came twice"
    total = walked[0].meta.total_count
    if total is not None:
        assert total == len(ids)
    assert all(len(page.data) == limit for page in walked[:-1])
    for ticket_id in created:
        delete_ticket(replace(t, profile=replace(p, collection_id=collection)), ticket_id)


def fill(target: SdkTarget, collection: str, count: int) -> list[str]:
    """Create tickets in ``collection`` until it holds ``count``; the ids created (none when it already did)."""
    listed = target.it.collection_tickets.list(collection_id=collection, service_id=target.profile.service_id,
                                               limit=200)
    held = len(listed.get_tickets_response.data)
    on = {"collection_id": collection, "service_id": target.profile.service_id}
    created = []
    for _ in range(held, count):
        response = target.it.collection_tickets.create(**on, **target.profile.create)
        created.append(response.create_ticket_response.data.id)
    return created


def test_tickets_filter_and_sort(sdk_target: SdkTarget) -> None:
    t, p = sdk_target, sdk_target.profile
    closed = {"status": ["closed"]}
    if p.status_filter:
        first = t.it.collection_tickets.list(**t.on, filter_=closed, limit=100)
        check_envelope(first.get_tickets_response, t, "tickets", "all")
        assert {ticket.status for ticket in items(first, "get_tickets_response", 100)} <= {"closed"}
    else:
        expect_error(models.BadRequestResponse, 400, "UnsupportedFiltersError",
                     lambda: t.it.collection_tickets.list(**t.on, filter_=closed))
    since = datetime(2025, 3, 1, tzinfo=UTC)   # a fixed instant: replays ask what recordings asked
    if p.since_filter:
        first = t.it.collection_tickets.list(**t.on, filter_={"since": since}, limit=5)
        check_envelope(first.get_tickets_response, t, "tickets", "all")
        assert all(x.updated_at >= since for x in first.get_tickets_response.data)
    else:
        expect_error(models.BadRequestResponse, 400, "UnsupportedFiltersError",
                     lambda: t.it.collection_tickets.list(**t.on, filter_={"since": since}))
    if p.sort is not None:
        first = t.it.collection_tickets.list(**t.on, sort=p.sort, limit=20)
        check_envelope(first.get_tickets_response, t, "tickets", "all")
        stamps = _stamps(first.get_tickets_response.data)
        assert stamps == sorted(stamps, reverse=p.sort.get("direction") == "desc")
    else:
        expect_error(models.BadRequestResponse, 400, "UnsupportedSortFieldError",
                     lambda: t.it.collection_tickets.list(**t.on, sort={"by": "created_at"}))
    # a sort field outside the spec's enum: the SDK's open enum sends it, the gateway refuses it
    expect_error(models.BadRequestResponse, 400, "RequestValidationError",
                 lambda: t.it.collection_tickets.list(**t.on, sort={"by": "priority", "direction": "asc"}))


def test_ticket_lifecycle(sdk_target: SdkTarget) -> None:
    t, p = sdk_target, sdk_target.profile
    ticket_id = new_ticket(t)
    ticket = get_ticket(t, ticket_id, raw=True)
    assert ticket.collection_id in (None, p.collection_id)
    for keyword, name in (("subject", "subject"), ("description", "description"), ("priority", "priority"),
                          ("type_", "type"), ("due_date", "due_date")):   # the SDK's create keyword, Ticket's field
        if keyword in p.create:
            assert getattr(ticket, name) == p.create[keyword], name
    if "tags" in p.create:
        assert [tag.id for tag in ticket.tags or []] == [tag["id"] for tag in p.create["tags"]]
    assert ticket.status != "closed"
    narrow = get_ticket(t, ticket_id, fields="id,subject")   # `fields` keeps what it names (and the SDK's required id)
    assert narrow.model_dump(exclude_unset=True) == {"id": ticket_id, "subject": p.create["subject"]}

    updated = t.it.collection_tickets.update(ticket_id=ticket_id, **t.on, **p.update, raw=True)
    check_envelope(updated.update_ticket_response, t, "tickets", "update")
    assert updated.update_ticket_response.data.id == ticket_id
    ticket = get_ticket(t, ticket_id)
    assert {k: getattr(ticket, k) for k in p.update} == p.update

    if p.status_filter:   # the closed ticket is among the closed ones
        first = t.it.collection_tickets.list(**t.on, filter_={"status": ["closed"]}, limit=200)
        assert ticket_id in [x.id for x in items(first, "get_tickets_response", 200)]

    delete_ticket(t, ticket_id)
    if p.supports("tickets.delete"):
        expect_error(models.NotFoundResponse, 404, "EntityNotFoundError", lambda: get_ticket(t, ticket_id))


def test_assignee_is_set_filtered_and_cleared(sdk_target: SdkTarget) -> None:
    t, p = sdk_target, sdk_target.profile
    tickets = t.it.collection_tickets
    ticket_id = new_ticket(t)
    try:
        if p.assignee_id is None:  # the tracker cannot store assignees: a warning, or a 400 in strict mode
            tickets.update(ticket_id=ticket_id, **t.on, assignees=[{"id": "1"}])
            assert get_ticket(t, ticket_id).assignees in ([], None)
            expect_error(models.BadRequestResponse, 400, "RequestValidationError",
                         lambda: tickets.update(ticket_id=ticket_id, **t.on, assignees=[{"id": "1"}],
                                                http_headers={"x-unigate-strict": "true"}))
            return
        tickets.update(ticket_id=ticket_id, **t.on, assignees=[{"id": p.assignee_id}])
        assert [a.id for a in get_ticket(t, ticket_id).assignees or []] == [p.assignee_id]
        first = tickets.list(**t.on, filter_={"assignee_id": p.assignee_id}, limit=200)
        assigned = items(first, "get_tickets_response", 200)
        assert ticket_id in [x.id for x in assigned]
        assert all(p.assignee_id in [a.id for a in x.assignees] for x in assigned)
        tickets.update(ticket_id=ticket_id, **t.on, assignees=[])
        assert get_ticket(t, ticket_id).assignees in ([], None)
    finally:
        delete_ticket(t, ticket_id)


def test_comments(sdk_target: SdkTarget) -> None:
    t, p = sdk_target, sdk_target.profile
    comments = t.it.collection_ticket_comments
    ticket_id = new_ticket(t)
    on = {**t.on, "ticket_id": ticket_id}
    try:
        if not p.supports("comments.create"):
            expect_unsupported(lambda: comments.create(**on, body=p.comment))
            comment_id = "1"
        else:
            created = comments.create(**on, body=p.comment)
            assert created.unexpected_error_response is None
            check_envelope(created.create_comment_response, t, "comments", "add")
            comment_id = created.create_comment_response.data.id
        if not p.supports("comments.list"):
            expect_unsupported(lambda: comments.list(**on))
        else:
            first = comments.list(**on, limit=1, raw=True)
            check_envelope(first.get_comments_response, t, "comments", "all")
            bodies = {c.id: c.body for c in items(first, "get_comments_response", 1)}
            assert bodies[comment_id] == p.comment
        if not p.supports("comments.get"):
            expect_unsupported(lambda: comments.get(id=comment_id, **on))
        else:
            one = comments.get(id=comment_id, **on)
            check_envelope(one.get_comment_response, t, "comments", "one")
            assert (one.get_comment_response.data.id, one.get_comment_response.data.body) == (comment_id, p.comment)
        if not p.supports("comments.update"):
            expect_unsupported(lambda: comments.update(id=comment_id, **on, body=p.edited_comment))
        else:
            updated = comments.update(id=comment_id, **on, body=p.edited_comment)
            check_envelope(updated.update_comment_response, t, "comments", "update")
            assert updated.update_comment_response.data.id == comment_id
            assert comments.get(id=comment_id, **on).get_comment_response.data.body == p.edited_comment
        if not p.supports("comments.delete"):
            expect_unsupported(lambda: comments.delete(id=comment_id, **on))
        else:
            deleted = comments.delete(id=comment_id, **on)
            check_envelope(deleted.delete_comment_response, t, "comments", "delete")
            assert deleted.delete_comment_response.data.id == comment_id
            left = comments.list(**on, limit=200)
            assert comment_id not in [c.id for c in items(left, "get_comments_response", 200)]
    finally:
        delete_ticket(t, ticket_id)


def test_users_list_and_get(sdk_target: SdkTarget) -> None:
    t, p = sdk_target, sdk_target.profile
    users = t.it.collection_users
    if not p.supports("users.list"):
        expect_unsupported(lambda: users.list(**t.on))
        expect_unsupported(lambda: users.get(**t.on, id="1"))
        return
    first = users.list(**t.on, limit=2, raw=True)
    check_envelope(first.get_collection_users_response, t, "users", "all")
    listed = items(first, "get_collection_users_response", 2)
    assert listed and all(u.id for u in listed)
    assert len({u.id for u in listed}) == len(listed)
    one = users.get(**t.on, id=listed[-1].id)
    check_envelope(one.get_collection_user_response, t, "users", "one")
    assert one.get_collection_user_response.data.id == listed[-1].id
    assert one.get_collection_user_response.data.name == listed[-1].name


def test_tags_list(sdk_target: SdkTarget) -> None:
    t, p = sdk_target, sdk_target.profile
    if not p.supports("tags.list"):
        expect_unsupported(lambda: t.it.collection_tags.list(**t.on))
        return
    if p.tag_seed and not t.it.collection_tags.list(**t.on, limit=1).get_collection_tags_response.data:
        # a fresh tracker has no tag yet: a ticket tagged by name makes one (the SDK sends tags by id
        # only, so this goes to the gateway as plain HTTP); the tag stays when the ticket goes
        with t.harness.client(p.service_id) as client:
            created = client.post(f"/issue-tracking/collections/{p.collection_id}/tickets", json=p.tag_seed)
        assert created.status_code == 201, created.text
        delete_ticket(t, created.json()["data"]["id"])
    first = t.it.collection_tags.list(**t.on, limit=2, raw=True)
    check_envelope(first.get_collection_tags_response, t, "tags", "all")
    tags = items(first, "get_collection_tags_response", 2)
    assert tags and all(tag.id for tag in tags)


# -- typed errors ---------------------------------------------------------------------------------
def test_wrong_api_key_is_unauthorized(sdk_target: SdkTarget) -> None:
    t = sdk_target
    with t.client(api_key="not-the-key") as stranger:
        expect_error(models.UnauthorizedResponse, 401, "UnauthorizedError",
                     lambda: stranger.issue_tracking.collection_tickets.list(**t.on))


def test_unknown_ticket_is_not_found(sdk_target: SdkTarget) -> None:
    t = sdk_target
    error = expect_error(models.NotFoundResponse, 404, "EntityNotFoundError",
                         lambda: get_ticket(t, t.profile.missing_ticket_id))
    assert t.profile.missing_ticket_id in str(error.data.detail)


def test_bad_limit_and_invalid_body_are_bad_requests(sdk_target: SdkTarget) -> None:
    t = sdk_target
    for limit in (0, 201):
        expect_error(models.BadRequestResponse, 400, "RequestValidationError",
                     lambda: t.it.collection_tickets.list(**t.on, limit=limit))  # noqa: B023 - called at once
    # the SDK's priority enum is open: it sends "critical" as is, and the gateway validates it
    expect_error(models.BadRequestResponse, 400, "RequestValidationError",
                 lambda: t.it.collection_tickets.create(**t.on, **{**t.profile.create, "priority": "critical"}))


def test_disabled_connection_is_unprocessable(sdk_target: SdkTarget) -> None:
    t = sdk_target
    expect_error(models.UnprocessableResponse, 422, "ConnectorDisabledError",
                 lambda: t.it.collection_tickets.list(**t.on, consumer_id=DISABLED_CONSUMER))


def test_unsupported_operations_are_501(sdk_target: SdkTarget) -> None:
    """Every operation the profile declares unsupported, called with made-up ids: 501 before any call.

    The others are backed: on a ticket that does not exist they answer, or raise a typed error
    (404), never the 501 (or any other untyped ``APIError``).
    """
    t, p = sdk_target, sdk_target.profile
    it, on = t.it, t.on
    ticket, comment = {"ticket_id": p.missing_ticket_id}, {"ticket_id": p.missing_ticket_id, "id": "1"}
    calls: dict[str, Callable[[], Any]] = {
        "tickets.delete": lambda: it.collection_tickets.delete(**on, **ticket),
        "comments.list": lambda: it.collection_ticket_comments.list(**on, **ticket),
        "comments.create": lambda: it.collection_ticket_comments.create(**on, **ticket, body="x"),
        "comments.get": lambda: it.collection_ticket_comments.get(**on, **comment),
        "comments.update": lambda: it.collection_ticket_comments.update(**on, **comment, body="x"),
        "comments.delete": lambda: it.collection_ticket_comments.delete(**on, **comment),
        "users.list": lambda: it.collection_users.list(**on),
        "users.get": lambda: it.collection_users.get(**on, id="1"),
        "tags.list": lambda: it.collection_tags.list(**on),
    }
    assert p.unsupported <= set(calls), p.unsupported - set(calls)
    for operation in sorted(p.unsupported):
        expect_unsupported(calls[operation])
    if t.simulator is not None:
        assert t.simulator.requests() == [], "an unsupported operation reached the tracker"
    for operation in sorted(set(calls) - p.unsupported):
        with contextlib.suppress(models.NotFoundResponse, models.BadRequestResponse):
            calls[operation]()


# -- faults a tracker answers (simulators only) ----------------------------------------------------
def test_rate_limited_tracker_is_api_error_429(sdk_target: SdkTarget) -> None:
    t = sdk_target
    assert t.simulator is not None
    t.simulator.fault(status=429, retry_after=30)
    error = expect_error(models.APIError, 429, "ConnectorRateLimitError",
                         lambda: t.it.collection_tickets.list(**t.on))
    assert error.headers["retry-after"] == "30"


def test_tracker_payment_required_is_typed_402(sdk_target: SdkTarget) -> None:
    """A tracker's own 402 (its plan lapsed) is relayed as a 402 ConnectorExecutionError.

    The gateway has no request limit of its own (no RequestLimitError): this is its only 402.
    """
    t = sdk_target
    assert t.simulator is not None
    t.simulator.fault(status=402, body={"error": "Subscription expired"})
    error = expect_error(models.PaymentRequiredResponse, 402, "ConnectorExecutionError",
                         lambda: t.it.collection_tickets.list(**t.on))
    assert json.loads(error.data.detail)["downstream_status"] == 402
