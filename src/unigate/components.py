"""Named components a manifest may refer to, and the one registry that holds them.

A manifest says *what* a tracker needs in data; where data cannot say it, the manifest names a
**component** (Airbyte's low-code CDK: every piece swappable by a named custom one). A component
is a plain Python object registered under ``(kind, name)``:

- ``transform``   — turns a field value both ways (``transform: <name>`` on a field);
- ``preparer``    — prepares downstream records before they are mapped (``prepare: [<name>]``);
- ``paginator``   — fetches one window of a list (``pagination: {style: <name>}``);
- ``request``     — builds the downstream request of an operation (``request: {style: <name>}``);
- ``auth``        — puts credentials on a downstream request (``http.auth: {scheme: <name>}``);
- ``webhook``     — a tracker's native webhooks, named by service id: verifies and normalises what
  the tracker POSTs to ``/webhooks/inbound/{service_id}/{connection}`` (``unigate.webhooks.inbound``).

The gateway registers its own at import; a plugin registers more through the ``register_*`` hooks
of :mod:`unigate.plugins.hookspec` (``register_transforms()`` returning ``{"name": component}``),
so one package can add a component every manifest may use, as datasette plugins add renderers.
The signature each kind must have is documented where the engine calls it (``unigate.kit``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["transform", "preparer", "paginator", "request", "auth", "webhook"]
KINDS: tuple[Kind, ...] = ("transform", "preparer", "paginator", "request", "auth", "webhook")


class ComponentError(ValueError):
    """A component is registered twice, or a manifest names one nobody registered."""


@dataclass
class Components:
    """``(kind, name) -> component``; who registered each (``source``) for error messages."""

    _items: dict[tuple[str, str], tuple[Any, str]] = field(default_factory=dict)

    def register(self, kind: Kind, name: str, component: Any, *, source: str = "unigate") -> None:
        if kind not in KINDS:
            raise ComponentError(f"unknown component kind {kind!r}; kinds: {', '.join(KINDS)}")
        existing = self._items.get((kind, name))
        if existing is not None and existing[0] is not component:
            raise ComponentError(f"{kind} {name!r} is already registered by {existing[1]}; {source} cannot replace it")
        self._items[(kind, name)] = (component, source)

    def get(self, kind: Kind, name: str) -> Any:
        found = self._items.get((kind, name))
        if found is None:
            known = ", ".join(self.names(kind)) or "none"
            raise ComponentError(f"no {kind} named {name!r}; registered: {known}")
        return found[0]

    def has(self, kind: Kind, name: str) -> bool:
        return (kind, name) in self._items

    def names(self, kind: Kind) -> list[str]:
        return sorted(name for k, name in self._items if k == kind)

    def source(self, kind: Kind, name: str) -> str:
        return self._items[(kind, name)][1]

    def __iter__(self) -> Iterator[tuple[str, str, Any]]:
        return iter((kind, name, item[0]) for (kind, name), item in sorted(self._items.items()))

    def unregister_source(self, source: str) -> None:
        """Forget what ``source`` registered (tests that load and unload a plugin)."""
        for key in [k for k, (_, s) in self._items.items() if s == source]:
            del self._items[key]


COMPONENTS = Components()
