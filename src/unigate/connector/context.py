"""What a connector operation receives (``OperationContext``) and returns (``OperationResult``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from unigate.cursor import CursorPosition
from unigate.mapping.fields import FieldTree
from unigate.mapping.passthrough import BodyExtension, apply_body_pass_through

if TYPE_CHECKING:
    from unigate.downstream.client import DownstreamResponse, DownstreamSession
    from unigate.mapping.compiled import RecordMapping
    from unigate.vault.models import Connection


@dataclass
class UnifiedRequest:
    """A parsed, validated unified request (built by ``unigate.api.parse``)."""

    resource: str                     # collections | tickets | comments | users | tags
    operation: str                    # all | one | add | update | delete
    path_params: dict[str, str]       # collection_id, ticket_id, id
    limit: int = 20
    cursor: str | None = None
    raw: bool = False
    fields: FieldTree | None = None
    filter: dict[str, Any] = field(default_factory=dict)
    sort: dict[str, str] | None = None
    pass_through_query: list[tuple[str, str]] = field(default_factory=list)
    body: dict[str, Any] | None = None
    pass_through_body: list[BodyExtension] = field(default_factory=list)

    @property
    def scope(self) -> str:
        """What a cursor is bound to: the list and its parents."""
        parents = "/".join(f"{k}={v}" for k, v in sorted(self.path_params.items()))
        return f"{self.resource}:{parents}"


@dataclass
class OperationResult:
    data: Any
    next: CursorPosition | None = None
    previous: CursorPosition | None = None
    current: CursorPosition | None = None
    total_count: int | None = None
    warnings: list[dict[str, Any]] | None = None


@dataclass
class OperationContext:
    request: UnifiedRequest
    connection: Connection
    session: DownstreamSession
    mapping: RecordMapping            # this resource's mapping, with the connection's custom_mappings
    template_context: dict[str, Any]  # settings, credentials, path params
    position: CursorPosition          # decoded cursor (offset 0 when none)

    @property
    def service_id(self) -> str:
        return self.connection.service_id

    async def call(
        self,
        call_id: str,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: dict[str, Any] | None = None,
        apply_query_pass_through: bool = False,
        headers: dict[str, str] | None = None,
    ) -> DownstreamResponse:
        """One downstream call: body pass_through entries for ``call_id`` are applied here.
        ``headers`` are added to the connection's for this call only (``If-Match``, ``Accept``)."""
        if body is not None:
            body = apply_body_pass_through(body, self.request.pass_through_body, self.service_id, call_id)
        query = list(params or [])
        if apply_query_pass_through and self.request.pass_through_query:
            overridden = {k for k, _ in self.request.pass_through_query}
            query = [(k, v) for k, v in query if k not in overridden] + self.request.pass_through_query
        return await self.session.request(call_id, method, path, params=query, json=body,
                                          send_body=body is not None, headers=headers)
