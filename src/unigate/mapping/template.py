"""``{name}`` templates in mapping files: URLs, paths, query values and body constants.

Variables: ``settings.<key>``, ``credentials.<key>`` (secrets: redacted in logs and ``_raw``),
and the request's path parameters ``collection_id``, ``ticket_id``, ``id``. A filter turns the
value's type: ``{collection_id|int}``; ``{settings.base_url|origin}`` keeps a URL's
``scheme://host[:port]`` (for trackers that check ``Origin``); ``{collection_id|pair}`` reads an id
made of two path segments joined by ``~`` (GitHub's ``owner~repo``) as ``owner/repo``, each segment
escaped in a path, anything but two non-empty segments naming nothing (404). A template that is exactly one variable renders to that
variable's value (so body constants keep their type); otherwise to a string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit

from unigate.errors import EntityNotFoundError

_VAR = re.compile(r"\{([a-z_][a-z0-9_.]*)(?:\|(int|str|origin|pair))?\}")
PATH_VARIABLES = frozenset({"collection_id", "ticket_id", "id"})


class TemplateError(ValueError):
    """A template names a variable the context lacks; the message names it."""


@dataclass(frozen=True)
class Template:
    source: str
    parts: tuple[str | tuple[str, str | None], ...]

    @property
    def variables(self) -> list[str]:
        return [p[0] for p in self.parts if isinstance(p, tuple)]

    def render(self, context: dict[str, Any], *, quote_values: bool = False) -> Any:
        if len(self.parts) == 1 and isinstance(self.parts[0], tuple):
            return _value(context, *self.parts[0])
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = str(_value(context, *part))
            if part[1] == "pair":
                out.append("/".join(quote_segment(s) if quote_values else s for s in value.split("~")))
                continue
            out.append(quote_segment(value) if quote_values else value)
        return "".join(out)


def quote_segment(value: str) -> str:
    """``value`` as one path segment that no client or server can normalise away or split.

    Every reserved character is escaped, and a segment that is only dots is escaped as well:
    ``..`` would otherwise be removed with the segment before it (RFC 3986 dot segments).
    """
    quoted = quote(value, safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


def _value(context: dict[str, Any], name: str, kind: str | None) -> Any:
    """The variable's value, converted. A path parameter the tracker's ids cannot be (``{collection_id|int}``
    given ``apideck-io``) names nothing that exists: ``EntityNotFoundError``, before any call."""
    try:
        return _convert(_lookup(context, name, kind), kind)
    except TemplateError as exc:
        if name in PATH_VARIABLES:
            shape = "two segments joined by ~" if kind == "pair" else "integers"
            raise EntityNotFoundError("Not found", f"no record has the {name} {str(context[name])[:80]!r}: "
                                                   f"this tracker's ids are {shape}") from None
        raise exc from None


def _lookup(context: dict[str, Any], name: str, _filter: str | None) -> Any:
    if name in context:
        return context[name]
    head, _, tail = name.partition(".")
    group = context.get(head)
    if isinstance(group, dict) and tail in group and group[tail] is not None:
        return group[tail]
    raise TemplateError(f"template variable {{{name}}} has no value for this connection or request")


def _convert(value: Any, kind: str | None) -> Any:
    if kind == "int":
        try:
            return int(value)
        except (TypeError, ValueError):
            raise TemplateError(f"expected an integer, got {value!r}") from None
    if kind == "str":
        return str(value)
    if kind == "pair":
        segments = str(value).split("~")
        if len(segments) != 2 or not all(segments):
            raise TemplateError(f"expected two segments joined by ~, got {value!r}")
        return str(value)
    if kind == "origin":
        parts = urlsplit(str(value))
        if not parts.scheme or not parts.netloc:
            raise TemplateError(f"expected an absolute URL, got {value!r}")
        return f"{parts.scheme}://{parts.netloc}"
    return value


@lru_cache(maxsize=4096)
def compile_template(source: str) -> Template:
    parts: list[str | tuple[str, str | None]] = []
    pos = 0
    for m in _VAR.finditer(source):
        if m.start() > pos:
            parts.append(source[pos:m.start()])
        parts.append((m.group(1), m.group(2)))
        pos = m.end()
    if pos < len(source):
        parts.append(source[pos:])
    return Template(source, tuple(parts))


def render_settings(value: Any, settings: dict[str, Any]) -> Any:
    """``value`` (a component's options: strings, lists, dicts) with the strings naming a connection
    setting (``{settings.in_progress_label}``) rendered; every other string as it is (an option may
    be a template the component renders later, or hold braces of its own)."""
    if isinstance(value, str):
        return compile_template(value).render({"settings": settings}) if "{settings." in value else value
    if isinstance(value, list):
        return [render_settings(v, settings) for v in value]
    if isinstance(value, dict):
        return {k: render_settings(v, settings) for k, v in value.items()}
    return value


def render_value(value: Any, context: dict[str, Any]) -> Any:
    """Render templates inside a constant (strings, lists, dicts) recursively."""
    if isinstance(value, str):
        return compile_template(value).render(context) if "{" in value else value
    if isinstance(value, list):
        return [render_value(v, context) for v in value]
    if isinstance(value, dict):
        return {k: render_value(v, context) for k, v in value.items()}
    return value
