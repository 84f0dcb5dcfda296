"""Adds a transform every manifest may name: ``shout`` (reads upper-case, writes lower-case)."""

from typing import Any

from unigate.kit import hookimpl


class Shout:
    def read(self, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    def write(self, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


SHOUT = Shout()


@hookimpl
def register_transforms() -> dict[str, Shout]:
    return {"shout": SHOUT}
