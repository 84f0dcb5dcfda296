"""The mapping file's schema for a unified model.

``unigate.mapping.spec`` writes the schema once, its resource, operation and filter names taken
from ``UNIFIED``. ``manifest_model(model)`` is the same schema with ``model``'s names: each of the
three models holding them narrowed, everything else (fields, descriptions, validators) inherited.
``manifest_model(UNIFIED)`` has the JSON Schema of ``MappingFile`` itself.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, create_model

from unigate.mapping.spec import FilterSpec, MappingFile, OperationSpec, ResourceSpec
from unigate.unified.model import UnifiedModel, literal

_M = TypeVar("_M", bound=BaseModel)


def manifest_model(model: UnifiedModel) -> type[MappingFile]:
    """``MappingFile`` whose ``resources``, ``operations`` and ``filters`` keys are ``model``'s names."""
    operation = _narrowed(OperationSpec, "filters", dict[literal(model.filter_names), FilterSpec])  # type: ignore[misc]
    resource = _narrowed(ResourceSpec, "operations", dict[literal(model.operation_names), operation])  # type: ignore[misc]
    return _narrowed(MappingFile, "resources", dict[literal(model.resource_names), resource])  # type: ignore[misc]


def _narrowed(base: type[_M], name: str, annotation: Any) -> type[_M]:
    """A subclass of ``base`` named and documented like it, its field ``name`` of type ``annotation``."""
    info = base.model_fields[name]
    return create_model(base.__name__, __base__=base, __module__=base.__module__, __doc__=base.__doc__,  # type: ignore[call-overload]
                        **{name: (annotation, info)})
