"""The types the unified model is written in, and the views everything else derives from it.

A :class:`UnifiedModel` is plain frozen data: resources (each with its object schema, its place
in the URL tree and its operations), the kinds of operation (method, on the list or on one item),
list filters and sort fields, the ``limit`` bounds and the sort directions. Its methods are the
derived views (names, paths, per-resource lookups); ``dataclasses.replace`` makes a modified copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

FilterKind = Literal["list", "date-time", "string"]


@dataclass(frozen=True)
class Field:
    """One property of an object schema."""

    name: str
    read_only: bool = False                    # accepted in a request body and ignored
    format: Literal["date-time"] | None = None  # a writable date-time is validated as ISO 8601
    enum: tuple[str, ...] = ()                 # the only values a request body may send
    items: ObjectSchema | None = None          # a list of these objects (assignees, tags)
    required: bool = False                     # an object in a request body must carry it (items only)

    @property
    def is_list(self) -> bool:
        return self.items is not None


@dataclass(frozen=True)
class ObjectSchema:
    """An object of the spec, named as its ``components.schemas`` entry."""

    name: str
    fields: tuple[Field, ...]
    custom_mappings: bool = True   # has the engine's ``custom_mappings`` property

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class Filter:
    """A ``filter[name]`` of a list: ``list`` takes several values (repeated or comma-separated),
    ``date-time`` one ISO 8601 timestamp, ``string`` one value."""

    name: str
    kind: FilterKind


@dataclass(frozen=True)
class Operation:
    name: str                        # a kind of operation: all, one, add, update, delete
    operation_id: str                # the spec's operationId
    summary: str                     # the spec's summary
    filters: tuple[Filter, ...] = ()
    sort: tuple[str, ...] = ()       # the fields ``sort[by]`` may name


@dataclass(frozen=True)
class OperationKind:
    """How an operation is reached: its HTTP method, on the list's path or on one item's."""

    name: str
    method: str
    on_item: bool


@dataclass(frozen=True)
class Resource:
    name: str                        # also its path segment
    schema: ObjectSchema
    parent: str | None               # the resource under whose item path this one's path lies
    id_param: str | None             # the path parameter naming one item (None: no item path)
    operations: tuple[Operation, ...]

    def operation(self, name: str) -> Operation | None:
        return next((o for o in self.operations if o.name == name), None)

    @property
    def writable(self) -> bool:
        """Has a request body (create or update): its schema carries ``pass_through`` too."""
        return any(o.name in ("add", "update") for o in self.operations)


@dataclass(frozen=True)
class Limit:
    default: int
    minimum: int
    maximum: int


@dataclass(frozen=True)
class UnifiedModel:
    prefix: str                               # the path every route starts with
    kinds: tuple[OperationKind, ...]
    resources: tuple[Resource, ...]
    limit: Limit
    sort_directions: tuple[str, ...]
    default_direction: str

    @cached_property
    def _by_name(self) -> dict[str, Resource]:
        return {r.name: r for r in self.resources}

    def resource(self, name: str) -> Resource:
        return self._by_name[name]

    def kind(self, name: str) -> OperationKind:
        return next(k for k in self.kinds if k.name == name)

    @property
    def resource_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.resources)

    @property
    def operation_names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.kinds)

    @cached_property
    def fields(self) -> dict[str, tuple[str, ...]]:
        """Each resource's field names, in the spec's order."""
        return {r.name: tuple(f.name for f in r.schema.fields) for r in self.resources}

    @cached_property
    def filters(self) -> dict[str, tuple[Filter, ...]]:
        """Each resource's list filters (resources without any are absent)."""
        return {r.name: op.filters for r in self.resources if (op := r.operation("all")) and op.filters}

    @cached_property
    def sorts(self) -> dict[str, tuple[str, ...]]:
        """Each resource's ``sort[by]`` fields (resources whose lists cannot be sorted are absent)."""
        return {r.name: op.sort for r in self.resources if (op := r.operation("all")) and op.sort}

    @property
    def filter_names(self) -> tuple[str, ...]:
        """Every filter name of any list, each once, in model order."""
        return tuple(dict.fromkeys(f.name for filters in self.filters.values() for f in filters))

    @property
    def sort_names(self) -> tuple[str, ...]:
        """Every sort field of any list, each once, in model order."""
        return tuple(dict.fromkeys(name for fields in self.sorts.values() for name in fields))

    def path(self, resource: str, *, item: bool = False) -> str:
        """``path("comments", item=True)`` ->
        ``/issue-tracking/collections/{collection_id}/tickets/{ticket_id}/comments/{id}``."""
        r = self.resource(resource)
        base = self.path(r.parent, item=True) if r.parent else self.prefix
        path = f"{base}/{r.name}"
        if item:
            if r.id_param is None:
                raise ValueError(f"{resource} has no item path")
            path += f"/{{{r.id_param}}}"
        return path

    def routes(self) -> dict[str, dict[str, tuple[str, str]]]:
        """path -> method -> (resource, operation), for every operation of every resource."""
        table: dict[str, dict[str, tuple[str, str]]] = {}
        for r in self.resources:
            for op in r.operations:
                kind = self.kind(op.name)
                table.setdefault(self.path(r.name, item=kind.on_item), {})[kind.method] = (r.name, op.name)
        return table


def literal(names: tuple[str, ...]) -> Any:
    """``Literal[names]`` built at run time, for pydantic (a type checker sees ``str``)."""
    return Literal[names]
