"""The connector acceptance suite: the behaviour every connector owes its clients, in one class.

A connector's tests run it by subclassing :class:`ConnectorAcceptance` and naming the connector::

    from unigate.testing import ConnectorAcceptance

    class TestAcmeAcceptance(ConnectorAcceptance):
        service_id = "acme"

The checks are driven by what the connector declares (its manifest's operations, filters, sorts
and paging, and ``Connector.supports``): an operation it declares must work, one it does not must
answer ``501 ConnectorOperationUnsupportedError`` (checked, never skipped); a declared filter or
sort must be served and correct, an undeclared one must be a typed 400. The suite creates the data
it needs (tickets, comments; a fresh tracker is enough) and deletes the tickets it made when the
connector can delete. Every failure says what to fix in the connector.

What runs, per test (ids in brackets):

- ``test_list_pages[<resource>-<1|2|middle|max>]``: every list read at limit 1, 2, half the
  tracker's page size plus one (unified pages straddle the tracker's) and 200: full pages but the
  last, no record twice, the union is the whole list in its order (a small-limit walk longer than
  ``PAGE_BUDGET`` pages is compared with the list's prefix), ``total_count`` right when given;
- ``test_cursor_round_trips[<resource>]``: a ``next`` cursor read twice gives the same page;
- ``test_one_matches_the_list[<resource>]``: a listed record read alone is the same record;
- ticket create / update / delete round trips, the unknown ticket's 404, comments, users, tags;
- ``test_filter[<status|since|assignee_id>]`` and ``test_sort[<resource>-<field>-<direction>]``:
  declared ones (and a ``since`` the engine emulates: :mod:`unigate.connector.capabilities`) return
  exactly the matching records / the records in that order, undeclared ones
  ``UnsupportedFiltersError`` / ``UnsupportedSortFieldError`` with no downstream call;
- ``pass_through`` in the query and in a body, ``custom_mappings`` read and written, ``raw=true``;
- ``test_fault_contract[<case>]``: the shared downstream fault contract
  (:mod:`unigate.testing.faults`), injected by the connector's simulator, or (live, recorded,
  replayed) by a ``FaultTap`` on the gateway's downstream transport (:mod:`unigate.testing.faulttap`):
  a faulted request is answered before the cassette, so it needs no recording;
- ``test_hostile_ids_never_reach_the_tracker`` (:mod:`unigate.testing.hostile`) and
  ``test_undeclared_operations_answer_501``.

Class attributes a subclass may set:

- ``service_id`` (required): the connector;
- ``tracker``: ``"sandbox"`` (its simulator, from the ``SandboxProfile``) or ``"live"`` (its real
  server from the ``LiveProfile``, recorded to and replayed from ``cassettes/acceptance/`` beside
  the test module, see :mod:`unigate.testing.live`); default: sandbox when it has a simulator;
- ``collection_id``: where tickets are created and listed (default: the first collection listed);
- ``ticket``: a ``tickets.add`` body the tracker accepts (default: a subject and a description);
- ``comment`` / ``edited_comment``: comment bodies that read back as written (HTML for rich text);
- ``missing_ticket_id``: a well-formed id no ticket has, for a connector that cannot delete;
- ``tag_seed``: a ticket body whose tags make a tag exist, for a tracker whose tag list may be empty;
- ``known_failures``: ``{test id: the connector bug it shows}``, run as strict xfails (a fixed bug
  fails the run until its entry goes): for a connector you cannot fix in the same change.

A live suite's requests carry no clock or random values (ids and timestamps come from the
tracker's answers), so its cassettes replay exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from unigate.testing.cassettes import cassettes_beside
from unigate.testing.faults import FAULT_CASES, FaultCase, check_fault
from unigate.testing.faulttap import MESSAGE
from unigate.testing.hostile import hostile_requests, raw_request
from unigate.testing.probe import (
    BASE,
    CUSTOM_CONSUMER,
    CUSTOM_NAME,
    PAGE_BUDGET,
    AcceptanceTarget,
    Probe,
    expect,
    timestamp,
)
from unigate.unified import UNIFIED

LISTS = ("collections", "tickets", "comments", "users", "tags")
LIMITS = ("1", "2", "middle", "max")
MAX_LIMIT = UNIFIED.limit.maximum
FILTERS = tuple(f.name for f in UNIFIED.filters["tickets"])
SORTS = [(resource, by, d) for resource, fields in UNIFIED.sorts.items() for by in fields for d in UNIFIED.sort_directions]
OPERATIONS = UNIFIED.routes()
# a value of each unified filter the gateway accepts, for checking an undeclared one is refused
FILTER_SAMPLES = {"status": "closed", "since": "2025-01-01T00:00:00Z", "assignee_id": "1"}
COMMENT = "Acceptance comment"


class ConnectorAcceptance:
    """Subclass as ``Test<Name>Acceptance`` and set ``service_id``; see the module docstring."""

    service_id: ClassVar[str]
    tracker: ClassVar[str | None] = None
    collection_id: ClassVar[str | None] = None
    ticket: ClassVar[dict[str, Any]] = {"subject": "Acceptance ticket",
                                        "description": "Made by the unigate connector acceptance suite"}
    missing_ticket_id: ClassVar[str] = "999999999"
    # comment bodies written then read back as they are (a tracker storing rich text reads HTML:
    # write HTML, e.g. "<p>Acceptance comment</p>")
    comment: ClassVar[str] = COMMENT
    edited_comment: ClassVar[str] = "Acceptance comment, edited"
    tag_seed: ClassVar[dict[str, Any] | None] = None
    # test id -> the connector bug it shows, run as a strict xfail: it must fail, and the run fails
    # the day it passes, so a fixed bug gets its entry removed (never a way to hide a new failure)
    known_failures: ClassVar[dict[str, str]] = {}

    # -- fixtures ----------------------------------------------------------------------------------
    @pytest.fixture(scope="class")
    @classmethod
    def acceptance(cls, tmp_path_factory: pytest.TempPathFactory,
                   request: pytest.FixtureRequest) -> Iterator[AcceptanceTarget]:
        unknown = [k for k in cls.known_failures if not k.split("[")[0].startswith("test_")
                   or not hasattr(cls, k.split("[")[0])]
        if unknown:
            raise ValueError(f"known_failures names no test of the acceptance suite: {unknown}")
        target = AcceptanceTarget.start(tmp_path_factory.mktemp(cls.service_id), cls.service_id,
                                        cls._tracker_kind(), cassettes_beside(request.path) / "acceptance")
        yield target
        target.stop()

    @pytest.fixture
    def probe(self, acceptance: AcceptanceTarget, request: pytest.FixtureRequest) -> Iterator[Probe]:
        reason = self.known_failures.get(request.node.name)
        if reason is not None:
            request.node.add_marker(pytest.mark.xfail(reason=reason, strict=True, raises=AssertionError))
        with acceptance.session(request.node.name) as client:
            probe = Probe(acceptance, client, self.collection_id, dict(self.ticket))
            try:
                yield probe
            finally:
                probe.cleanup()

    @classmethod
    def _tracker_kind(cls) -> str:
        if cls.tracker is not None:
            return cls.tracker
        from unigate.plugins.registry import ConnectorRegistry

        definition = ConnectorRegistry.load().definitions[cls.service_id]
        return "sandbox" if definition.sandbox is not None else "live"

    # -- lists and paging --------------------------------------------------------------------------
    @pytest.mark.parametrize("limit", LIMITS)
    @pytest.mark.parametrize("resource", LISTS)
    def test_list_pages(self, probe: Probe, resource: str, limit: str) -> None:
        if not probe.caps.supports(resource, "all"):
            return self._answers_501(probe, "GET", self._path_of(probe, resource, "all"), resource, "all")
        path = self._filled_list(probe, resource)
        size = probe.caps.limit(resource, limit)
        whole = [r["id"] for r in probe.whole(path)]
        pages, ended = probe.walk(path, size, PAGE_BUDGET)
        ids = [r["id"] for page in pages for r in page]
        where = f"{resource}.all at limit {size}"
        expect(len(ids) == len(set(ids)), f"{where}: records came twice ({_dupes(ids)}): pages overlap; check the "
               f"offset/page arithmetic of `{probe.caps.where(resource, 'all')}.pagination`")
        short = [n for n, page in enumerate(pages[:-1] if ended else pages) if len(page) < size]
        expect(not short, f"{where}: page(s) {short} hold fewer than {size} records before the end: the window must "
                          "be filled from the tracker's next page (the engine's paging helper does)")
        expected = whole if ended else whole[:len(ids)]
        expect(ids == expected, f"{where}: the pages' union is not the whole list read at {MAX_LIMIT}"
               f"{'' if ended else f' (its first {len(ids)})'}: missing {_missing(expected, ids)}, extra "
               f"{_missing(ids, expected)}; a cursor must resume exactly where the page ended, in a stable order")
        first = probe.ok(probe.client.get(path, params={"limit": size}), where)
        total = first["meta"].get("total_count")
        expect(total is None or total == len(whole), f"{where}: meta.total_count {total} but the list holds "
               f"{len(whole)}: `pagination.total` points at the wrong number, or leave it out")

    @pytest.mark.parametrize("resource", LISTS)
    def test_cursor_round_trips(self, probe: Probe, resource: str) -> None:
        if not probe.caps.supports(resource, "all"):
            return self._answers_501(probe, "GET", self._path_of(probe, resource, "all"), resource, "all")
        path = self._filled_list(probe, resource)
        first = probe.ok(probe.client.get(path, params={"limit": 1}), f"{resource}.all limit=1")
        cursor = first["meta"]["cursors"]["next"]
        whole = probe.whole(path)
        expect(cursor is not None or len(whole) <= 1, f"{resource}.all limit=1 gave no next cursor though the list "
               f"holds {len(whole)}: the connector must report a next position while records remain")
        if cursor is None:
            return None
        again = [probe.ok(probe.client.get(path, params={"limit": 1, "cursor": cursor}), f"{resource}.all cursor")
                 for _ in range(2)]
        ids = [[r["id"] for r in body["data"]] for body in again]
        expect(ids[0] == ids[1] == [whole[1]["id"]], f"{resource}.all: the next cursor read twice gave {ids}, "
               f"expected the list's second record {whole[1]['id']!r} both times: a cursor is a position, not state")
        return None

    @pytest.mark.parametrize("resource", ["collections", "tickets", "users"])
    def test_one_matches_the_list(self, probe: Probe, resource: str) -> None:
        if not probe.caps.supports(resource, "all"):
            return self._answers_501(probe, "GET", self._path_of(probe, resource, "all"), resource, "all")
        listed = probe.ok(probe.client.get(self._filled_list(probe, resource), params={"limit": 3}),
                          f"{resource}.all")["data"]
        expect(listed, f"{resource}.all lists nothing: the suite needs one record to read alone")
        for record in listed:
            path = self._path_of(probe, resource, "one", record["id"])
            if not probe.caps.supports(resource, "one"):
                return self._answers_501(probe, "GET", path, resource, "one")
            one = probe.ok(probe.client.get(path), f"{resource}.one {record['id']}")["data"]
            differ = {k: (v, one.get(k)) for k, v in record.items() if k in one and one[k] != v}
            expect(one["id"] == record["id"] and not differ,
                   f"{resource} {record['id']!r} reads differently listed and alone (listed, alone): {differ}; the "
                   f"list and `one` must map the same fields (`omit` what the list lacks)")
        return None

    # -- tickets -----------------------------------------------------------------------------------
    def test_ticket_create_round_trip(self, probe: Probe) -> None:
        if not probe.caps.supports("tickets", "add"):
            return self._answers_501(probe, "POST", probe.tickets_path(), "tickets", "add")
        ticket_id, answer = probe.new_ticket()
        warned = _warned(answer)
        read = probe.ticket(ticket_id)
        wrong = {k: (v, read.get(k)) for k, v in probe.ticket_body.items()
                 if k not in warned and _comparable(read.get(k)) != _comparable(v)}
        expect(not wrong, f"tickets.add then tickets.one: fields read back differently (sent, read): {wrong}; map "
                          "them the same way both ways, or declare them refused (a `notes` entry warns)")
        if probe.caps.supports("tickets", "all"):
            expect(ticket_id in [t["id"] for t in probe.whole(probe.tickets_path())],
                   f"the created ticket {ticket_id!r} is not in tickets.all of {probe.collection()!r}")
        return None

    def test_ticket_update_round_trip(self, probe: Probe) -> None:
        if not probe.caps.supports("tickets", "update"):
            return self._answers_501(probe, "PATCH", f"{probe.tickets_path()}/1", "tickets", "update")
        ticket_id, _ = probe.new_ticket()
        before = probe.ticket(ticket_id)
        for change in ({"subject": "Acceptance ticket, renamed"}, {"status": "closed"}):
            body = probe.ok(probe.client.patch(f"{probe.tickets_path()}/{ticket_id}", json=change),
                            f"tickets.update {change}")
            expect(body["data"].get("id") == ticket_id, f"tickets.update answered id {body['data'].get('id')!r}, "
                                                        f"not the ticket's {ticket_id!r}")
            name, value = next(iter(change.items()))
            read = probe.ticket(ticket_id)
            wanted = before.get(name) if name in _warned(body) else value
            expect(read.get(name) == wanted, f"tickets.update {change}: the ticket then reads {name} "
                   f"{read.get(name)!r}, expected {wanted!r}" + (" (the update warned it is not stored)"
                                                                 if name in _warned(body) else ""))
        return None

    def test_ticket_delete(self, probe: Probe) -> None:
        if not probe.caps.supports("tickets", "delete"):
            return self._answers_501(probe, "DELETE", f"{probe.tickets_path()}/1", "tickets", "delete")
        ticket_id, _ = probe.new_ticket()
        path = f"{probe.tickets_path()}/{ticket_id}"
        body = probe.ok(probe.client.delete(path), f"tickets.delete {ticket_id}")
        expect(body["data"] == {"id": ticket_id}, f"tickets.delete answered {body['data']}, expected its id")
        probe.refused(probe.client.get(path), 404, "EntityNotFoundError", f"tickets.one of deleted {ticket_id}",
                      "a deleted (or retired) ticket must read as not found")
        if probe.caps.supports("tickets", "all"):
            expect(ticket_id not in [t["id"] for t in probe.whole(probe.tickets_path())],
                   f"the deleted ticket {ticket_id!r} is still listed by tickets.all")
        return None

    def test_unknown_ticket_is_not_found(self, probe: Probe) -> None:
        if not probe.caps.supports("tickets", "one"):
            return self._answers_501(probe, "GET", f"{probe.tickets_path()}/1", "tickets", "one")
        missing = self.missing_ticket_id
        if probe.caps.supports("tickets", "add") and probe.caps.supports("tickets", "delete"):
            missing, _ = probe.new_ticket()
            probe.ok(probe.client.delete(f"{probe.tickets_path()}/{missing}"), "tickets.delete")
        body = probe.refused(probe.client.get(f"{probe.tickets_path()}/{missing}"), 404, "EntityNotFoundError",
                             f"tickets.one {missing}", "the tracker's not-found answer must map to a 404 "
                             "(`http.errors`, or raise EntityNotFoundError in code)")
        return expect(body.get("message"), "the 404 carries no message")

    # -- comments, users, tags ----------------------------------------------------------------------
    def test_comments_round_trip(self, probe: Probe) -> None:
        if not probe.caps.supports("comments", "add"):
            return self._answers_501(probe, "POST", f"{probe.tickets_path()}/1/comments", "comments", "add")
        ticket_id, _ = probe.new_ticket()
        path = f"{probe.tickets_path()}/{ticket_id}/comments"
        comment_id = probe.ok(probe.client.post(path, json={"body": self.comment}), "comments.add", 201)["data"]["id"]
        expect(isinstance(comment_id, str) and comment_id, "comments.add answered no string id")
        self._comment_reads(probe, path, comment_id, self.comment)
        if probe.caps.supports("comments", "update"):
            probe.ok(probe.client.patch(f"{path}/{comment_id}", json={"body": self.edited_comment}),
                     "comments.update")
            self._comment_reads(probe, path, comment_id, self.edited_comment)
        else:
            self._answers_501(probe, "PATCH", f"{path}/{comment_id}", "comments", "update")
        if not probe.caps.supports("comments", "delete"):
            return self._answers_501(probe, "DELETE", f"{path}/{comment_id}", "comments", "delete")
        probe.ok(probe.client.delete(f"{path}/{comment_id}"), "comments.delete")
        if probe.caps.supports("comments", "all"):
            expect(comment_id not in [c["id"] for c in probe.whole(path)], "a deleted comment is still listed")
        return None

    def _comment_reads(self, probe: Probe, path: str, comment_id: str, text: str) -> None:
        if probe.caps.supports("comments", "all"):
            bodies = {c["id"]: c.get("body") for c in probe.whole(path)}
            expect(bodies.get(comment_id) == text, f"comments.all of the ticket: comment {comment_id!r} reads "
                   f"{bodies.get(comment_id)!r}, expected {text!r} (listed: {list(bodies)})")
        if probe.caps.supports("comments", "one"):
            one = probe.ok(probe.client.get(f"{path}/{comment_id}"), f"comments.one {comment_id}")["data"]
            expect((one["id"], one.get("body")) == (comment_id, text),
                   f"comments.one {comment_id}: read {one}, expected body {text!r}")

    def test_users(self, probe: Probe) -> None:
        path = f"{BASE}/{probe.collection()}/users"
        if not probe.caps.supports("users", "all"):
            return self._answers_501(probe, "GET", path, "users", "all")
        users = probe.whole(path)
        expect(users, "users.all lists nobody: a tracker has at least the API user; check `records`")
        unknown = f"{path}/{self.missing_ticket_id}"
        if not probe.caps.supports("users", "one"):
            return self._answers_501(probe, "GET", unknown, "users", "one")
        probe.refused(probe.client.get(unknown), 404, "EntityNotFoundError", "users.one of an unknown id",
                      "the tracker's not-found (or a `match` finding nothing) must be a 404")
        return None

    def test_tags(self, probe: Probe) -> None:
        path = f"{BASE}/{probe.collection()}/tags"
        if not probe.caps.supports("tags", "all"):
            return self._answers_501(probe, "GET", path, "tags", "all")
        tags = probe.whole(path)
        if not tags and self.tag_seed is not None:
            probe.new_ticket(**self.tag_seed)
            tags = probe.whole(path)
        expect(tags, "tags.all lists no tag: set `tag_seed` on the test class (a ticket body whose tags make one), "
                     "or check `records` of tags.all")
        expect(all(t.get("name") for t in tags), f"tags without a name: {[t for t in tags if not t.get('name')]}")
        return None

    # -- filters and sorts --------------------------------------------------------------------------
    @pytest.mark.parametrize("name", FILTERS)
    def test_filter(self, probe: Probe, name: str) -> None:
        path = probe.tickets_path()
        if name not in probe.caps.filters:
            mark = probe.mark()
            probe.refused(probe.client.get(path, params={f"filter[{name}]": FILTER_SAMPLES[name]}), 400,
                          "UnsupportedFiltersError", f"tickets.all filter[{name}] (not declared)",
                          "an undeclared filter must be refused, never ignored")
            expect(not probe.downstream(mark), f"filter[{name}] is undeclared yet a call went downstream")
            return
        whole = probe.whole(path)
        {"status": _status_filter, "since": _since_filter, "assignee_id": _assignee_filter}[name](probe, path, whole)

    def test_filter_outside_the_unified_model_is_refused(self, probe: Probe) -> None:
        probe.refused(probe.client.get(probe.tickets_path(), params={"filter[acceptance]": "1"}), 400,
                      "UnsupportedFiltersError", "filter[acceptance]", "the gateway refuses it before the connector")

    @pytest.mark.parametrize(("resource", "by", "direction"), SORTS)
    def test_sort(self, probe: Probe, resource: str, by: str, direction: str) -> None:
        if not probe.caps.supports(resource, "all"):
            return self._answers_501(probe, "GET", self._path_of(probe, resource, "all"), resource, "all")
        path = self._filled_list(probe, resource)
        params = {"sort[by]": by, "sort[direction]": direction}
        static = probe.caps.static(resource)   # the manifest's own records: the engine serves any order
        if (by, direction) not in probe.caps.sorts(resource) and not static:
            mark = probe.mark()
            probe.refused(probe.client.get(path, params=params), 400, "UnsupportedSortFieldError",
                          f"{resource}.all sorted by {by} {direction} (not declared)",
                          f"declare it in `{probe.caps.where(resource, 'all')}.sort` or it must be refused")
            writes = [str(x) for x in probe.downstream(mark) if x.method != "GET"]
            return expect(not writes, f"an undeclared sort was refused after downstream writes: {writes}")
        unsorted = {r["id"] for r in probe.whole(path)}
        records = probe.whole(path, **params)
        expect({r["id"] for r in records} == unsorted, f"{resource}.all sorted by {by} {direction} does not hold "
                                                       "the same records as the list unsorted")
        values = [_sort_key(r.get(by)) for r in records if r.get(by) is not None]
        expect(values or static, f"{resource}.all sorted by {by}: no record has {by}; map it or do not declare "
                                 "the sort")
        expect(values == sorted(values, reverse=direction == "desc"),
               f"{resource}.all sorted by {by} {direction} comes out of order ({[r.get(by) for r in records][:8]}…): "
               f"the manifest's `sort` sends the wrong parameter or direction, or a `natural` order is not the "
               "tracker's")
        return None

    # -- pass_through, custom_mappings, raw ----------------------------------------------------------
    def test_pass_through_query(self, probe: Probe) -> None:
        path = probe.tickets_path()
        mark = probe.mark()
        response = probe.client.get(path, params={"pass_through[acceptance_probe]": "yes", "limit": 1})
        sent = [x for x in probe.downstream(mark) if ("acceptance_probe", "yes") in x.url.params.multi_items()]
        expect(sent, f"pass_through[acceptance_probe]=yes did not reach the tracker (calls: "
                     f"{[str(x) for x in probe.downstream(mark)]}): the list call must be made with "
                     "apply_query_pass_through=True")
        expect(response.status_code < 500 or response.json().get("type_name") != "UnexpectedError",
               f"a passed-through parameter broke the gateway: {response.text[:300]}")
        for param in sorted(probe.caps.paging_params("tickets")):
            mark = probe.mark()
            probe.refused(probe.client.get(path, params={f"pass_through[{param}]": "5"}), 400,
                          "RequestValidationError", f"pass_through[{param}]",
                          f"{param} is a paging parameter: the gateway sets it")
            expect(not probe.downstream(mark), f"pass_through[{param}] was refused after a downstream call")

    def test_pass_through_body(self, probe: Probe) -> None:
        if not probe.caps.supports("tickets", "add"):
            return self._answers_501(probe, "POST", probe.tickets_path(), "tickets", "add")
        _, write = probe.caps.subject_paths()
        expect(write, "tickets declare no writable subject: the suite passes a subject through")
        call_id = probe.caps.call_id("tickets", "add")
        wrap = probe.caps.wrap("tickets", "add")
        target = (wrap or "$") + str(write)[1:]
        extension = {"service_id": probe.service_id, "operation_id": call_id,
                     "extend_paths": [{"path": target, "value": "Acceptance: passed through"}]}
        ticket_id, _ = probe.new_ticket(pass_through=[extension])
        read = probe.ticket(ticket_id)
        expect(read.get("subject") == "Acceptance: passed through", f"a body pass_through setting {target} on call "
               f"{call_id!r} did not reach the tracker (the subject reads {read.get('subject')!r}): the create must "
               f"go through ctx.call({call_id!r}, ...) with its body")
        mark = probe.mark()
        wrong = {**extension, "operation_id": "acceptance_no_such_call"}
        probe.refused(probe.client.post(probe.tickets_path(), json={**probe.ticket_body, "pass_through": [wrong]}),
                      400, "RequestValidationError", "a body pass_through naming no call of the connector",
                      "list every downstream call id (`call_id`, code_call_ids)")
        return expect(not probe.downstream(mark), "a pass_through naming no call was refused after a downstream call")

    def test_custom_mappings(self, probe: Probe) -> None:
        if not probe.caps.supports("tickets", "add"):
            return self._answers_501(probe, "POST", probe.tickets_path(), "tickets", "add")
        read_path, write_path = probe.caps.subject_paths()
        expect(read_path, "tickets declare no subject: the suite reads it through a custom mapping")
        with probe.target.harness.client(consumer_id=CUSTOM_CONSUMER) as custom:
            ticket_id, _ = probe.new_ticket()
            read = probe.ticket(ticket_id, custom)
            expect((read.get("custom_mappings") or {}).get(CUSTOM_NAME) == probe.ticket_body["subject"],
                   f"custom_mappings {{{CUSTOM_NAME}: {read_path}}} read {read.get('custom_mappings')!r}, expected "
                   f"the subject: a connection's custom_mappings must be read from the tracker's record")
            if write_path != read_path:
                return None
            sent = {**probe.ticket_body, "custom_mappings": {CUSTOM_NAME: "Acceptance: custom mapped"}}
            created = probe.ok(custom.post(probe.tickets_path(), json=sent), "tickets.add with custom_mappings", 201)
            probe.created.append((probe.collection(), created["data"]["id"]))
            subject = probe.ticket(created["data"]["id"]).get("subject")
            expect(subject == "Acceptance: custom mapped", f"custom_mappings written on create did not reach the "
                   f"tracker (subject reads {subject!r}): the create body must be the mapped body")
        return None

    def test_raw(self, probe: Probe) -> None:
        path = probe.tickets_path()
        listed = probe.ok(probe.client.get(path, params={"limit": 2}), "tickets.all")
        expect("_raw" not in listed, "_raw is in an answer that did not ask for raw=true")
        for what, url in (("tickets.all", path), ("tickets.one", f"{path}/{(listed['data'] or [{'id': '1'}])[0]['id']}")):
            mark = probe.mark()
            body = probe.ok(probe.client.get(url, params={"raw": "true", "limit": 2} if what == "tickets.all"
                                             else {"raw": "true"}), f"{what} raw=true")
            calls = probe.downstream(mark)
            expect(body.get("_raw") is not None, f"{what} raw=true answered no _raw")
            if len(calls) == 1 and isinstance(calls[0].shown(probe.target.credentials), dict):   # else under `calls`
                shown = calls[0].shown(probe.target.credentials)
                expect(body["_raw"] == shown, f"{what} raw=true: _raw is not the tracker's answer (keys only in _raw: "
                       f"{_extra_keys(body['_raw'], shown)}): a connector must not change the body it was given")
            else:   # several calls, or one whose answer is no object (a list, a 304): Apideck's _raw is an object
                raw_calls = body["_raw"]["calls"]
                ids = [c["call_id"] for c in raw_calls]
                expect(len(ids) == len(calls) and set(ids) <= set(probe.caps.connector.call_ids),
                       f"{what} raw=true: _raw names calls {ids} for {len(calls)} made; call ids must be declared")
                changed = [c["call_id"] for c, made in zip(raw_calls, calls, strict=True)
                           if c["body"] != made.shown(probe.target.credentials)]
                expect(not changed, f"{what} raw=true: _raw of {changed} is not the tracker's answer: a connector "
                                    "(or a preparation step) must not change the body it was given")

    # -- faults, hostile input, undeclared operations --------------------------------------------------
    @pytest.mark.parametrize("case", FAULT_CASES, ids=lambda case: case.name)
    def test_fault_contract(self, probe: Probe, case: FaultCase) -> None:
        target = probe.target
        target.harness.forget_rate_limits()   # after a 429 with Retry-After: 30, the next case is not held off
        check_fault(target.faults, lambda consumer: target.harness.client(consumer_id=consumer), probe.tickets_path(),
                    case, message=MESSAGE if target.tap is not None else None)

    def test_hostile_ids_never_reach_the_tracker(self, probe: Probe) -> None:
        headers = probe.target.harness.headers(consumer_id="test-consumer")
        mark = probe.mark()
        answers = {(m, t): raw_request(probe.target.harness.server.url, m, t, headers)
                   for m, t in hostile_requests(self.collection_id or "1", "1")}
        wrong = {k: v[0] for k, v in answers.items()
                 if v[0] != 400 or not isinstance(v[1], dict) or v[1].get("type_name") != "RequestValidationError"}
        expect(not wrong, f"hostile ids not refused with 400 RequestValidationError: {wrong}")
        expect(not probe.downstream(mark), f"a hostile id reached the tracker: {probe.downstream(mark)[:3]}")

    def test_undeclared_operations_answer_501(self, probe: Probe) -> None:
        undeclared = [(method, path, resource, operation) for path, methods in OPERATIONS.items()
                      for method, (resource, operation) in methods.items()
                      if not probe.caps.supports(resource, operation)]
        for method, template, resource, operation in undeclared:
            path = template.format(collection_id=probe.collection(), ticket_id="1", id="1")
            self._answers_501(probe, method, path, resource, operation)
        declared = sum(len(m) for m in OPERATIONS.values()) - len(undeclared)
        expect(declared >= 2, f"{probe.service_id} declares {declared} operations: at least collections and "
                              "tickets are expected")

    # -- helpers --------------------------------------------------------------------------------------
    def _answers_501(self, probe: Probe, method: str, path: str, resource: str, operation: str) -> None:
        mark = probe.mark()
        body = ({"body": "x"} if resource == "comments" else {"subject": "x"}) if method in ("POST", "PATCH") else None
        probe.refused(probe.client.request(method, path, json=body), 501, "ConnectorOperationUnsupportedError",
                      f"{resource}.{operation} (not declared)", "an operation the manifest does not declare must "
                      f"answer 501; declare `{probe.caps.where(resource, operation)}` to support it")
        expect(not probe.downstream(mark), f"the undeclared {resource}.{operation} made a downstream call")

    def _path_of(self, probe: Probe, resource: str, operation: str, record_id: str = "1") -> str:
        if resource == "collections":
            return BASE if operation == "all" else f"{BASE}/{record_id}"
        if resource == "comments":
            return f"{probe.tickets_path()}/1/comments"
        return probe.list_path(resource) + ("" if operation == "all" else f"/{record_id}")

    def _filled_list(self, probe: Probe, resource: str) -> str:
        """The path of a list holding enough records to page through (tickets and comments are made)."""
        if resource == "tickets":
            probe.ensure_tickets(probe.caps.limit("tickets", "middle") + 1)
            return probe.tickets_path()
        if resource != "comments":
            return probe.list_path(resource)
        if probe.caps.supports("comments", "add"):
            ticket_id, _ = probe.new_ticket()
            for n in range(3):
                probe.ok(probe.client.post(probe.list_path("comments", ticket_id), json={"body": f"{COMMENT} {n}"}),
                         "comments.add", 201)
        else:
            ticket_id = probe.ok(probe.client.get(probe.tickets_path(), params={"limit": 1}), "tickets.all")["data"][0]["id"]
        return probe.list_path("comments", ticket_id)


# -- filter checks -----------------------------------------------------------------------------------
def _status_filter(probe: Probe, path: str, whole: list[dict[str, Any]]) -> None:
    served = []
    for status in ("open", "in_progress", "closed"):
        response = probe.client.get(path, params={"filter[status]": status, "limit": MAX_LIMIT})
        if response.status_code == 400 and response.json().get("type_name") == "UnsupportedFiltersError":
            continue   # the tracker cannot ask for this one (e.g. two of its statuses, one at a time)
        served.append(status)
        got = {t["id"] for t in probe.whole(path, **{"filter[status]": status})}
        expected = {t["id"] for t in whole if t.get("status") == status}
        expect(got == expected, f"filter[status]={status}: {len(got)} tickets, but {len(expected)} of the list read "
               f"{status} (extra {sorted(got - expected)[:5]}, missing {sorted(expected - got)[:5]}): the filter's "
               "`values` must be exactly the tracker statuses the `status` field's `map` reads as this one")
    expect(served, "filter[status] is declared but refuses open, in_progress and closed alike")


def _since_filter(probe: Probe, path: str, whole: list[dict[str, Any]]) -> None:
    stamped = {t["id"]: stamp for t in whole if (stamp := timestamp(t.get("updated_at"))) is not None}
    expect(stamped, "filter[since] is declared but no listed ticket has an updated_at to check it with")
    middle = sorted(stamped.values())[len(stamped) // 2]
    since = next(t["updated_at"] for t in whole if stamped.get(t["id"]) == middle)   # as the tracker wrote it
    got = {t["id"] for t in probe.whole(path, **{"filter[since]": since})} & set(stamped)
    expected = {ticket_id for ticket_id, stamp in stamped.items() if stamp >= middle}
    expect(got == expected, f"filter[since]={since}: {len(got)} tickets, expected the {len(expected)} updated at or "
           f"after it (extra {sorted(got - expected)[:5]}, missing {sorted(expected - got)[:5]}): check the "
           "filter's `format` and that it compares the field mapped as updated_at, inclusively")


def _assignee_filter(probe: Probe, path: str, whole: list[dict[str, Any]]) -> None:
    assigned = [a["id"] for t in whole for a in (t.get("assignees") or []) if isinstance(a, dict) and a.get("id")]
    if not assigned:
        users = probe.whole(f"{BASE}/{probe.collection()}/users") if probe.caps.supports("users", "all") else []
        expect(users, "filter[assignee_id] is declared but no ticket is assigned and no user is listed to assign")
        _, answer = probe.new_ticket(assignees=[{"id": users[0]["id"]}])
        expect("assignees" not in _warned(answer), f"filter[assignee_id] is declared but assignees are not stored: "
                                                   f"{answer.get('meta')}")
        whole = probe.whole(path)
        assigned = [users[0]["id"]]
    user = assigned[0]
    got = {t["id"] for t in probe.whole(path, **{"filter[assignee_id]": user})}
    expected = {t["id"] for t in whole if user in [a.get("id") for a in t.get("assignees") or []]}
    expect(got == expected, f"filter[assignee_id]={user}: {len(got)} tickets, expected the {len(expected)} assigned "
           f"to {user} (extra {sorted(got - expected)[:5]}, missing {sorted(expected - got)[:5]})")


# -- small helpers -------------------------------------------------------------------------------------
def _warned(body: dict[str, Any]) -> set[str]:
    return {w.get("field") for w in (body.get("meta") or {}).get("warnings") or []}


def _comparable(value: Any) -> Any:
    if isinstance(value, list):
        return sorted(str(v.get("id")) if isinstance(v, dict) else str(v) for v in value)
    return value


def _sort_key(value: Any) -> Any:
    stamp = timestamp(value)
    return stamp if stamp is not None else str(value).casefold()


def _extra_keys(raw: Any, answer: Any) -> list[str]:
    """Keys of the first records of ``raw`` that ``answer`` lacks (where _raw and the answer differ)."""
    def first(value: Any) -> Any:
        while isinstance(value, dict) and len(value) == 1:
            value = next(iter(value.values()))
        if isinstance(value, dict) and isinstance(value.get("collection"), list):
            value = value["collection"]
        return value[0] if isinstance(value, list) and value else value
    a, b = first(raw), first(answer)
    return sorted(set(a) - set(b)) if isinstance(a, dict) and isinstance(b, dict) else []


def _dupes(ids: list[str]) -> list[str]:
    seen: set[str] = set()
    return [i for i in ids if i in seen or seen.add(i)][:5]  # type: ignore[func-returns-value]


def _missing(expected: list[str], got: list[str]) -> list[str]:
    have = set(got)
    return [i for i in expected if i not in have][:5]
