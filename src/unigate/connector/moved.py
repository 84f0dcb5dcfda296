"""A redirect the manifest declares as a move (``http.errors.statuses.<3xx>.moved``): the redirect is
never followed, but the error says where the item went. The ``Location``'s groups are in
``detail.moved_to`` already (:func:`unigate.downstream.errors.declared_error`); when ``moved.path``
is declared, one GET on the connection's own base URL reads the item's new unified id into it
(GitHub: ``/repositories/{repository_id}`` → ``full_name`` → the collection id ``owner~repo``), so
the client can correct the id it addressed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unigate.errors import UnifiedError
from unigate.mapping.paths import MISSING, compile_path
from unigate.mapping.template import TemplateError, compile_template
from unigate.mapping.transforms import build_transform

if TYPE_CHECKING:
    from unigate.connector.context import OperationContext
    from unigate.mapping.spec import MappingFile


async def add_new_id(spec: MappingFile, ctx: OperationContext, error: UnifiedError) -> None:
    """``error``'s ``detail.moved_to`` gains the new id when the manifest says how to read it."""
    detail = error.detail if isinstance(error.detail, dict) else {}
    moved_to: dict[str, Any] | None = detail.get("moved_to")
    declared = spec.http.errors.statuses.get(detail.get("downstream_status", 0))
    moved = declared.moved if declared is not None else None
    if not moved_to or moved is None or moved.path is None:
        return
    try:
        path = compile_template(moved.path).render(moved_to, quote_values=True)
        response = await ctx.call(f"{ctx.request.resource}_moved", "GET", path)
    except (UnifiedError, TemplateError):
        return   # the move is still said (the Location's groups); the new id is not known
    value = compile_path(moved.id).get(response.body)
    if value is MISSING or value is None:
        return
    moved_to[moved.key] = build_transform(moved.transform, {}).read(value) if moved.transform else value
    error.message += f"; it is now {moved.key} {moved_to[moved.key]!r}"
