"""The vault's audit trail: who changed what, and when; never a secret.

Every change to apps, consumers and connections is recorded by the store, in the transaction that
makes it (``vault_audit``), so a change and its record are committed together or not at all.

*Who* is the :class:`Actor` of the current context: the Vault API sets it per request
(:func:`acting_as`: the app, the consumer it acts for, and an id of its API key: the first 12 hex
digits of the key's SHA-256, which identifies the key without revealing it); anything else (the
``unigate vault`` CLI, the sandbox) is the operator on the host, recorded with the OS user name.

*What* is a change set computed by :func:`diff`: for each field, its old and new value. Settings
are recorded by value except those the connector declares ``secret`` (and any whose name looks
like a secret); credentials only by name (``"set"``, ``"changed"``, ``"removed"``), never a value.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

REDACTED = "[secret]"
SECRET_WORDS = ("key", "token", "secret", "password", "passwd", "credential", "cookie")


@dataclass(frozen=True)
class Actor:
    """Who makes a vault change: ``kind`` is ``api`` (an app's API key) or ``host`` (the operator)."""

    kind: str
    name: str
    key_id: str | None = None
    app_id: str | None = None
    consumer_id: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"


def _host_actor() -> Actor:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (a container)
        user = "unknown"
    return Actor("host", user)


_current: ContextVar[Actor | None] = ContextVar("unigate_vault_actor", default=None)


def current_actor() -> Actor:
    """The actor of this context (a Vault API request), else the operator on the host."""
    return _current.get() or _host_actor()


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    """Record the vault changes made inside the block as ``actor``'s."""
    token = _current.set(actor)
    try:
        yield
    finally:
        _current.reset(token)


def looks_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def _shown(name: str, value: Any, secret_names: frozenset[str]) -> Any:
    return REDACTED if name in secret_names or looks_secret(name) else value


def diff_values(old: Mapping[str, Any], new: Mapping[str, Any], secret_names: frozenset[str] = frozenset()) -> dict[str, Any]:
    """``{name: {"from": old, "to": new}}`` for each name whose value changed (a missing side is
    left out); values of secret-looking or declared-secret names are shown as ``[secret]``."""
    out: dict[str, Any] = {}
    for name in sorted(set(old) | set(new)):
        if old.get(name) == new.get(name) and (name in old) == (name in new):
            continue
        entry: dict[str, Any] = {}
        if name in old:
            entry["from"] = _shown(name, old[name], secret_names)
        if name in new:
            entry["to"] = _shown(name, new[name], secret_names)
        out[name] = entry
    return out


def diff_names(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, str]:
    """Credentials: ``{name: "set" | "changed" | "removed"}``, by name only."""
    out: dict[str, str] = {}
    for name in sorted(set(old) | set(new)):
        if name not in old:
            out[name] = "set"
        elif name not in new:
            out[name] = "removed"
        elif old[name] != new[name]:
            out[name] = "changed"
    return out
