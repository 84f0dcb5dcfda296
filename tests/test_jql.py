"""JQL built safely (unigate.mapping.jql): values are always literals, never query structure."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unigate.kit import BackgroundServer
from unigate.mapping.jql import EMPTY, Clause, Function, JqlError, build_jql, jql_datetime, quote
from unigate_connectors.jira.simulator import API_EMAIL, API_TOKEN, create_app


def test_the_query_the_jira_connector_builds() -> None:
    since = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
    jql = build_jql([Clause("project", "=", "ENG"), Clause("status", "in", ["To Do", "In Progress"]),
                     Clause("updated", ">=", jql_datetime(since))], [("updated", "DESC"), ("key", "desc")])
    assert jql == ('project = "ENG" AND status in ("To Do", "In Progress") AND updated >= "2024-01-01 10:00" '
                   "ORDER BY updated DESC, key DESC")


def test_quotes_backslashes_and_control_characters_are_escaped() -> None:
    assert quote('a"b\\c\'d\ne\tf\x01') == '"a\\"b\\\\c\\\'d\\ne\\tf\\u0001"'


def test_a_value_that_looks_like_jql_stays_one_string() -> None:
    jql = build_jql([Clause("labels", "=", 'x" OR project != "Y') ])
    assert jql == 'labels = "x\\" OR project != \\"Y"'


def test_field_names_that_are_not_identifiers_or_are_reserved_are_quoted() -> None:
    jql = build_jql([Clause("Story Points", ">", 3), Clause("cf[10010]", "=", 2.5), Clause("order", "=", "x")])
    assert jql == '"Story Points" > "3" AND cf[10010] = "2.5" AND "order" = "x"'


def test_numbers_are_quoted_positional_digits() -> None:
    assert build_jql([Clause("votes", ">", 1e16), Clause("votes", "<", -2.0), Clause("x", "=", 1e-7)]) == (
        'votes > "10000000000000000" AND votes < "-2" AND x = "0.0000001"')


def test_empty_and_functions_only_through_their_own_types() -> None:
    jql = build_jql([Clause("assignee", "=", Function("currentUser")), Clause("duedate", "is not", EMPTY),
                     Clause("assignee", "in", [Function("membersOf", ('dev") OR ("x',))])])
    assert jql == ('assignee = currentUser() AND duedate is not EMPTY AND '
                   'assignee in (membersOf("dev\\") OR (\\"x"))')
    assert build_jql([Clause("assignee", "=", "EMPTY")]) == 'assignee = "EMPTY"'


def test_order_by_alone() -> None:
    assert build_jql([], [("created", "ASC")]) == "ORDER BY created ASC"


@pytest.mark.parametrize(("item", "message"), [
    (Clause("status", "in", []), "non-empty list"),
    (Clause("status", "in", "Done"), "non-empty list"),
    (Clause("status", "=", ["Done"]), "one value"),
    (Clause("status", "= x OR", "Done"), "not a JQL operator"),
    (Clause("duedate", "is", "x"), "takes EMPTY"),
    (Clause("votes", ">", True), "a string, a number"),
    (Clause("votes", ">", float("nan")), "not a JQL number"),
    (Clause("", "=", "x"), "field name cannot be empty"),
    (Clause("assignee", "=", Function("x() OR y")), "not a JQL function name"),
])
def test_what_cannot_be_written_is_a_jql_error(item: Clause, message: str) -> None:
    with pytest.raises(JqlError, match=message):
        build_jql([item])


def test_a_bad_sort_direction_is_a_jql_error() -> None:
    with pytest.raises(JqlError, match="sort direction"):
        build_jql([], [("updated", "DESC, key")])


def test_jql_datetime_is_in_the_searching_users_zone() -> None:
    moment = datetime(2024, 3, 1, 23, 30, 59, tzinfo=UTC)
    assert jql_datetime(moment) == "2024-03-01 23:30"
    assert jql_datetime(moment, timezone(timedelta(hours=2))) == "2024-03-02 01:30"
    assert jql_datetime(datetime(2024, 3, 1, 8, 5)) == "2024-03-01 08:05"


# -- the property: a tokenizer written from Atlassian's JQL lexical rules reads back what was built --

TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<op>!=|>=|<=|!~|=|>|<|~)
  | (?P<punct>[(),])
  | (?P<word>[A-Za-z0-9_.]+(?:\[\d+\])?)
""", re.X | re.S)
UNESCAPE = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "r": "\r", "t": "\t", " ": " "}


def tokenize(jql: str) -> list[tuple[str, Any]]:
    tokens, position = [], 0
    while position < len(jql):
        found = TOKEN.match(jql, position)
        assert found, f"cannot tokenize at {position}: {jql[position:]!r}"
        position = found.end()
        kind = found.lastgroup
        if kind == "string":
            tokens.append(("string", unquote(found.group()[1:-1])))
        elif kind == "word":
            tokens.append(("word", found.group()))
        elif kind != "space":
            tokens.append((kind, found.group()))
    return tokens


def unquote(body: str) -> str:
    out, index = [], 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out.append(char)
            index += 1
        elif body[index + 1] == "u":
            out.append(chr(int(body[index + 2:index + 6], 16)))
            index += 6
        else:
            out.append(UNESCAPE[body[index + 1]])
            index += 2
    return "".join(out)


class Reader:
    """Parses ``clause (AND clause)* [ORDER BY field dir (, field dir)*]`` back into structure."""

    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens, self.index = tokens, 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, kind: str | None = None, value: str | None = None) -> Any:
        token = self.peek()
        assert token is not None, "unexpected end of query"
        assert kind is None or token[0] == kind, f"expected {kind}, got {token}"
        assert value is None or str(token[1]).upper() == value, f"expected {value}, got {token}"
        self.index += 1
        return token[1]

    def keyword(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1].upper() == word

    def query(self) -> tuple[list[tuple[str, str, Any]], list[tuple[str, str]]]:
        clauses: list[tuple[str, str, Any]] = []
        while self.peek() is not None and not self.keyword("ORDER"):
            if clauses:
                self.take("word", "AND")
            clauses.append(self.clause())
        order: list[tuple[str, str]] = []
        if self.keyword("ORDER"):
            self.take("word", "ORDER")
            self.take("word", "BY")
            order.append((self.field(), self.take("word").upper()))
            while self.peek() == ("punct", ","):
                self.take("punct")
                order.append((self.field(), self.take("word").upper()))
        assert self.peek() is None, f"trailing tokens {self.tokens[self.index:]}"
        return clauses, order

    def field(self) -> str:
        kind, value = self.peek() or ("", "")
        assert kind in ("word", "string"), f"expected a field, got {kind}"
        self.index += 1
        return value

    def clause(self) -> tuple[str, str, Any]:
        name = self.field()
        if self.keyword("NOT") or self.keyword("IN") or self.keyword("IS"):
            operator = self.take("word").lower()
            if operator in ("not", "is") and self.keyword("IN" if operator == "not" else "NOT"):
                operator += " " + self.take("word").lower()
        else:
            operator = self.take("op")
        if operator in ("in", "not in"):
            self.take("punct", "(")
            values = [self.operand()]
            while self.peek() == ("punct", ","):
                self.take("punct")
                values.append(self.operand())
            self.take("punct", ")")
            return name, operator, values
        return name, operator, self.operand()

    def operand(self) -> Any:
        kind, value = self.peek() or ("", "")
        self.index += 1
        if kind == "string":
            return value
        assert kind == "word", f"expected an operand, got {kind} {value!r}"
        if value.upper() == "EMPTY":
            return EMPTY
        if self.peek() == ("punct", "("):
            self.take("punct")
            arguments = []
            while self.peek() != ("punct", ")"):
                if arguments:
                    self.take("punct", ",")
                arguments.append(self.take("string"))
            self.take("punct")
            return Function(value, tuple(arguments))
        raise AssertionError(f"an unquoted operand: {value!r}")


def same(read: Any, built: Any) -> bool:
    """Numbers are written as quoted digits: they read back as a string of the same number."""
    if isinstance(built, (int, float)):
        return isinstance(read, str) and Decimal(read) == Decimal(repr(built))
    return bool(read == built)


any_text = st.text(max_size=12)
names = st.one_of(st.sampled_from(["project", "status", "statusCategory", "assignee", "labels", "updated",
                                   "cf[10010]", "Story Points", "order", "AND"]), st.text(min_size=1, max_size=8))
scalars = st.one_of(any_text, st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                    st.builds(Function, st.sampled_from(["currentUser", "membersOf", "now"]),
                              st.lists(any_text, max_size=2).map(tuple)))
clauses = st.one_of(
    st.builds(Clause, names, st.sampled_from(["=", "!=", ">", ">=", "<", "<=", "~", "!~"]), scalars),
    st.builds(Clause, names, st.sampled_from(["in", "not in"]), st.lists(scalars, min_size=1, max_size=4)),
    st.builds(Clause, names, st.sampled_from(["is", "is not"]), st.just(EMPTY)))
orders = st.lists(st.tuples(names, st.sampled_from(["ASC", "DESC", "asc"])), max_size=3)


@settings(max_examples=500, deadline=None)
@given(st.lists(clauses, max_size=5), orders)
def test_no_value_or_field_name_can_change_the_query_structure(where: list[Clause], order: list[tuple[str, str]]) -> None:
    parsed, parsed_order = Reader(tokenize(build_jql(where, order))).query()
    assert [(name, op) for name, op, _ in parsed] == [(c.field, c.operator) for c in where]
    for (_, _, read), built in zip(parsed, where, strict=True):
        if isinstance(read, list):
            assert isinstance(built.value, list) and len(read) == len(built.value)
            assert all(same(r, b) for r, b in zip(read, built.value, strict=True))
        else:
            assert same(read, built.value)
    assert parsed_order == [(name, direction.upper()) for name, direction in order]


# -- what the builder writes, Jira (its simulator) reads with the meaning built ------------------

@pytest.fixture(scope="module")
def jira() -> Iterator[tuple[httpx.Client, Any]]:
    control = create_app(issue_count=40)
    auth = base64.b64encode(f"{API_EMAIL}:{API_TOKEN}".encode()).decode()
    with BackgroundServer(control) as server, httpx.Client(
            base_url=f"{server.url}/rest/api/3", headers={"Authorization": f"Basic {auth}"}, timeout=10) as client:
        yield client, control.app.state.simulator


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hostile=st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=3))
def test_jira_reads_escaped_values_as_values(jira: tuple[httpx.Client, Any], hostile: list[str]) -> None:
    client, state = jira
    jql = build_jql([Clause("project", "=", "ENG"), Clause("labels", "in", ["security", *hostile]),
                     Clause("assignee", "is not", EMPTY)],
                    [("key", "ASC")])
    response = client.get("/search/jql", params={"jql": jql, "maxResults": 100, "fields": "labels"})
    assert response.status_code == 200, (jql, response.text)
    found = [issue["key"] for issue in response.json()["issues"]]
    expected = sorted((i for i in state.issues.values() if i.project == "ENG" and i.fields["assignee"]
                       and {"security", *hostile} & set(i.fields["labels"])), key=lambda i: int(i.key[4:]))
    assert found == [i.key for i in expected]
