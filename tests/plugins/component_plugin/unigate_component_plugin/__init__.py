"""Adds a transform every manifest may name: ``shout`` (reads upper-case, writes lower-case)."""

from unigate.kit import hookimpl


class Shout:
    def read(self, value):
        return value.upper() if isinstance(value, str) else value

    def write(self, value):
        return value.lower() if isinstance(value, str) else value


SHOUT = Shout()


@hookimpl
def register_transforms():
    return {"shout": SHOUT}
