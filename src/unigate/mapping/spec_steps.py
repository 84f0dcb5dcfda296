"""Manifest keys for what an operation does around its main call (docs/mapping-files.md
"Record preparation, request styles and listed items"): record preparation steps (``prepare``),
request styles (``request``), the "hidden in lists but readable by id" check (``listed``) and the
calls that follow a create (``then``). The engine side is :mod:`unigate.connector.prepare`,
:mod:`unigate.connector.requests`, :mod:`unigate.connector.listed` and :mod:`unigate.connector.graphql`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from unigate.components import COMPONENTS

if TYPE_CHECKING:
    from unigate.mapping.spec import OperationSpec


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ItemMatchSpec(_Strict):
    """An item whose value at ``path`` equals the rendered ``value`` template."""

    path: str = Field(description="JSONPath into each item", examples=["$.id"])
    value: str = Field(description="template the item's value must equal", examples=["{ticket_id}"])


class ListedSpec(_Strict):
    """The addressed item exists only if this list shows it (Roundup: a retired issue still answers
    ``GET /issue/{id}``, only its list leaves it out): else 404 before anything else is done."""

    call_id: str = Field(description="call id of the list read", examples=["tickets_one_retired"])
    path: str = Field(description="path of the list (a template)", examples=["/issue"])
    query: dict[str, Any] = Field(default_factory=dict, description="query of the list read (templates)",
                                  examples=[{"id": "{ticket_id}", "@fields": "id"}])
    records: str = Field(description="JSONPath of the list in the answer", examples=["$.data.collection"])
    match: ItemMatchSpec = Field(description="which listed item is the addressed one",
                                 examples=[{"path": "$.id", "value": "{ticket_id}"}])
    contains: ItemMatchSpec | None = Field(
        None, description="the listed item must also hold this value (a child addressed through it), else 404",
        examples=[{"path": "$.messages[*].id", "value": "{id}"}])
    why: str = Field("", description="said in the 404's detail", examples=["retired issues are deleted ones"])


class AttachSpec(_Strict):
    """Related records read and put on each record under ``into``: with ``ids``, one batched call per
    page (``id_param`` repeated once per id); without, one call per record (``path`` may use
    ``{record.<key>}``)."""

    into: str = Field(description="key the related record is put under (read it with `$.<into>.x`)",
                      examples=["first_message"])
    call_id: str = Field(description="call id of the related read", examples=["tickets_all_descriptions"])
    path: str = Field(description="path of the related read (a template)", examples=["/msg"])
    query: dict[str, Any] = Field(default_factory=dict, description="query of the related read (templates)",
                                  examples=[{"@fields": "content", "@verbose": "3"}])
    records: str = Field("$", description="JSONPath of the related records in the answer",
                         examples=["$.data.collection"])
    ids: str | None = Field(None, description="batched: JSONPath of the related ids in each record",
                            examples=["$.messages[*].id"])
    pick: Literal["first", "lowest", "all"] = Field(
        "first", description="batched: which of a record's ids (`lowest`: numerically); per record: which of "
        "the related records (`first`, `lowest` by `key`, or `all` as a list)", examples=["lowest"])
    id_param: str = Field("id", description="batched: the query parameter repeated once per id", examples=["id"])
    key: str = Field("$.id", description="JSONPath of a related record's id", examples=["$.id"])


class CreateSpec(_Strict):
    """Write: a value of the downstream body becomes its own record first; its id is sent instead
    (Roundup: a new issue's description is created as a message, linked by id)."""

    take: str = Field(description="JSONPath of the value in the downstream body (removed from it)",
                      examples=["$.first_message"])
    call_id: str = Field(description="call id of the create", examples=["tickets_add_description"])
    method: Literal["POST", "PUT", "PATCH"] = Field("POST", description="method of the create", examples=["POST"])
    path: str = Field(description="path of the create (a template)", examples=["/msg"])
    body: dict[str, Any] = Field(description="body of the create: templates; `{value}` is the taken value",
                                 examples=[{"content": "{value}", "author": "{credentials.username}"}])
    id: str = Field(description="JSONPath of the new record's id in the answer", examples=["$.data.id"])
    put: str = Field(description="JSONPath in the downstream body the new id is set at", examples=["$.messages"])
    as_list: bool = Field(False, description="send the id as a one-item list", examples=[True])


class PrepareStepSpec(_Strict):
    """One preparation step: built-in ``attach`` (reads) / ``create`` (writes), or ``use`` a named
    preparer component with ``options``."""

    attach: AttachSpec | None = Field(None, description="reads: put related records on each record",
                                      examples=[{"into": "first_message", "call_id": "tickets_all_descriptions",
                                                 "path": "/msg", "ids": "$.messages[*].id", "pick": "lowest"}])
    create: CreateSpec | None = Field(None, description="writes: create a value of the body as its own record",
                                      examples=[{"take": "$.first_message", "call_id": "tickets_add_description",
                                                 "path": "/msg", "body": {"content": "{value}"}, "id": "$.data.id",
                                                 "put": "$.messages", "as_list": True}])
    use: str | None = Field(None, description="a registered preparer component (unigate.components)",
                            examples=["roundup_element"])
    options: dict[str, Any] = Field(default_factory=dict, description="options given to the `use` component",
                                    examples=[{"dates": ["creation", "activity"]}])

    @model_validator(mode="after")
    def _one_kind(self) -> PrepareStepSpec:
        if sum(x is not None for x in (self.attach, self.create, self.use)) != 1:
            raise ValueError("a prepare step is exactly one of `attach`, `create`, `use`")
        if self.options and self.use is None:
            raise ValueError("`options` go with `use`")
        return self


class IfMatchSpec(_Strict):
    """The write is sent with ``If-Match: <etag>``: the etag a client pinned in the body (``pinned``),
    else the one a read of the item answers."""

    call_id: str | None = Field(None, description="call id of the etag read; default `<call id>_etag`",
                                examples=["tickets_update_etag"])
    path: str | None = Field(None, description="path of the etag read; default the operation's",
                             examples=["/issue/{ticket_id}"])
    query: dict[str, Any] = Field(default_factory=dict, description="query of the etag read",
                                  examples=[{"@fields": "id"}])
    header: str | None = Field(None, description="response header holding the etag", examples=["ETag"])
    body: str | None = Field(None, description="JSONPath of the etag in the read's answer",
                             examples=["$.data['@etag']"])
    pinned: str | None = Field(None, description="JSONPath in the sent body (after pass_through) of an etag the "
                               "client pinned: it wins over a read", examples=["$['@etag']"])
    conflict: list[int] = Field(default_factory=lambda: [412], description="downstream statuses meaning the etag "
                                "is stale: answered 409 ConflictError", examples=[[412]])
    retries: int = Field(0, description="writes that commute (adding to a list): retried this many times with a "
                         "fresh etag on a conflict", examples=[1])

    @model_validator(mode="after")
    def _where(self) -> IfMatchSpec:
        if (self.header is None) == (self.body is None):
            raise ValueError("if_match takes the etag from exactly one of `header`, `body`")
        return self


class RequestSpec(_Strict):
    """How the operation's call is sent: a built-in ``style`` (``rest``, ``graphql``) or a registered
    request component, its body type, and an ``If-Match`` read."""

    style: str = Field("rest", description="`rest`, `graphql`, or a registered request component",
                       examples=["graphql"])
    content_type: Literal["json", "form"] = Field("json", description="body encoding: JSON or "
                                                  "application/x-www-form-urlencoded", examples=["form"])
    if_match: IfMatchSpec | None = Field(None, description="send If-Match with the item's etag",
                                         examples=[{"body": "$.data['@etag']", "query": {"@fields": "id"}}])
    document: str | None = Field(None, description="graphql: the query or mutation document",
                                 examples=["query($id: ID!) { issue(id: $id) { id title } }"])
    variables: dict[str, Any] = Field(default_factory=dict, description="graphql: variables (templates; "
                                      "`{body.<key>}` is a key of the mapped body)",
                                      examples=[{"id": "{ticket_id}"}])
    options: dict[str, Any] = Field(default_factory=dict, description="options given to a request component",
                                    examples=[{"action": "retire"}])

    @model_validator(mode="after")
    def _graphql_document(self) -> RequestSpec:
        if (self.style == "graphql") != (self.document is not None):
            raise ValueError("`document` goes with (and is needed by) style graphql")
        return self


class ThenCallSpec(_Strict):
    """A call made after the operation's own (create + link): ``{new_id}`` is the created id."""

    call_id: str = Field(description="call id", examples=["comments_add_link"])
    method: Literal["POST", "PUT", "PATCH", "DELETE"] = Field("PATCH", description="method", examples=["PATCH"])
    path: str = Field(description="path (a template)", examples=["/issue/{ticket_id}"])
    body: dict[str, Any] = Field(default_factory=dict, description="body (templates; `{new_id}`)",
                                 examples=[{"@op": "add", "messages": ["{new_id}"]}])
    request: RequestSpec | None = Field(None, description="how it is sent (If-Match...)",
                                        examples=[{"if_match": {"body": "$.data['@etag']", "retries": 1}}])


def around_calls(operation: str, call_id: str, op: OperationSpec) -> list[dict[str, Any]]:
    """The calls ``op``'s ``listed``, ``prepare``, ``request`` and ``then`` make, as ``unigate
    connectors show`` lists them (``call_id``: the operation's own, ``operation``: ``tickets.one``)."""
    def row(cid: str, method: str | None, path: str | None, note: str) -> dict[str, Any]:
        return {"call_id": cid, "operation": operation, "method": method, "path": path, "note": note}

    rows = [row(op.listed.call_id, "GET", op.listed.path, "listed: 404 unless the list shows the item")] \
        if op.listed is not None else []
    for step in op.prepare:
        if step.attach is not None:
            rows.append(row(step.attach.call_id, "GET", step.attach.path, f"prepare: attach {step.attach.into}"))
        elif step.create is not None:
            rows.append(row(step.create.call_id, step.create.method, step.create.path,
                            f"prepare: create {step.create.take}"))
        elif step.use is not None and COMPONENTS.has("preparer", step.use):   # the calls the component says it makes
            calls = getattr(COMPONENTS.get("preparer", step.use), "calls", {})
            rows += [row(cid, method, path, f"prepare: {step.use} (component)") for cid, (method, path) in calls.items()]
    style = op.request.style if op.request is not None else "rest"
    if style not in ("rest", "graphql") and COMPONENTS.has("request", style):   # the calls it says it makes
        calls = getattr(COMPONENTS.get("request", style), "calls", {})
        rows += [row(cid, method, path, f"request: {style} (component)") for cid, (method, path) in calls.items()]
    rows += _etag_rows(row, call_id, op.path, op.request)
    for then in op.then:
        rows.append(row(then.call_id, then.method, then.path, "then: after the create"))
        rows += _etag_rows(row, then.call_id, then.path, then.request)
    return rows


def _etag_rows(row: Any, call_id: str, path: str | None, request: RequestSpec | None) -> list[dict[str, Any]]:
    if request is None or request.if_match is None:
        return []
    spec = request.if_match
    return [row(spec.call_id or f"{call_id}_etag", "GET", spec.path or path, f"If-Match for {call_id}")]
