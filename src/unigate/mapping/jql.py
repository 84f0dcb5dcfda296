"""Jira Query Language built from structured clauses, every value escaped.

``build_jql([Clause("project", "=", "ENG"), Clause("status", "in", ["To Do", "Done"]),
Clause("updated", ">=", jql_datetime(moment))], [("updated", "DESC"), ("key", "DESC")])`` gives
``project = "ENG" AND status in ("To Do", "Done") AND updated >= "2024-01-01 10:00" ORDER BY
updated DESC, key DESC``.

Values never reach the query unquoted: a string is always a JQL quoted string with ``\\``,
``"``, ``'`` and control characters escaped (Atlassian's JQL grammar: quoted strings take the
escapes ``\\"`` ``\\'`` ``\\\\`` ``\\n`` ``\\r`` ``\\t`` and ``\\uXXXX``), so no value can add a
clause, close a parenthesis or start ``ORDER BY``. Numbers are quoted digits (JQL operands are
strings; a number field compares ``"5"`` as the number 5); the keyword
``EMPTY`` and functions such as ``currentUser()`` only through :data:`EMPTY` and :class:`Function`,
never from a string. Field names that are not plain identifiers (``"Story Points"``) are quoted the
same way; ``cf[10010]`` is written as is. Operators and sort directions come from fixed lists.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal

OPERATORS = frozenset({"=", "!=", ">", ">=", "<", "<=", "~", "!~", "in", "not in", "is", "is not"})
LIST_OPERATORS = frozenset({"in", "not in"})
EMPTY_OPERATORS = frozenset({"is", "is not"})
DIRECTIONS = frozenset({"ASC", "DESC"})
PLAIN_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]*|cf\[\d+\]")
# words JQL reserves: a field named like one must be quoted (Atlassian, "JQL reserved words")
RESERVED = frozenset({"and", "or", "not", "empty", "null", "order", "by", "in", "is", "asc", "desc",
                      "was", "changed", "during", "before", "after", "on", "from", "to"})
FUNCTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
ESCAPES = {'"': '\\"', "'": "\\'", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class JqlError(ValueError):
    """A clause cannot be written as JQL (unknown operator, empty list, wrong value type)."""


@dataclass(frozen=True)
class Function:
    """A JQL function call such as ``currentUser()`` or ``membersOf("jira-devs")``."""

    name: str
    arguments: tuple[str, ...] = ()


class _Empty:
    def __repr__(self) -> str:
        return "EMPTY"


EMPTY = _Empty()
Value = str | int | float | Function | _Empty


@dataclass(frozen=True)
class Clause:
    """``field operator value``; ``value`` is a sequence for ``in``/``not in``."""

    field: str
    operator: str
    value: Value | Sequence[Value]


def quote(value: str) -> str:
    """A JQL quoted string whose content reads back as exactly ``value``."""
    return '"' + "".join(_escape(char) for char in value) + '"'


def _escape(char: str) -> str:
    if char in ESCAPES:
        return ESCAPES[char]
    if ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 or char in "\u2028\u2029":
        return f"\\u{ord(char):04x}"
    return char


def field_name(name: str) -> str:
    """A field as JQL writes it: plain identifiers and ``cf[N]`` as is, anything else quoted."""
    if not name:
        raise JqlError("a JQL field name cannot be empty")
    if PLAIN_FIELD.fullmatch(name) and name.lower() not in RESERVED:
        return name
    return quote(name)


def literal(value: Value) -> str:
    """One operand: a quoted string, a number, ``EMPTY`` or a function call."""
    if isinstance(value, _Empty):
        return "EMPTY"
    if isinstance(value, Function):
        if not FUNCTION_NAME.fullmatch(value.name):
            raise JqlError(f"not a JQL function name: {value.name!r}")
        return f"{value.name}({', '.join(quote(arg) for arg in value.arguments)})"
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise JqlError(f"a JQL value is a string, a number, EMPTY or a function, not {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise JqlError(f"not a JQL number: {value!r}")
    return quote(value if isinstance(value, str) else number_text(value))


def number_text(value: int | float) -> str:
    """Positional digits (``1e+16`` has a reserved ``+``); JQL compares quoted numbers as numbers."""
    text = format(Decimal(repr(value)), "f")
    return text[:-2] if text.endswith(".0") else text


def clause(item: Clause) -> str:
    operator = item.operator.lower() if item.operator.lower() in LIST_OPERATORS | EMPTY_OPERATORS \
        else item.operator
    if operator not in OPERATORS:
        raise JqlError(f"not a JQL operator: {item.operator!r}")
    left = field_name(item.field)
    if operator in LIST_OPERATORS:
        if isinstance(item.value, (str, bytes)) or not isinstance(item.value, Sequence) or not item.value:
            raise JqlError(f"{operator!r} takes a non-empty list of values")
        return f"{left} {operator} ({', '.join(literal(v) for v in item.value)})"
    if operator in EMPTY_OPERATORS and not isinstance(item.value, _Empty):
        raise JqlError(f"{operator!r} takes EMPTY")
    if not isinstance(item.value, (str, int, float, Function, _Empty)):
        raise JqlError(f"{operator!r} takes one value, not {item.value!r}")
    return f"{left} {operator} {literal(item.value)}"


def build_jql(where: Sequence[Clause], order_by: Sequence[tuple[str, str]] = ()) -> str:
    """The clauses joined with AND, then ``ORDER BY field DIRECTION, ...``."""
    query = " AND ".join(clause(item) for item in where)
    if order_by:
        for _, direction in order_by:
            if direction.upper() not in DIRECTIONS:
                raise JqlError(f"not a sort direction: {direction!r}")
        keys = ", ".join(f"{field_name(name)} {direction.upper()}" for name, direction in order_by)
        query = f"{query} ORDER BY {keys}" if query else f"ORDER BY {keys}"
    return query


def jql_datetime(moment: datetime, zone: tzinfo = UTC) -> str:
    """``yyyy-MM-dd HH:mm`` for date comparisons. Jira reads it in the *searching user's* time
    zone: pass that zone (``/myself`` ``timeZone``) so the instant is the one meant; minutes are
    JQL's finest unit, so seconds are dropped (round ``>=`` bounds down before calling)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
