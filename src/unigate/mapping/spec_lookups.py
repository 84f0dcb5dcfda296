"""Manifest keys for what a tracker needs around a call: reference lookups, record conditions,
read-backs, check calls and follow-up writes (imported by :mod:`unigate.mapping.spec`).

- ``lookups`` (manifest level): reference lists (statuses, priorities...) by name, read with one
  call and cached per connection; a field's ``lookup`` turns a unified value into a downstream id.
- ``keep`` (an operation): conditions a downstream record must meet to be part of the answer.
- ``read_back`` (an add): a write that answers without the new record's id reads it back.
- ``check`` (``collection_check`` as a call): the ticket is in the path's collection when a
  listing filtered by both holds it.
- ``resend`` (an add): a value the tracker ignores on create, sent again with an update.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConditionSpec(_Strict):
    """One condition on a downstream record: the value at ``path`` is not blank, is blank, or equals ``equals``."""

    path: str = Field(description="JSONPath into the record", examples=["$.notes"])
    not_blank: bool = Field(False, description="True: the value is present, not null and not a blank string.",
                            examples=[True])
    blank: bool = Field(False, description="True: the value is absent, null or a blank string (GitHub's issues "
                        "are the records without `pull_request`).", examples=[True])
    equals: Any = Field(None, description="The value must equal this (compared as text).", examples=["issue"])

    @model_validator(mode="after")
    def _one_test(self) -> ConditionSpec:
        if [self.not_blank, self.blank, "equals" in self.model_fields_set].count(True) != 1:
            raise ValueError("a condition says one of `not_blank: true`, `blank: true` or `equals: <value>`")
        return self


class LookupSpec(_Strict):
    """A reference list: ``GET path`` (query, call id), the dicts at ``records`` that meet ``keep``."""

    call_id: str = Field(description="The call id of the GET (for raw, logs and pass_through).",
                         examples=["statuses_lookup"])
    path: str = Field(description="Path template of the GET.", examples=["/issue_statuses.json",
                                                                        "/issues/{ticket_id}.json"])
    query: dict[str, Any] = Field(default_factory=dict, description="Query parameters (templates).",
                                  examples=[{"include": "journals"}])
    records: str = Field(description="JSONPath to the list in the answer", examples=["$.issue_statuses"])
    keep: list[ConditionSpec] = Field(default_factory=list, description="Only the records meeting every condition.",
                                      examples=[[{"path": "$.customized_type", "equals": "issue"}]])
    cache: bool = Field(True, description="True: kept per connection for `ttl` seconds; false: read on every use "
                        "(a list of the record being written).", examples=[False])
    ttl: float = Field(300.0, description="Seconds a cached list is served.", examples=[300])


class FieldLookupSpec(_Strict):
    """A field written as a downstream id: the written value is matched to a record of the lookup."""

    name: str | dict[Literal["add", "update"], str] = Field(
        description="The manifest-level lookup (or one per operation: `{add: a, update: b}`).",
        examples=["statuses", {"add": "custom_fields", "update": "issue_custom_fields"}])
    by: list[str] = Field(default_factory=lambda: ["id", "name"],
                          description="Record keys a value is matched against (text, case-insensitive).",
                          examples=[["id", "name"]])
    unified: str | None = Field(None, description="A transform whose read turns a record into a unified value: "
                                "a unified value (`open`) picks the first record reading as it.",
                                examples=["redmine_status"])
    id: str = Field("$.id", description="JSONPath of what is sent, in the matched record", examples=["$.id"])


class ListLookupSpec(_Strict):
    """Entries of a list in the downstream body named by ``key`` (custom fields by name) get ``id``."""

    path: str = Field(description="JSONPath of the list in the downstream body", examples=["$.issue.custom_fields"])
    key: str = Field(description="The entry key holding the name; replaced by `id`.", examples=["name"])
    set: str = Field("id", description="The entry key the matched record's `$.id` is written to.", examples=["id"])
    lookup: FieldLookupSpec = Field(description="Where names are looked up.",
                                    examples=[{"name": "custom_fields", "by": ["name"]}])


class CheckCallSpec(_Strict):
    """A check call: ``GET path`` (query); the check passes when ``records`` hold one matching ``match``."""

    call_id: str | None = Field(None, description="Call id; default `<resource>_<operation>_collection_check`.",
                                examples=["tickets_one_collection_check"])
    path: str = Field(description="Path template.", examples=["/issues.json"])
    query: dict[str, Any] = Field(default_factory=dict, description="Query parameters (templates).",
                                  examples=[{"issue_id": "{ticket_id}", "project_id": "{collection_id}"}])
    records: str = Field(description="JSONPath of the list in the answer", examples=["$.issues"])
    match: dict[str, str] = Field(description="`{path, value}`: a record whose `path` equals `value` (a template).",
                                  examples=[{"path": "$.id", "value": "{ticket_id}"}])


class ReadBackSpec(_Strict):
    """After a write answering without the new id: read, keep the records whose ``match`` path equals
    what was sent at ``sent``, take the last (newest) and its ``id``."""

    call_id: str = Field(description="Call id of the read.", examples=["comments_add_lookup"])
    path: str = Field(description="Path template of the GET.", examples=["/issues/{ticket_id}.json"])
    query: dict[str, Any] = Field(default_factory=dict, description="Query parameters (templates).",
                                  examples=[{"include": "journals"}])
    records: str = Field(description="JSONPath of the list in the answer", examples=["$.issue.journals"])
    match: str = Field(description="JSONPath into a record of the value written", examples=["$.notes"])
    sent: str = Field(description="JSONPath into the sent body of that value", examples=["$.issue.notes"])
    id: str = Field("$.id", description="JSONPath of the id in the record", examples=["$.id"])


class ResendSpec(_Strict):
    """A value the tracker ignores on create: sent again with the resource's ``update`` (its method and
    path, ``{ticket_id}``/``{id}`` = the new id) when the created record holds another value."""

    call_id: str = Field(description="Call id of the follow-up update.", examples=["tickets_add_status"])
    sent: str = Field(description="JSONPath into the create body of the value", examples=["$.issue.status_id"])
    created: str = Field(description="JSONPath into the create's answer of the value the record got",
                         examples=["$.issue.status.id"])
