"""Value transforms between downstream and unified forms, each a (read, write) pair.

A mapping file names a transform per field (``transform: datetime``); options go beside it
(``transform: {name: assignees, id: $.id, username: $.login}``). Read functions take the
downstream value and return the unified one; write functions do the reverse. Both receive
``None`` for null and must not raise on it. A write function raises ``TransformError`` on a
value it cannot convert; the engine turns it into a RequestValidationError naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from unigate.components import COMPONENTS
from unigate.mapping.paths import MISSING, CompiledPath, compile_path

Reader = Callable[[Any], Any]
Writer = Callable[[Any], Any]


class TransformError(ValueError):
    """A value could not be converted; the message says what was expected."""


@dataclass(frozen=True)
class Transform:
    read: Reader
    write: Writer
    item: Reader | None = None  # list transforms: reads one element (used by generated readers)
    single: bool = False        # list transforms: the tracker stores one item (only the first is sent)
    # (unified value, written value) -> how the tracker stores it differently (for meta.warnings), or None
    altered: Callable[[Any, Any], str | None] | None = None


def _identity(value: Any) -> Any:
    return value


# -- timestamps --------------------------------------------------------------------------------
def _format_utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(value: Any) -> datetime:
    """Any common timestamp form to an aware datetime; raises TransformError otherwise.

    Accepts ISO 8601 (``Z``, offsets, fractions, date only, space separator), Unix epoch
    seconds or milliseconds (numbers or digit strings), and RFC 2822 (e-mail/HTTP dates).
    """
    if isinstance(value, bool):
        raise TransformError(f"expected a timestamp, got {value!r}")
    digits = isinstance(value, str) and value.strip().lstrip("-")
    if isinstance(value, (int, float)) or (digits and digits.isascii() and digits.isdigit()):  # not '³' or '①'
        try:
            number = float(value)
            if abs(number) > 1e11:  # milliseconds
                number /= 1000
            return datetime.fromtimestamp(number, tz=UTC)
        except (ValueError, OverflowError, OSError):  # beyond year 9999, inf, nan
            raise TransformError(f"epoch timestamp out of range: {str(value)[:40]}") from None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str) or not value.strip():
        raise TransformError(f"expected a timestamp, got {value!r}")
    text = value.strip()
    try:
        iso = text[:-1] + "+00:00" if text[-1] in "zZ" else text
        moment = datetime.fromisoformat(iso)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise TransformError(f"expected an ISO 8601, RFC 2822 or epoch timestamp, got {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_datetime(value: Any) -> str | None:
    """Downstream timestamp to ISO 8601 UTC with milliseconds and ``Z``."""
    if value is None or value == "":
        return None
    if type(value) is str and len(value) in (20, 24) and value[-1] == "Z" and value[10] == "T" and value[4] == "-":
        # already canonical (the common case): skip parsing
        return value if len(value) == 24 else value[:19] + ".000Z"
    try:
        return _format_utc(parse_timestamp(value))
    except (TransformError, ValueError, OverflowError, OSError):
        return value  # unparseable: pass the original through rather than lose it


def _datetime_altered(unified: Any, written: Any) -> str | None:
    """The written timestamp, read back, is another instant (a date only, seconds, ...): say how it is stored."""
    stored = read_datetime(written)
    try:
        same = parse_timestamp(stored) == parse_timestamp(unified)
    except TransformError:
        return None
    return None if same else f"stores it as {stored}"


def datetime_writer(fmt: str) -> Writer:
    def write(value: Any) -> Any:
        if value is None:
            return None
        moment = parse_timestamp(value).astimezone(UTC)
        if fmt == "iso":
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        if fmt == "iso_ms":
            return _format_utc(moment)
        if fmt == "date":
            return moment.date().isoformat()
        if fmt == "epoch":
            return int(moment.timestamp())
        if fmt == "epoch_ms":
            return int(moment.timestamp() * 1000)
        if "%" in fmt:
            return moment.strftime(fmt)
        raise TransformError(f"unknown timestamp format {fmt!r}")

    return write


# -- ids and scalars -----------------------------------------------------------------------------
def read_string(value: Any) -> Any:
    if value is None or type(value) is str:
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_integer(value: Any) -> Any:
    if value is None or (type(value) is int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise TransformError(f"expected an integer id, got {value!r}") from None


def write_id(value: Any) -> Any:
    """Unified ids are strings; send digit strings as integers, others unchanged."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def read_boolean(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y", "on"}
    return bool(value)


# -- lists of objects: assignees and tags ------------------------------------------------------------
SENT_KEYS = {"id": "id", "name": "name", "id_or_name": "id or name"}


def _object_list(key: str, second: str, options: dict[str, Any]) -> Transform:
    """Read scalar/list/objects into ``[{key: str, second: ...}]``; write back.

    Options: ``id`` and ``username`` (assignees) / ``label`` (tags: the name; ``name`` is the
    transform's own key in a mapping file) sub-paths into downstream objects; ``write``:
    ``single`` (send the first id as a scalar), ``list`` (list of ids) or ``objects``
    (list of ``{id-subpath: id}``); ``id_type: integer`` to send ids as integers; ``by``: which
    unified key is sent: ``id`` (the default), ``name``, or ``id_or_name`` (the id, else the name:
    trackers that take tags by name). An item without the key sent is refused.
    """
    id_path = compile_path(options.get("id", "$.id"))
    second_option = "label" if second == "name" else second
    second_path = compile_path(options[second_option]) if second_option in options else None
    write_style = options.get("write", "list")
    one = _object_reader(key, second, id_path, second_path)
    return Transform(_list_reader(one), _object_list_writer(id_path, write_style, options), one,
                     single=write_style == "single")


def _object_reader(key: str, second: str, id_path: CompiledPath,
                   second_path: CompiledPath | None) -> Callable[[Any], dict[str, Any] | None]:
    """Reads one downstream item: an object (its id and ``second`` at their sub-paths) or a scalar
    (the id; for tags also the name) into ``{key: id string, second: ...}``; None stays None."""

    def one(item: Any) -> dict[str, Any] | None:
        if item is None:
            return None
        if isinstance(item, dict):
            ident = id_path.get(item)
            label = second_path.get(item) if second_path else MISSING
            return {key: read_string(None if ident is MISSING else ident),
                    second: None if label is MISSING else label}
        return {key: read_string(item), second: item if second == "name" else None}

    return one


def _list_reader(one: Callable[[Any], dict[str, Any] | None]) -> Reader:
    """Reads a list (or a single item, or null) with ``one``, leaving out null items."""

    def read(value: Any) -> list[dict[str, Any]]:
        if value is None:
            return []
        if type(value) is not list:
            value = [value]
        return [o for o in map(one, value) if o is not None]

    return read


def _object_list_writer(id_path: CompiledPath, write_style: str, options: dict[str, Any]) -> Writer:
    """Writes unified objects as the tracker takes them: ``single`` (one scalar), ``list`` (of ids)
    or ``objects`` (``{id-subpath: id}`` each); ids coerced to integers with ``id_type: integer``."""
    sent = _item_sender(options.get("by", "id"))
    coerce = write_integer if options.get("id_type") == "integer" else _identity

    def write(value: Any) -> Any:
        if value is None:
            return None if write_style == "single" else []
        if not isinstance(value, list):
            raise TransformError("expected a list of objects")
        idents = [coerce(sent(i, item)) for i, item in enumerate(value)]
        if write_style == "single":
            if len(idents) > 1:
                raise TransformError("this tracker takes a single value here; send at most one item")
            return idents[0] if idents else None
        if write_style == "objects":
            return [id_path.set({}, i) for i in idents]
        return idents

    return write


def _item_sender(sent_key: str) -> Callable[[int, Any], Any]:
    """What is sent of the item at an index: its ``id``, ``name`` or ``id_or_name`` (a scalar as
    is); an item without it is refused. KeyError for another ``by``."""
    if sent_key not in SENT_KEYS:
        raise KeyError(f"by: {sent_key!r}; one of {', '.join(SENT_KEYS)}")

    def sent(index: int, item: Any) -> Any:
        if not isinstance(item, dict):
            return item
        value = item.get("id")
        if sent_key == "name" or (sent_key == "id_or_name" and value is None):
            value = item.get("name")
        if value is None:
            raise TransformError(f"[{index}] has no {SENT_KEYS[sent_key]}, which this tracker needs "
                                 f"(it takes them by {SENT_KEYS[sent_key]})")
        return value

    return sent


# -- registry ----------------------------------------------------------------------------------------
SIMPLE: dict[str, Transform] = {
    "none": Transform(_identity, _identity),
    "string": Transform(read_string, _identity),
    "id": Transform(read_string, write_id),
    "integer": Transform(_identity, write_integer),
    "boolean": Transform(read_boolean, _identity),
    "datetime": Transform(read_datetime, datetime_writer("iso"), altered=_datetime_altered),
}


class TransformFactory(Protocol):
    """A ``transform`` component: builds the field's :class:`Transform` from the options written
    beside its name (``transform: {name: tags, by: id_or_name}`` -> ``{"by": "id_or_name"}``; ``{}``
    for ``transform: <name>``). Raise ``KeyError``/``TypeError``/``ValueError`` on bad options: the
    manifest then fails to load naming the field."""

    def __call__(self, options: dict[str, Any]) -> Transform: ...


def _first_of(options: dict[str, Any]) -> Transform:
    """Read: the first non-empty value among ``paths`` (JSONPaths into the value the field's
    ``read`` selects, usually ``$``, the record): a user's real name, else their login."""
    paths = [compile_path(p) for p in options["paths"]]

    def read(value: Any) -> Any:
        found = (p.get(value) for p in paths)
        return next((v for v in found if v is not MISSING and v not in (None, "")), None)

    return Transform(read, _identity)


def _join(options: dict[str, Any]) -> Transform:
    """Read: the non-empty values among ``paths`` joined with ``separator`` (default a space), or
    null when none: a user's first and last name."""
    paths = [compile_path(p) for p in options["paths"]]
    separator = str(options.get("separator", " "))

    def read(value: Any) -> Any:
        found = [str(v) for v in (p.get(value) for p in paths) if v is not MISSING and v not in (None, "")]
        return separator.join(found) or None

    return Transform(read, _identity)


def _markdown(options: dict[str, Any]) -> Transform:
    """Rich text stored as Markdown (Linear): read as the canonical HTML, HTML written as CommonMark
    (text that is not HTML is Markdown already: kept). unigate.mapping.markdown, imported on first use."""
    def read(value: Any) -> Any:
        from unigate.mapping.markdown import markdown_to_html

        return markdown_to_html(value) if isinstance(value, str) else value

    def write(value: Any) -> Any:
        from unigate.mapping.markdown import html_to_markdown

        if value is not None and not isinstance(value, str):
            raise TransformError("expected HTML or Markdown text")
        return None if value is None else html_to_markdown(value)

    return Transform(read, write)


def _fixed(transform: Transform) -> TransformFactory:
    return lambda options: transform


BUILT_IN: dict[str, TransformFactory] = {
    **{name: _fixed(t) for name, t in SIMPLE.items()},
    "datetime": lambda o: Transform(read_datetime, datetime_writer(o.get("format", "iso")), altered=_datetime_altered),
    "date": lambda o: Transform(read_datetime, datetime_writer("date"), altered=_datetime_altered),
    "assignees": lambda o: _object_list("id", "username", {"write": "single", **o}),
    "tags": lambda o: _object_list("id", "name", o),
    "first_of": _first_of,
    "join": _join,
    "markdown": _markdown,
}
for _name, _factory in BUILT_IN.items():
    COMPONENTS.register("transform", _name, _factory)


def build_transform(name: str, options: dict[str, Any]) -> Transform:
    """The transform component called ``name`` configured with ``options``; KeyError if unknown."""
    if not COMPONENTS.has("transform", name):
        raise KeyError(name)
    factory: TransformFactory = COMPONENTS.get("transform", name)
    return factory(options)


def transform_names() -> list[str]:
    """The transforms a manifest may name: the built-in ones and those plugins registered."""
    return COMPONENTS.names("transform")


TRANSFORM_NAMES = sorted(BUILT_IN)
