"""What the gateway derives from a connection and keeps between its requests, in one bounded cache.

For each connection at one revision: its settings and credentials with the connector's defaults
(checked once), its ``Endpoint`` (base URL, auth headers and query, redactor, timeout, answer cap),
its record mappings with its ``custom_mappings`` compiled, and the reference lists its connector
looked up (``Connector.lookup``). Entries are keyed by ``(connection id, revision)``: a connection
changed in the vault has a new revision, so its next request starts from fresh state and never
meets the old; the old entry is never used again and ages out. One bound (``UNIGATE_CONNECTION_CACHE``
connections, least recently used go first) keeps the memory flat however many connections pass;
a connection's lookups are themselves bounded (``LOOKUPS_PER_CONNECTION``, oldest first).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from unigate.connector.lookups import LookupCache

if TYPE_CHECKING:
    from unigate.connector.base import Connector
    from unigate.downstream.models import Endpoint
    from unigate.mapping.compiled import RecordMapping
    from unigate.vault.models import Connection

DEFAULT_CONNECTIONS = 1024
LOOKUPS_PER_CONNECTION = 256


@dataclass
class ConnectionState:
    """One connection's state at one revision. Shared between its requests: read-only for connectors."""

    settings: dict[str, Any]
    credentials: dict[str, Any]
    endpoint: Endpoint
    account: str = ""   # the tracker account its calls' rate limit is counted against (unigate.downstream.limiter)
    mappings: dict[str, RecordMapping] = field(default_factory=dict)
    lookups: LookupCache = field(default_factory=lambda: LookupCache(max_entries=LOOKUPS_PER_CONNECTION))

    def mapping(self, connector: Connector, resource: str, custom_mappings: dict[str, str]) -> RecordMapping:
        """``resource``'s record mapping with the connection's custom mappings, compiled once."""
        found = self.mappings.get(resource)
        if found is None:
            found = self.mappings[resource] = connector.mapping_for(resource, custom_mappings, self.settings)
        return found


class ConnectionStates:
    """The cache: ``ConnectionState`` by (connection id, revision), at most ``max_connections`` of them."""

    def __init__(self, max_connections: int = DEFAULT_CONNECTIONS) -> None:
        if max_connections < 1:
            raise ValueError(f"the connection cache must hold at least one connection, not {max_connections}")
        self.max_connections = max_connections
        self._states: OrderedDict[tuple[str, int], ConnectionState] = OrderedDict()

    def get(self, connection: Connection) -> ConnectionState | None:
        key = (connection.id, connection.revision)
        state = self._states.get(key)
        if state is not None:
            self._states.move_to_end(key)
        return state

    def put(self, connection: Connection, state: ConnectionState) -> ConnectionState:
        key = (connection.id, connection.revision)
        self._states[key] = state
        self._states.move_to_end(key)
        while len(self._states) > self.max_connections:
            self._states.popitem(last=False)
        return state

    def clear(self) -> None:
        self._states.clear()

    def __len__(self) -> int:
        return len(self._states)
