"""Unified ``filter`` and ``sort`` to downstream query parameters, or typed errors."""

from __future__ import annotations

from typing import Any

from unigate.errors import UnsupportedFiltersError, UnsupportedSortFieldError
from unigate.mapping.spec import FilterSpec, OperationSpec
from unigate.mapping.transforms import TransformError, datetime_writer


def filter_params(op: OperationSpec, filters: dict[str, Any], service_id: str) -> list[tuple[str, str]]:
    unsupported = sorted(k for k in filters if k not in op.filters)
    if unsupported:
        raise UnsupportedFiltersError(
            "Unsupported filter", f"{service_id} does not support filtering by {', '.join(unsupported)}; "
            f"supported: {', '.join(sorted(op.filters)) or 'none'}",
        )
    params: list[tuple[str, str]] = []
    for name, value in filters.items():
        params.extend(_filter_param(op, name, value, service_id))
    sent = {name for name in filters if any(k == op.filters[name].param for k, _ in params)}
    params.extend((spec.param, spec.default) for name, spec in op.filters.items()
                  if spec.default is not None and name not in sent)
    return params


def _templated(spec: FilterSpec, value: str) -> str:
    """The sent text: ``value`` through the filter's ``value`` template (``>={value}``), if any."""
    return spec.value.replace("{value}", value) if spec.value else value


def _filter_param(op: OperationSpec, name: str, value: Any, service_id: str) -> list[tuple[str, str]]:
    spec = op.filters[name]
    if name == "status":
        return _status_params(spec, value, service_id)
    if name == "since":
        try:
            rendered = datetime_writer(spec.format or "iso")(value)
        except TransformError as exc:
            raise UnsupportedFiltersError("Invalid filter", f"filter[since]: {exc}") from None
        return [(spec.param, _templated(spec, str(rendered)))]
    return [(spec.param, _templated(spec, str(value)))]


def _status_params(spec: FilterSpec, value: list[str], service_id: str) -> list[tuple[str, str]]:
    """Unified statuses -> downstream values (``values``); ``all`` (or nothing) sends nothing here."""
    values = status_values(spec, value, service_id)
    if not values:
        return []
    if spec.multiple == "single" and len(values) > 1:
        raise UnsupportedFiltersError(
            "Unsupported filter", f"{service_id} can filter by one status at a time; "
            f"{value} needs {values}",
        )
    if spec.multiple == "repeat":
        return [(spec.param, _templated(spec, str(v))) for v in values]
    return [(spec.param, _templated(spec, spec.separator.join(map(str, values))))]


def status_values(spec: FilterSpec, value: list[str], service_id: str) -> list[Any]:
    """The downstream statuses unified ``value`` means, each once ([]: ``all``, nothing to send)."""
    values: list[Any] = []
    for unified in value:
        if unified == "all":
            return []
        if spec.strict and unified not in (spec.values or {}):
            raise UnsupportedFiltersError(
                "Unsupported filter", f"{service_id} cannot filter by status {unified!r}; "
                f"supported: {', '.join(sorted(spec.values or {})) or 'none'}",
            )
        mapped = (spec.values or {}).get(unified, [unified])
        values.extend(mapped or [])
    return list(dict.fromkeys(values))


def status_param(spec: FilterSpec, value: Any) -> tuple[str, str]:
    """One downstream status as its query parameter (a fanned-out call's)."""
    return spec.param, _templated(spec, str(value))


def sort_params(op: OperationSpec, sort: dict[str, str] | None, service_id: str) -> list[tuple[str, str]]:
    if not sort or not sort.get("by"):
        return []
    by, direction = sort["by"], sort.get("direction", "asc")
    spec = op.sort
    if spec is not None and f"{by} {direction}" in spec.natural:
        return []  # the list already comes in this order: nothing to ask for
    if spec is None or by not in spec.fields or spec.param is None:
        supported = [*(spec.fields if spec else ()), *(f"{o} (natural order)" for o in (spec.natural if spec else ()))]
        raise UnsupportedSortFieldError(
            "Unsupported sort field",
            f"{service_id} cannot sort by {by} {direction}; supported: {', '.join(supported) or 'none'}",
        )
    field_value = spec.fields[by]
    if spec.format is not None:   # one parameter: field, direction and any tie-breakers
        sent_direction = spec.directions.get(direction, direction)
        return [(spec.param, spec.format.replace("{field}", field_value).replace("{direction}", sent_direction))]
    if spec.direction_param is None:
        return [(spec.param, ("-" if direction == "desc" else "") + field_value)]
    return [(spec.param, field_value), (spec.direction_param, spec.directions.get(direction, direction))]
