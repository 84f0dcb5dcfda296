"""The schema of a mapping file (``mappings/<connector>.yaml``), validated on load.

A mapping file says everything a conventional REST tracker needs: how to reach it (base URL,
auth headers, error body), and per unified resource the downstream endpoints of each operation
(method, path, query, body constants, record selectors, pagination, filters, sort) and the
fields in both directions. The reference with an example is docs/mapping-files.md.

``load_mapping_file`` raises :class:`MappingFileError` naming the file, the key path and what
is wrong, for both schema errors and semantic ones (bad JSONPath, unknown transform,
ambiguous value map, unknown template variable).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# libyaml's safe loader parses the mapping files about 10x faster than the pure-Python one
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

RESOURCES = ("collections", "tickets", "comments", "users", "tags")
OPERATIONS = ("all", "one", "add", "update", "delete")
UNIFIED_FIELDS: dict[str, tuple[str, ...]] = {
    "tickets": ("id", "parent_id", "collection_id", "type", "subject", "description", "status", "priority",
                "assignees", "updated_at", "created_at", "created_by", "due_date", "completed_at", "tags"),
    "comments": ("id", "body", "created_by", "updated_at", "created_at"),
    "collections": ("id", "parent_id", "type", "name", "description", "updated_at", "created_at"),
    "users": ("id", "name", "first_name", "last_name", "email", "photo_url", "updated_at", "created_at"),
    "tags": ("id", "name"),
}


CLEAR_UNSUPPORTED = "unsupported"   # FieldSpec.clear: the tracker cannot clear the field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SettingSpec(_Strict):
    description: str = ""
    required: bool = False
    default: Any = None
    secret: bool = False


class ConnectionSpec(_Strict):
    settings: dict[str, SettingSpec] = Field(default_factory=dict)
    credentials: dict[str, SettingSpec] = Field(default_factory=dict)


class ErrorSpec(_Strict):
    """JSONPaths into a downstream error body; each may match a list (one entry per error)."""

    message: list[str] = Field(default_factory=lambda: ["$.message", "$.error.message", "$.error"])
    code: list[str] = Field(default_factory=lambda: ["$.code", "$.error.code"])
    detail: list[str] = Field(default_factory=lambda: ["$.detail", "$.details", "$.error.details"])

    @field_validator("message", "code", "detail", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class BasicAuthSpec(_Strict):
    """HTTP Basic auth from templates: sent as ``Authorization: Basic base64(username:password)``."""

    username: str
    password: str


class HttpSpec(_Strict):
    base_url: str
    headers: dict[str, str] = Field(default_factory=dict)
    basic_auth: BasicAuthSpec | None = None
    query: dict[str, str] = Field(default_factory=dict)
    timeout: float = 15.0
    errors: ErrorSpec = Field(default_factory=ErrorSpec)


class PaginationSpec(_Strict):
    style: Literal["offset", "page", "cursor", "none"]
    limit_param: str | None = "limit"
    offset_param: str = "offset"
    page_param: str = "page"
    first_page: int = 1
    max_limit: int = 100
    total: str | None = None          # JSONPath to the total count
    page_count: str | None = None     # JSONPath to the number of pages (page style)
    next_token: str | None = None     # JSONPath to the next-page token (cursor style)
    token_param: str = "cursor"


class FilterSpec(_Strict):
    param: str
    values: dict[str, list[Any] | None] | None = None  # unified value -> downstream values (status)
    strict: bool = False   # status values not in `values` -> UnsupportedFiltersError (else sent as given)
    multiple: Literal["join", "repeat", "single"] = "join"
    separator: str = ","
    format: Literal["iso", "iso_ms", "date", "epoch", "epoch_ms"] | None = None  # timestamps (since)


class SortSpec(_Strict):
    param: str | None = None                     # absent: the tracker cannot be asked to sort
    fields: dict[str, str] = Field(default_factory=dict)  # unified sort field -> downstream value
    direction_param: str | None = None           # absent: direction by prefix ('-' for desc)
    directions: dict[str, str] = Field(default_factory=lambda: {"asc": "asc", "desc": "desc"})
    natural: list[str] = Field(default_factory=list)  # orders the list already comes in: "created_at desc"
    default: str | None = None   # what `sort[direction]` alone sorts by; else the first natural order's field

    @model_validator(mode="after")
    def _param_for_fields(self) -> SortSpec:
        if self.fields and self.param is None:
            raise ValueError("sort `fields` need a `param` to send them in")
        for order in self.natural:
            by, _, direction = order.partition(" ")
            if by not in ("name", "created_at", "updated_at") or direction not in ("asc", "desc"):
                raise ValueError(f"natural order {order!r} must be '<created_at|updated_at|name> <asc|desc>'")
        if self.default is not None and self.default not in self.fields \
                and not any(o.partition(" ")[0] == self.default for o in self.natural):
            raise ValueError(f"default sort field {self.default!r} is neither in `fields` nor a `natural` order")
        return self

    @property
    def default_field(self) -> str | None:
        """The field a direction alone (``sort[direction]`` without ``sort[by]``) sorts by."""
        return self.default or (self.natural[0].partition(" ")[0] if self.natural else None)


class SplitCallSpec(_Strict):
    """Part of an update sent to its own endpoint (e.g. a status sub-resource)."""

    call_id: str
    fields: list[str]                 # downstream body keys moved to this call
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "PATCH"
    path: str


class MatchSpec(_Strict):
    """Pick one element of the selected list: the one whose ``path`` equals ``value`` (a template)."""

    path: str
    value: str


class OperationSpec(_Strict):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    path: str | None = None
    call_id: str | None = None                       # default: "<resource>_<operation>"
    query: dict[str, Any] = Field(default_factory=dict)
    body: dict[str, Any] = Field(default_factory=dict)   # constants/templates at JSONPaths
    wrap: str | None = None                          # mapped fields go under this path ($.issue)
    records: str | None = None                       # list selector (all)
    record: str | None = None                        # record selector (one/add/update)
    match: MatchSpec | None = None                   # one: pick from the list `record` selects
    omit: list[str] = Field(default_factory=list)    # unified fields these records lack (summaries)
    id: str | None = None                            # id selector in the add response
    pagination: PaginationSpec | None = None
    filters: dict[Literal["status", "since", "assignee_id"], FilterSpec] = Field(default_factory=dict)
    sort: SortSpec | None = None
    split: list[SplitCallSpec] = Field(default_factory=list)
    static: list[dict[str, Any]] | None = None       # records served without a call
    empty_body: bool = False                         # send no body (e.g. DELETE)
    writes: list[str] | None = None                  # add/update: the only unified fields written (others: warnings)
    # the ticket's collection, a JSONPath into the ticket as tickets.one selects it: must equal
    # {collection_id} (tickets one/update/delete, comments: read first where not already read), else 404
    collection_check: str | None = None
    # all: an empty page / add: a refused create -> read collections.one; its 404 is the answer
    collection_exists: bool = False

    @model_validator(mode="after")
    def _path_or_static(self) -> OperationSpec:
        if self.static is None and self.path is None:
            raise ValueError("an operation needs a `path` (or `static` records)")
        if self.wrap is not None and self.split:
            raise ValueError("`split` moves top-level body keys: it cannot be combined with `wrap`")
        return self


class FieldSpec(_Strict):
    """One unified field. ``path`` both ways, or ``read``/``write`` separately."""

    path: str | None = None
    read: str | None = None
    write: str | None = None
    map: dict[str | int, Any] | None = None    # downstream value -> unified value
    write_map: dict[str, Any] | None = None    # unified value -> downstream value
    unmapped: Literal["pass", "null"] = "pass"
    write_unmapped: Literal["pass", "drop"] = "pass"   # a value outside write_map: sent as given, or dropped (warned)
    transform: str | dict[str, Any] | None = None
    default: Any = None                        # read: when the path matches nothing or null
    value: str | None = None                   # read: a template ({collection_id}, {settings.x})
    # write: what a null (or [] for assignees/tags) is sent as on update: any value (null, "", [], "none"),
    # or `unsupported` (refused with a 400 naming the field). Not declared: the transform's empty value.
    clear: Any = None

    @property
    def clear_declared(self) -> bool:
        return "clear" in self.model_fields_set

    @property
    def clear_unsupported(self) -> bool:
        return self.clear_declared and self.clear == CLEAR_UNSUPPORTED

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"path": data} if isinstance(data, str) else data

    @property
    def read_path(self) -> str | None:
        return self.read or self.path

    @property
    def write_path(self) -> str | None:
        return self.write or self.path


class ResourceSpec(_Strict):
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    # why a unified field is not stored (a write of it is dropped): the message of its meta.warnings entry
    notes: dict[str, str] = Field(default_factory=dict)
    operations: dict[Literal["all", "one", "add", "update", "delete"], OperationSpec] = Field(default_factory=dict)


class MappingFile(_Strict):
    service_id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    name: str
    website: str | None = None
    connection: ConnectionSpec = Field(default_factory=ConnectionSpec)
    http: HttpSpec
    resources: dict[Literal["collections", "tickets", "comments", "users", "tags"], ResourceSpec]


class MappingFileError(ValueError):
    """A mapping file is invalid. ``problems`` holds (key path, message) pairs."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {source}: {where or '<root>'}: {what}" for where, what in problems)
        super().__init__(f"invalid mapping file {source}:\n{lines}")


def parse_mapping(data: Any, source: str) -> MappingFile:
    try:
        spec = MappingFile.model_validate(data)
    except ValidationError as exc:
        raise MappingFileError(source, [(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()]) from None
    from unigate.mapping.checks import semantic_problems  # late: checks compiles paths/transforms

    problems = semantic_problems(spec)
    if problems:
        raise MappingFileError(source, problems)
    return spec


def load_mapping_file(path: str | Path) -> MappingFile:
    path = Path(path)
    try:
        data = yaml.load(path.read_text(), Loader=_YAML_LOADER)  # noqa: S506 - a safe loader, libyaml's if built
    except FileNotFoundError:
        raise MappingFileError(str(path), [("", "file not found")]) from None
    except yaml.YAMLError as exc:
        raise MappingFileError(str(path), [("", f"not valid YAML: {exc}")]) from None
    return parse_mapping(data, str(path))
