"""What a connector can do, each operation, filter and sort marked ``native`` (the tracker does it),
``emulated`` (the engine does it over the tracker's calls) or ``unsupported`` (refused).

One reading of the manifest shared by the engine (:mod:`unigate.connector.emulated` decides with
:func:`since_mode` and :func:`status_mode`), ``unigate connectors show`` and
``GET /connectors/{service_id}`` (:mod:`unigate.connector_info`), and the acceptance suite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from unigate.mapping.spec import MappingFile, OperationSpec
from unigate.unified import UNIFIED

if TYPE_CHECKING:
    from unigate.connector.base import Connector

Mode = Literal["native", "emulated", "unsupported"]
SinceMode = Literal["native", "sorted", "scan", "unsupported"]
StatusMode = Literal["native", "fan_out", "scan", "unsupported"]
UPDATED_DESC = {"by": "updated_at", "direction": "desc"}


def sorted_by_update_desc(op: OperationSpec) -> bool:
    """Whether the list can come newest-updated first (a sort field, or its natural order)."""
    sort = op.sort
    if sort is None:
        return False
    return "updated_at desc" in sort.natural or (sort.param is not None and "updated_at" in sort.fields)


def since_mode(spec: MappingFile, resource: str, op: OperationSpec) -> SinceMode:
    """How ``filter[since]`` is served on ``resource``'s list: ``native`` (declared in ``filters``),
    ``sorted`` (read newest-updated first, stop at T), ``scan`` (bounded scan, post-filter) or
    ``unsupported`` (emulation off, no unified ``updated_at``, or a list of fixed records)."""
    if "since" in op.filters:
        return "native"
    declared = spec.resources.get(resource)
    if not op.emulation.since or op.static is not None or declared is None or "updated_at" not in declared.fields:
        return "unsupported"
    return "sorted" if sorted_by_update_desc(op) else "scan"


def status_mode(op: OperationSpec) -> StatusMode:
    """How a ``filter[status]`` meaning several tracker statuses is served: ``native`` (sent in one
    call), ``fan_out`` (one call per status, merged in a known order), ``scan`` (no known order: the
    whole list scanned, statuses kept), ``unsupported`` (not declared, or `multiple: single`
    without emulation: refused)."""
    spec = op.filters.get("status")
    if spec is None:
        return "unsupported"
    if spec.multiple != "single":
        return "native"
    if not op.emulation.fan_out:
        return "unsupported"
    return "fan_out" if merge_order(op, None) is not None else "scan"


def merge_order(op: OperationSpec, sort: dict[str, str] | None) -> dict[str, str] | None:
    """The order fanned-out calls are merged in: the request's sort, else the list's natural
    order, else its default sort field newest first (sent); None: no known order."""
    if sort is not None and sort.get("by"):
        return {"by": sort["by"], "direction": sort.get("direction", "asc")}
    spec = op.sort
    if spec is None:
        return None
    if spec.natural:
        by, _, direction = spec.natural[0].partition(" ")
        return {"by": by, "direction": direction}
    if spec.param is not None and spec.default_field in spec.fields:
        return {"by": spec.default_field, "direction": "desc"}
    return None


# -- the whole connector, as data ----------------------------------------------------------------------
def capabilities(connector: Connector) -> dict[str, Any]:
    """Per unified resource: its operations, list filters and sorts, each with its mode and how."""
    return {resource: _resource(connector, resource) for resource in UNIFIED.resource_names}


def _resource(connector: Connector, resource: str) -> dict[str, Any]:
    declared = connector.spec.resources.get(resource)
    listing = declared.operations.get("all") if declared is not None else None
    return {
        "operations": {name: _operation(connector, resource, name) for name in UNIFIED.operation_names
                       if UNIFIED.resource(resource).operation(name) is not None},
        "filters": {f.name: _filter(connector.spec, resource, listing, f.name)
                    for f in UNIFIED.filters.get(resource, ())},
        "sorts": {f"{by} {direction}": _sort(listing, by, direction)
                  for by in UNIFIED.sorts.get(resource, ()) for direction in UNIFIED.sort_directions},
    }


def _operation(connector: Connector, resource: str, operation: str) -> dict[str, str]:
    if (resource, operation) in type(connector).implementations:
        return {"mode": "native", "how": "the connector's own code"}
    declared = connector.spec.resources.get(resource)
    op = declared.operations.get(operation) if declared is not None else None
    if op is None:
        return {"mode": "unsupported", "how": "answered 501 ConnectorOperationUnsupportedError"}
    if op.static is not None:
        return {"mode": "emulated", "how": f"{len(op.static)} record(s) fixed in the manifest, no call"}
    if operation == "one" and op.pagination is not None and op.match is not None:
        return {"mode": "emulated", "how": f"found by paging {op.method} {op.path}"}
    return {"mode": "native", "how": f"{op.method} {op.path}"}


def _filter(spec: MappingFile, resource: str, op: OperationSpec | None, name: str) -> dict[str, Any]:
    if op is None:
        return {"mode": "unsupported", "how": "no list"}
    declared = op.filters.get(name)
    if name == "since":
        return _since(spec, resource, op)
    if name == "status" and declared is not None:
        return _status(op)
    if declared is None:
        return {"mode": "unsupported", "how": "not in the manifest's filters: refused with UnsupportedFiltersError"}
    return {"mode": "native", "how": f"query parameter {declared.param}"}


def _since(spec: MappingFile, resource: str, op: OperationSpec) -> dict[str, Any]:
    mode = since_mode(spec, resource, op)
    if mode == "native":
        return {"mode": "native", "how": f"query parameter {op.filters['since'].param}"}
    if mode == "sorted":
        return {"mode": "emulated", "how": "read newest-updated first, stopped at the first record updated before T"}
    if mode == "scan":
        return {"mode": "emulated", "how": f"scan of the list keeping updated_at >= T (at most "
                                           f"{op.emulation.scan_limit} records dropped per request)"}
    return {"mode": "unsupported", "how": "refused with UnsupportedFiltersError"}


def _status(op: OperationSpec) -> dict[str, Any]:
    spec = op.filters["status"]
    mode, values = status_mode(op), sorted(spec.values) if spec.values is not None else None
    how = {"native": f"query parameter {spec.param}",
           "fan_out": f"query parameter {spec.param}, one call per tracker status when a unified status means "
                      "several, merged in the list's order",
           "scan": "a unified status meaning several tracker statuses: scan of the whole list keeping them "
                   f"(at most {op.emulation.scan_limit} records dropped per request)",
           "unsupported": f"query parameter {spec.param}, one tracker status per call: a unified status meaning "
                          "several is refused"}[mode]
    return {"mode": "native" if mode in ("native", "unsupported") else "emulated", "how": how, "values": values}


def _sort(op: OperationSpec | None, by: str, direction: str) -> dict[str, str]:
    sort = op.sort if op is not None else None
    if sort is not None and f"{by} {direction}" in sort.natural:
        return {"mode": "native", "how": "the list's natural order"}
    if sort is not None and sort.param is not None and by in sort.fields:
        return {"mode": "native", "how": f"query parameter {sort.param}"}
    return {"mode": "unsupported", "how": "refused with UnsupportedSortFieldError"}
