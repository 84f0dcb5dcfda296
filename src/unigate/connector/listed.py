"""Items hidden in lists but readable by id (manifest ``listed``, docs/mapping-files.md).

Some trackers keep a deleted item readable by id and hide it only from their lists (Roundup: a
retired issue still answers ``GET /issue/{id}`` and takes writes). For the unified API such an
item is deleted, so an operation that declares ``listed`` first asks the list for the addressed
item; when the list does not show it the answer is 404 ``EntityNotFoundError`` and nothing else
is called. The item as listed is kept on ``ctx.listed`` (the ``ids`` paginator pages through ids
it holds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unigate.errors import EntityNotFoundError
from unigate.mapping.paths import MISSING, compile_path
from unigate.mapping.spec_steps import ItemMatchSpec, ListedSpec
from unigate.mapping.template import compile_template, render_value

if TYPE_CHECKING:
    from unigate.connector.context import OperationContext


def values_at(path: str, item: Any) -> list[Any]:
    """What ``path`` selects in ``item`` as a list (a wildcard selecting one value gives one item)."""
    found = compile_path(path).get(item)
    if found is MISSING or found is None:
        return []
    return found if isinstance(found, list) else [found]


def _wanted(ctx: OperationContext, match: ItemMatchSpec) -> str:
    return str(render_value(match.value, ctx.template_context))


async def find_listed(ctx: OperationContext, spec: ListedSpec, tracker: str) -> dict[str, Any]:
    """The addressed item as the list shows it; 404 ``EntityNotFoundError`` when not listed (or when
    it does not hold the ``contains`` value)."""
    path = compile_template(spec.path).render(ctx.template_context, quote_values=True)
    query = [(k, str(render_value(v, ctx.template_context))) for k, v in spec.query.items()]
    response = await ctx.call(spec.call_id, "GET", path, params=query)
    wanted = _wanted(ctx, spec.match)
    item = next((i for i in values_at(spec.records, response.body)
                 if isinstance(i, dict) and wanted in map(str, values_at(spec.match.path, i))), None)
    why = f" ({spec.why})" if spec.why else ""
    if item is None:
        raise EntityNotFoundError("Not found", f"{tracker} does not list {wanted!r}{why}")
    if spec.contains is not None:
        child = _wanted(ctx, spec.contains)
        if child not in map(str, values_at(spec.contains.path, item)):
            raise EntityNotFoundError("Not found", f"{tracker}: {wanted!r} does not hold {child!r} "
                                                   f"({spec.contains.path})")
    return item
