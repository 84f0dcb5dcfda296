"""Opine's named components, referred to by name from connectors/opine/manifest.yaml.

- ``opine_most_severe`` (transform, read-only): a ticket's priority is derived, the most severe
  priority among its linked deals: the deals' priorities mapped with ``map``, then the first of
  ``order`` (most severe first) among them.
"""

from __future__ import annotations

from typing import Any

from unigate.kit import Transform


def opine_most_severe(options: dict[str, Any]) -> Transform:
    mapping: dict[Any, Any] = options["map"]
    order: list[str] = options["order"]

    def read(value: Any) -> Any:
        values = value if isinstance(value, list) else [] if value is None else [value]
        present = {mapping.get(v) for v in values if v is not None}
        return next((p for p in order if p in present), None)

    return Transform(read, lambda value: value)
