"""``UNIGATE_DATABASE``: which database the gateway keeps its state in, or a refusal.

A plain path (``.unigate/vault.db``, ``:memory:``) or ``sqlite:///path`` is an SQLite file;
``postgresql://`` (also ``postgres://``, ``postgresql+psycopg://``) is PostgreSQL through psycopg 3.
Anything else that looks like a URL (``mysql://…``, ``postgresql:``, ``redis://…``) is refused with
``UnsupportedDatabaseError`` at startup: before, such a value silently became an SQLite file of that name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
_POSTGRES_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg"}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
# names that are a database scheme even without "//" (`postgresql:` alone must not become a file)
_KNOWN = {"sqlite", "postgresql", "postgres", "mysql", "mariadb", "oracle", "mssql", "redis", "mongodb"}


class UnsupportedDatabaseError(ValueError):
    """``UNIGATE_DATABASE`` names a database unigate cannot use; the message says which it can."""


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed ``UNIGATE_DATABASE``: ``backend`` is ``sqlite`` or ``postgresql``; ``path`` the SQLite
    file (``:memory:`` for none), ``url`` the SQLAlchemy URL to create an engine from."""

    backend: str
    url: URL
    path: Path | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.backend == SQLITE

    @property
    def is_memory(self) -> bool:
        return self.path is not None and str(self.path) == ":memory:"

    def __str__(self) -> str:
        """For messages: the file, or the URL with its password hidden."""
        return str(self.path) if self.path is not None else self.url.render_as_string(hide_password=True)


def _refusal(value: str) -> UnsupportedDatabaseError:
    shown = re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", value)  # never a password in a message
    return UnsupportedDatabaseError(
        f"UNIGATE_DATABASE={shown!r} is not a database unigate supports: give an SQLite file path "
        "(e.g. .unigate/vault.db or sqlite:///.unigate/vault.db) or a PostgreSQL URL "
        "(postgresql://user:password@host:5432/dbname)")


def parse_database(value: str | Path) -> DatabaseURL:
    """``value`` parsed, or ``UnsupportedDatabaseError``."""
    if isinstance(value, Path):
        return _sqlite(value)
    text = value.strip()
    match = _SCHEME.match(text)
    if not text:
        raise _refusal(value)
    if match is None:
        return _sqlite(Path(text))
    scheme, rest = match.group(1).lower(), text[match.end():]
    if not rest.startswith("//"):
        if scheme in _KNOWN or scheme.startswith("postgres"):
            raise _refusal(value)  # `postgresql:` alone must not become a file of that name
        return _sqlite(Path(text))  # a file name with a colon in it (vault:2.db)
    if scheme == "sqlite":
        return _sqlite_url(value, text)
    if scheme in _POSTGRES_SCHEMES:
        return _postgres(value, text)
    raise _refusal(value)


def _sqlite(path: Path) -> DatabaseURL:
    return DatabaseURL(SQLITE, URL.create("sqlite", database=str(path)), path)


def _sqlite_url(value: str, text: str) -> DatabaseURL:
    if not text.startswith("sqlite:///"):
        raise _refusal(value)
    path = text[len("sqlite:///"):].split("?", 1)[0]
    if not path:
        raise _refusal(value)
    return _sqlite(Path(path))


def _postgres(value: str, text: str) -> DatabaseURL:
    try:
        url = make_url(text)
    except ArgumentError:
        raise _refusal(value) from None
    if not url.database:
        raise UnsupportedDatabaseError(f"UNIGATE_DATABASE={_hidden(url)!r} names no database: "
                                       "postgresql://user:password@host:5432/dbname")
    return DatabaseURL(POSTGRESQL, url.set(drivername="postgresql+psycopg"))


def _hidden(url: URL) -> str:
    return url.render_as_string(hide_password=True)
