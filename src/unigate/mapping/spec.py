"""The schema of a mapping file (a connector's manifest, ``connectors/<name>/manifest.yaml``), validated on load.

A mapping file says everything a conventional REST tracker needs: how to reach it (base URL,
auth headers, error body), and per unified resource the downstream endpoints of each operation
(method, path, query, body constants, record selectors, pagination, filters, sort) and the
fields in both directions. The reference with an example is docs/mapping-files.md.

``load_mapping_file`` raises :class:`MappingFileError` naming the file, the key path and what
is wrong, for both schema errors and semantic ones (bad JSONPath, unknown transform,
ambiguous value map, unknown template variable).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from unigate.mapping.spec_lookups import CheckCallSpec, ConditionSpec, FieldLookupSpec, ListLookupSpec, LookupSpec, ReadBackSpec, ResendSpec
from unigate.mapping.spec_steps import (  # noqa: F401 - re-exported: every manifest model is reachable here
    AttachSpec,
    CreateSpec,
    IfMatchSpec,
    ItemMatchSpec,
    ListedSpec,
    PrepareStepSpec,
    RequestSpec,
    ThenCallSpec,
)
from unigate.unified import UNIFIED, literal

# libyaml's safe loader parses the mapping files about 10x faster than the pure-Python one
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# the unified model's names (unigate.unified), as the schema below uses them
RESOURCES = UNIFIED.resource_names
OPERATIONS = UNIFIED.operation_names
UNIFIED_FIELDS: dict[str, tuple[str, ...]] = UNIFIED.fields
SORT_FIELDS = UNIFIED.sort_names   # what a `natural` order may name
if TYPE_CHECKING:  # a type checker sees strings; pydantic validates the model's names
    ResourceName = str
    OperationName = str
    FilterName = str
else:
    ResourceName, OperationName, FilterName = map(literal, (RESOURCES, OPERATIONS, UNIFIED.filter_names))


CLEAR_UNSUPPORTED = "unsupported"   # FieldSpec.clear: the tracker cannot clear the field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SettingSpec(_Strict):
    """One connection setting or credential a connection may (or must) configure."""

    description: str = Field("", description="What the value is, shown by `unigate connectors show` and in "
                             "connection errors.", examples=["Redmine root URL, e.g. https://redmine.example.com"])
    required: bool = Field(False, description="A connection without this value (and no `default`) is refused "
                           "when configured and answers 422 `ConnectionSettingsError` on use.", examples=[True])
    default: Any = Field(None, description="The value used when the connection gives none; a setting with a "
                         "default is never missing.", examples=["https://api.acme.example"])
    secret: bool = Field(False, description="Settings only: redact the value from `_raw`, errors and logs as "
                         "credentials always are.", examples=[True])
    pattern: str | None = Field(None, description="Settings only: a regular expression the whole value must "
                                "match; another value is refused when the connection is configured (400).",
                                examples=["^[^,]{1,50}$"])


class OAuth2TokenPlacementSpec(_Strict):
    """Where each downstream call carries the connection's OAuth2 access token: a header (default
    ``Authorization: Bearer <token>``) or, with ``query``, a query parameter."""

    header: str = Field("Authorization", description="Header the token is sent in (unless `query` is set).",
                        examples=["Authorization", "PRIVATE-TOKEN"])
    format: str = Field("Bearer {access_token}", description="Template of the header value; `{access_token}` "
                        "is the connection's current access token.", examples=["Bearer {access_token}",
                                                                              "token {access_token}"])
    query: str | None = Field(None, description="Query parameter the token is sent in instead of a header.",
                              examples=["access_token"])


class OAuth2PostTokenSpec(_Strict):
    """A call made with the new access token right after the code exchange; values it answers become
    connection settings (Jira Cloud: the site's cloud id from ``/oauth/token/accessible-resources``)."""

    url: str = Field(description="Template of the URL called (settings only).",
                     examples=["https://api.atlassian.com/oauth/token/accessible-resources"])
    method: Literal["GET", "POST"] = Field("GET", description="HTTP method of the call.", examples=["GET"])
    settings: dict[str, str] = Field(
        description="Connection setting -> JSONPath into the answer; the first match is stored. Nothing "
        "matched leaves the connection `authorized` (it needs that setting) rather than `callable`.",
        examples=[{"cloud_id": "$[0].id", "site_url": "$[0].url"}])


class OAuth2Spec(_Strict):
    """OAuth2 authorization code grant with PKCE and refresh tokens: how a consumer authorizes the app at
    the tracker (``/vault/authorize``) and how the gateway gets, uses and refreshes the tokens."""

    authorize_url: str = Field(description="Template of the provider's authorization endpoint (settings "
                               "only: a self-hosted tracker's base URL).",
                               examples=["https://auth.atlassian.com/authorize",
                                         "{settings.base_url}/oauth/authorize"])
    token_url: str = Field(description="Template of the provider's token endpoint (code exchange and "
                           "refresh).", examples=["https://auth.atlassian.com/oauth/token",
                                                 "https://github.com/login/oauth/access_token"])
    scopes: list[str] = Field(default_factory=list, description="Scopes asked for (an app's OAuth client may "
                              "override them).", examples=[["read:jira-work", "write:jira-work", "offline_access"]])
    scope_separator: str = Field(" ", description="What joins the scopes in the `scope` parameter.",
                                 examples=[",", " "])
    client_auth: Literal["body", "basic"] = Field(
        "body", description="How the app's client id and secret reach the token endpoint: form fields "
        "(`body`) or HTTP Basic (`basic`).", examples=["basic"])
    pkce: bool = Field(True, description="Send a PKCE S256 code challenge (and the verifier at the exchange); "
                       "turn off only for a provider that refuses it.", examples=[False])
    authorize_params: dict[str, str] = Field(
        default_factory=dict, description="Extra authorization request parameters (templates, settings only).",
        examples=[{"audience": "api.atlassian.com", "prompt": "consent"}])
    token_params: dict[str, str] = Field(default_factory=dict, description="Extra token request parameters.",
                                         examples=[{"resource": "https://api.example.com"}])
    placement: OAuth2TokenPlacementSpec = Field(
        default_factory=OAuth2TokenPlacementSpec, description="Where calls carry the access token.",
        examples=[{"header": "Authorization", "format": "Bearer {access_token}"}, {"query": "access_token"}])
    post_token: list[OAuth2PostTokenSpec] = Field(
        default_factory=list, description="Calls made after the code exchange whose answers become settings.",
        examples=[[{"url": "https://api.atlassian.com/oauth/token/accessible-resources",
                    "settings": {"cloud_id": "$[0].id"}}]])
    refresh_skew: float = Field(60.0, description="Seconds before the access token expires when the gateway "
                                "refreshes it ahead of a call.", examples=[300])
    default_expires_in: float | None = Field(
        None, description="Lifetime (seconds) of an access token whose answer has no `expires_in`; null: it "
        "does not expire (refreshed only when the tracker answers 401).", examples=[3600])


class ConnectionSpec(_Strict):
    """What a connection to this tracker configures: named settings and credentials, read by templates."""

    settings: dict[str, SettingSpec] = Field(
        default_factory=dict, description="Plain settings by name, read by templates as `{settings.<name>}` "
        "(a `timeout` setting also overrides `http.timeout`).",
        examples=[{"base_url": {"default": "https://api.acme.example"},
                   "workspace": {"required": True, "description": "workspace slug"}}])
    credentials: dict[str, SettingSpec] = Field(
        default_factory=dict, description="Secrets by name, read by templates as `{credentials.<name>}`; "
        "encrypted at rest and redacted from `_raw`, errors and logs.",
        examples=[{"token": {"required": True, "description": "personal access token"}}])
    oauth2: OAuth2Spec | None = Field(
        None, description="The tracker is connected with OAuth2 (authorization code, PKCE, refresh tokens): "
        "the consumer authorizes at `/vault/authorize`, the tokens are stored as the connection's credentials.",
        examples=[{"authorize_url": "https://linear.app/oauth/authorize",
                   "token_url": "https://api.linear.app/oauth/token", "scopes": ["read", "write"]}])


class MovedSpec(_Strict):
    """A redirect that says where the addressed item went (GitHub's 301 for a renamed repository,
    ``Location: /repositories/{id}``): never followed, read into the error's ``detail.moved_to``."""

    location: str = Field(description="Regular expression searched in the `Location`'s path; its named groups "
                          "become `detail.moved_to`'s keys.", examples=["/repositories/(?P<repository_id>[0-9]+)$"])
    path: str | None = Field(None, description="A GET made (the groups as template variables) to read the item's "
                             "new unified id, added to `detail.moved_to` under `key`.",
                             examples=["/repositories/{repository_id}"])
    id: str = Field("$.id", description="JSONPath to the new id in that answer.", examples=["$.full_name"])
    transform: str | None = Field(None, description="Transform reading that value as the unified id.",
                                  examples=["github_repository_id"])
    key: str = Field("collection_id", description="`detail.moved_to`'s key for the id read.",
                     examples=["collection_id"])


class StatusErrorSpec(_Strict):
    """A downstream status answered as an error of its own, with a message saying what it means."""

    type: Literal["ConnectorExecutionError", "EntityNotFoundError", "ConnectorOperationUnsupportedError"] = Field(
        description="The Apideck error type answered.", examples=["EntityNotFoundError"])
    status: int | None = Field(None, description="ConnectorExecutionError's status (default: the downstream "
                               "4xx, else 502).", examples=[410])
    message: str = Field(description="What the status means to the client; the tracker's own message stays in "
                         "`downstream_errors`.", examples=["issues are disabled in this repository"])
    moved: MovedSpec | None = Field(None, description="A redirect's new location, read into `detail.moved_to`.",
                                    examples=[{"location": "/repositories/(?P<repository_id>[0-9]+)$"}])


class ErrorSpec(_Strict):
    """JSONPaths into a downstream error body; each may match a list (one entry per error)."""

    message: list[str] = Field(
        default_factory=lambda: ["$.message", "$.error.message", "$.error"],
        description="JSONPaths to the error message (a single path is allowed); each match becomes a "
        "`downstream_errors` entry's message.", examples=[["$.error.message", "$.message"], "$.errors"])
    code: list[str] = Field(
        default_factory=lambda: ["$.code", "$.error.code"],
        description="JSONPaths to the tracker's error code (a single path is allowed).",
        examples=["$.error.code"])
    detail: list[str] = Field(
        default_factory=lambda: ["$.detail", "$.details", "$.error.details"],
        description="JSONPaths to the error's details (a single path is allowed).",
        examples=["$.error.details"])
    statuses: dict[int, StatusErrorSpec] = Field(
        default_factory=dict, description="Downstream statuses (a redirect included: never followed) answered as "
        "an error of their own instead of the default for the status.",
        examples=[{"410": {"type": "ConnectorExecutionError", "message": "issues are disabled in this repository"}}])

    @field_validator("message", "code", "detail", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class BasicAuthSpec(_Strict):
    """HTTP Basic auth from templates: sent as ``Authorization: Basic base64(username:password)``."""

    username: str = Field(description="Template of the user name.", examples=["{credentials.username}"])
    password: str = Field(description="Template of the password (redacted like a credential).",
                          examples=["{credentials.password}"])


class AuthSchemeSpec(_Strict):
    """A named auth scheme component puts the credentials on each downstream request (a signature over
    the request, a timestamp): for what `headers`, `query` and `basic_auth` templates cannot say."""

    scheme: str = Field(description="Name of an auth scheme component a plugin registers with its "
                        "`register_auth_schemes` hook (`unigate.kit.AuthScheme`); a name nobody registered fails "
                        "the load.", examples=["acme_hmac"])
    options: dict[str, Any] = Field(default_factory=dict, description="What the scheme is given besides the "
                                    "request and the connection's credentials; strings are templates over "
                                    "`settings` and `credentials`, rendered once per connection.",
                                    examples=[{"key_id": "{credentials.key_id}", "secret": "{credentials.secret}",
                                               "header": "X-Acme-Signature"}])


class RateLimitSpec(_Strict):
    """The tracker's rate-limit headers and refusals: read into Apideck's `x-downstream-ratelimit-*`
    response headers, and refusals other than a 429 (GitHub's 403s) answered as `ConnectorRateLimitError`."""

    limit: str | None = Field(None, description="Response header holding the request quota "
                              "(-> `x-downstream-ratelimit-limit`).", examples=["x-ratelimit-limit"])
    remaining: str | None = Field(None, description="Response header holding the requests left "
                                  "(-> `x-downstream-ratelimit-remaining`).", examples=["x-ratelimit-remaining"])
    reset: str | None = Field(None, description="Response header holding when the quota resets, as a Unix "
                              "time (-> `x-downstream-ratelimit-reset`).", examples=["x-ratelimit-reset"])
    statuses: list[int] = Field(default_factory=list, description="Statuses besides 429 that are a rate limit "
                                "when the answer has `Retry-After`, `remaining` is 0, or its error message "
                                "contains `message`.", examples=[[403]])
    message: str | None = Field(None, description="Text of the error message (case-insensitive) that makes "
                                "one of `statuses` a rate limit.", examples=["rate limit"])
    default_wait: int = Field(60, description="Seconds to wait (`Retry-After` of the answer) when a refusal "
                              "says neither `Retry-After` nor a `reset` time.", examples=[60])


class HttpSpec(_Strict):
    """How the tracker is reached: base URL, headers and query sent on every call, timeout, error body."""

    base_url: str = Field(description="Template of the URL every operation `path` is appended to.",
                          examples=["{settings.base_url}/v2/{settings.workspace}"])
    headers: dict[str, str] = Field(
        default_factory=dict, description="Header templates sent on every call (auth, CSRF headers...).",
        examples=[{"Authorization": "Bearer {credentials.token}", "Origin": "{settings.base_url|origin}"}])
    basic_auth: BasicAuthSpec | None = Field(
        None, description="HTTP Basic credentials; sets the `Authorization` header.",
        examples=[{"username": "{credentials.username}", "password": "{credentials.password}"}])
    auth: AuthSchemeSpec | None = Field(
        None, description="A named auth scheme component completing each request with its credentials (after "
        "`headers` and `query`, before every attempt of a call).",
        examples=[{"scheme": "acme_hmac", "options": {"secret": "{credentials.secret}"}}])
    query: dict[str, str] = Field(default_factory=dict, description="Query parameter templates sent on "
                                  "every call.", examples=[{"api_version": "2"}])
    timeout: float = Field(15.0, description="Seconds to wait for the tracker; a connection's `timeout` "
                           "setting overrides it.", examples=[30])
    errors: ErrorSpec = Field(default_factory=ErrorSpec, description="Where the tracker's error bodies say "
                              "what went wrong (read into `downstream_errors`).",
                              examples=[{"message": ["$.error.message"], "code": "$.error.code"}])
    conditional: bool = Field(False, description="True: GET answers with an `ETag` are kept per connection "
                              "and asked again with `If-None-Match`; a 304 is served from the kept body (GitHub "
                              "does not count 304s against the rate limit).", examples=[True])
    rate_limit: RateLimitSpec | None = Field(
        None, description="The tracker's rate-limit headers and the refusals that are rate limits.",
        examples=[{"limit": "x-ratelimit-limit", "remaining": "x-ratelimit-remaining", "reset": "x-ratelimit-reset",
                   "statuses": [403], "message": "rate limit"}])
    graphql_schema: str | None = Field(None, description="GraphQL schema (SDL) file, relative to the manifest: "
                                       "every `request.document` is validated against it at load.",
                                       examples=["schema.graphql"])
    rate_limit_headers: dict[str, str] = Field(
        default_factory=dict,
        description="The tracker's rate-limit response headers passed on to the client as "
                    "`x-downstream-ratelimit-<name>` (from the last downstream answer that carried them; on error "
                    "answers too): "
                    "`{name: the tracker's header}`.",
        examples=[{"requests-remaining": "x-ratelimit-requests-remaining", "complexity": "x-complexity"}])


class PaginationSpec(_Strict):
    """How a list is paged downstream; the gateway turns the unified cursor and `limit` into these calls."""

    style: str = Field(
        description="`offset`: offset and limit; `page`: page number and size; `cursor`: a next-page token; "
        "`none`: the whole list in one response, sliced by the gateway; `ids`: a page of the `listed` item's "
        "ids, read in one call; any other name: a registered paginator component.", examples=["offset", "ids"])
    limit_param: str | None = Field("limit", description="Query parameter of the page size; null: the "
                                    "tracker takes none.", examples=["per_page"])
    offset_param: str = Field("offset", description="Query parameter of the offset (`offset` style).",
                              examples=["start"])
    page_param: str = Field("page", description="Query parameter of the page number (`page` style).",
                            examples=["page"])
    first_page: int = Field(1, description="Number of the first page (`page` style).", examples=[0])
    max_limit: int = Field(100, description="Largest page size the tracker serves; a larger unified `limit` "
                           "is capped (offset style: several calls).", examples=[50])
    total: str | None = Field(None, description="JSONPath to the total count: fills `meta.total_count` and "
                              "ends paging exactly.", examples=["$.total_count"])
    page_count: str | None = Field(None, description="JSONPath to the number of pages (`page` style): paging "
                                   "stops after the last.", examples=["$.meta.pages"])
    next_token: str | None = Field(None, description="JSONPath to the next-page token (`cursor` style); "
                                   "absent or empty ends the list.", examples=["$.meta.next_cursor"])
    token_param: str = Field("cursor", description="Query parameter the next-page token is sent in "
                             "(`cursor` style).", examples=["after"])
    total_unknown: int | None = Field(None, description="A `total` value meaning \"not counted\" (paging then "
                                      "ends by a short page).", examples=[-1])
    ids: str | None = Field(None, description="`ids` style: JSONPath of the ids in the operation's `listed` item.",
                            examples=["$.messages[*].id"])
    id_param: str = Field("id", description="`ids` style: the query parameter repeated once per id of the page.",
                          examples=["id"])
    options: dict[str, Any] = Field(default_factory=dict, description="Options given to a paginator component.",
                                    examples=[{"page_size": 50}])

    @model_validator(mode="after")
    def _ids_path(self) -> PaginationSpec:
        if (self.style == "ids") != (self.ids is not None):
            raise ValueError("`ids` goes with (and is needed by) style ids")
        return self


class FilterSpec(_Strict):
    """How one unified filter (`status`, `since`, `assignee_id`) is sent as a query parameter."""

    param: str = Field(description="The query parameter the filter is sent in.", examples=["state"])
    values: dict[str, list[Any] | None] | None = Field(
        None, description="`status` only: unified status -> the downstream values it means (null or []: "
        "no parameter); an unlisted status is sent as given unless `strict`.",
        examples=[{"open": ["new", "doing"], "closed": ["done"]}])
    strict: bool = Field(False, description="`status` only: a status not in `values` is refused with "
                         "`UnsupportedFiltersError` instead of being sent as given.", examples=[True])
    multiple: Literal["join", "repeat", "single"] = Field(
        "join", description="Several `status` values: `join` with `separator` into one parameter, `repeat` "
        "the parameter, or `single` (more than one is refused).", examples=["repeat"])
    separator: str = Field(",", description="What `multiple: join` joins values with.", examples=["|"])
    format: str | None = Field(
        None, description="`since` only: how the timestamp is written: `iso` (default), `iso_ms`, `date`, `epoch`, "
        "`epoch_ms`, or a strftime pattern (UTC; other characters sent as written).",
        examples=["epoch", "%Y-%m-%d.%H:%M:%S;"])
    value: str | None = Field(None, description="Template of the sent value; `{value}` is the (formatted, joined) "
                              "filter value.", examples=[">={value}"])
    default: str | None = Field(None, description="Sent when the request has no such filter (or status `all`).",
                                examples=["*"])
    recheck: bool = Field(False, description="`since` only: the tracker's answer may hold records updated before "
                          "the sent time (it compares at a precision it does not show); each page drops records "
                          "whose unified `updated_at` is earlier. Pages may then come short (cursors stay exact) "
                          "and `total_count` is left out.", examples=[True])
    lookup: FieldLookupSpec | None = Field(None, description="`status` only: the unified values are the ids of the lookup's "
                                           "records (by `unified`, else by `by`); unknown -> 400.",
                                           examples=[{"name": "statuses", "unified": "redmine_status"}])


class EmulationSpec(_Strict):
    """`all`: what the engine does for a list beyond what the tracker can be asked (docs/mapping-files.md,
    "Changes since T and fanned-out filters")."""

    since: bool = Field(True, description="Serve `filter[since]` when `filters` does not declare it: by reading "
                        "the list newest-updated first and stopping at the first record updated before T (when it "
                        "can be sorted by `updated_at` desc), else by a bounded scan keeping records whose unified "
                        "`updated_at` is at or after T. false: an undeclared since is refused.", examples=[False])
    fan_out: bool = Field(True, description="A `status` filter with `multiple: single` asked for a unified status "
                          "meaning several tracker statuses: one call per status, merged in the list's order "
                          "(or, without a known order, a bounded scan of the whole list keeping those statuses). "
                          "false: refused as before.", examples=[False])
    scan_limit: int = Field(5000, ge=1, description="Most downstream records one request may read and drop while "
                            "emulating a filter by scanning; past it the request fails with "
                            "`UnsupportedFiltersError` (reason `scan_limit`), never a short answer.",
                            examples=[20000])


class SortSpec(_Strict):
    """How a unified `sort[by]`/`sort[direction]` is sent, and which orders the list already comes in."""

    param: str | None = Field(None, description="Query parameter of the sort field; absent: the tracker "
                              "cannot be asked to sort (only `natural` orders are served).", examples=["sort"])
    fields: dict[str, str] = Field(default_factory=dict, description="Unified sort field -> downstream "
                                   "value; needs `param`.",
                                   examples=[{"created_at": "created", "updated_at": "updated"}])
    direction_param: str | None = Field(None, description="Query parameter of the direction; absent: the "
                                        "direction is a `-` prefix on the field for desc.", examples=["order"])
    directions: dict[str, str] = Field(
        default_factory=lambda: {"asc": "asc", "desc": "desc"},
        description="Unified direction -> the value sent in `direction_param`.",
        examples=[{"asc": "ASC", "desc": "DESC"}])
    natural: list[str] = Field(
        default_factory=list, description="Orders the list already comes in without a parameter, as "
        "`<created_at|updated_at|name> <asc|desc>`; asking for one sends nothing.", examples=[["created_at desc"]])
    default: str | None = Field(None, description="What `sort[direction]` alone sorts by; else the field of "
                                "the first `natural` order.", examples=["updated_at"])
    format: str | None = Field(None, description="One parameter carrying field and direction (and tie-breakers): "
                               "`{field}` and `{direction}` are replaced.",
                               examples=["{field}:{direction},id:{direction}"])

    @model_validator(mode="after")
    def _param_for_fields(self) -> SortSpec:
        if self.fields and self.param is None:
            raise ValueError("sort `fields` need a `param` to send them in")
        for order in self.natural:
            by, _, direction = order.partition(" ")
            if by not in SORT_FIELDS or direction not in UNIFIED.sort_directions:
                raise ValueError(f"natural order {order!r} must be '<{'|'.join(SORT_FIELDS)}> <asc|desc>'")
        if self.default is not None and self.default not in self.fields \
                and not any(o.partition(" ")[0] == self.default for o in self.natural):
            raise ValueError(f"default sort field {self.default!r} is neither in `fields` nor a `natural` order")
        return self

    @property
    def default_field(self) -> str | None:
        """The field a direction alone (``sort[direction]`` without ``sort[by]``) sorts by."""
        return self.default or (self.natural[0].partition(" ")[0] if self.natural else None)


class SplitCallSpec(_Strict):
    """Part of an update sent to its own endpoint (e.g. a status sub-resource)."""

    call_id: str = Field(description="Id of this call (in logs, `_raw`, and `pass_through` `operation_id`).",
                         examples=["tickets_update_status"])
    fields: list[str] = Field(description="Downstream body keys moved from the update's body to this call.",
                              examples=[["status"]])
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field("PATCH", description="HTTP method of "
                                                                     "this call.", examples=["POST"])
    path: str = Field(description="Path template of this call, appended to `http.base_url`.",
                      examples=["/tickets/{ticket_id}/status"])


class MatchSpec(_Strict):
    """Pick one element of the selected list: the one whose ``path`` equals ``value`` (a template)."""

    path: str = Field(description="JSONPath into each element of the list `record` selects.", examples=["$.id"])
    value: str = Field(description="Template the element's value must equal (compared as text); none equal: "
                       "404 `EntityNotFoundError`.", examples=["{id}"])


class OperationSpec(_Strict):
    """One unified operation (`all`, `one`, `add`, `update`, `delete`) as the downstream call it makes."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field("GET", description="HTTP method of the "
                                                                     "call.", examples=["POST"])
    path: str | None = Field(None, description="Path template appended to `http.base_url` (values URL-"
                             "encoded); required unless `static`.", examples=["/projects/{collection_id}/issues"])
    call_id: str | None = Field(None, description="Id of the call (logs, `_raw`, `pass_through` "
                                "`operation_id`); default `<resource>_<operation>`.", examples=["issues_list"])
    query: dict[str, Any] = Field(default_factory=dict, description="Query parameters (values are "
                                  "templates) sent with the call.", examples=[{"include": "labels"}])
    body: dict[str, Any] = Field(default_factory=dict, description="Body constants: JSONPath -> value or "
                                 "template, merged with the mapped fields (add/update); on `delete`, sent as its body (an action).",
                                 examples=[{"$.source": "api"}])
    wrap: str | None = Field(None, description="JSONPath the mapped fields are written under (e.g. "
                             "`{\"issue\": {...}}`); body constants must then be inside it.", examples=["$.issue"])
    records: str | None = Field(None, description="`all`: JSONPath selecting the list of records in the "
                                "response.", examples=["$.data"])
    record: str | None = Field(None, description="`one`/`add`/`update`: JSONPath selecting the record in the "
                               "response (default: the whole body).", examples=["$.issue"])
    match: MatchSpec | None = Field(None, description="`one`: pick from the list `record` selects the element "
                                    "that matches (else 404); on a single record, it must match (else 404).",
                                    examples=[{"path": "$.id", "value": "{id}"}])
    omit: list[str] = Field(default_factory=list, description="Unified fields these records lack (list "
                            "summaries): left out of each record rather than reported empty.",
                            examples=[["tags"]])
    id: str | None = Field(None, description="`add`: JSONPath to the new record's id in the response, when "
                           "the response is not the record.", examples=["$.id"])
    pagination: PaginationSpec | None = Field(None, description="`all`: how the list is paged downstream.",
                                              examples=[{"style": "offset", "max_limit": 100,
                                                         "total": "$.total_count"}])
    filters: dict[FilterName, FilterSpec] = Field(
        default_factory=dict, description="`all`: the unified filters the tracker supports, by name; any "
        "other filter is refused with `UnsupportedFiltersError`.",
        examples=[{"since": {"param": "updated_after", "format": "iso"}, "assignee_id": {"param": "assignee"}}])
    emulation: EmulationSpec = Field(
        default_factory=EmulationSpec, description="`all`: filters the engine serves itself when the tracker "
        "cannot (an undeclared `since`, a several-valued `status` one value per call), and the scan bound.",
        examples=[{"scan_limit": 20000}, {"since": False}])
    sort: SortSpec | None = Field(None, description="`all`: how the list can be sorted; absent: any sort is "
                                  "refused with `UnsupportedSortFieldError`.",
                                  examples=[{"param": "sort", "fields": {"created_at": "created"},
                                             "direction_param": "order"}])
    split: list[SplitCallSpec] = Field(default_factory=list, description="`update`: body keys sent to their "
                                       "own endpoints, each as its own call.",
                                       examples=[[{"call_id": "tickets_update_status", "fields": ["state"],
                                                   "method": "POST", "path": "/issues/{ticket_id}/transition"}]])
    static: list[dict[str, Any]] | None = Field(
        None, description="Downstream records served without a call (mapped by `fields` like any record; "
        "values may be templates); `one` finds its record by id.",
        examples=[[{"id": "issue", "name": "Issues", "type": "tracker"}]])
    empty_body: bool = Field(False, description="Declared for calls sent without a body; not read by the "
                             "engine (deletes are sent without a body regardless).", examples=[True])
    writes: list[str] | None = Field(None, description="`add`/`update`: the only unified fields written; "
                                     "others are dropped with a `meta.warnings` entry.", examples=[["status"]])
    collection_check: str | CheckCallSpec | None = Field(
        None, description="JSONPath of the collection in tickets.one's ticket, or a check call whose list must hold "
        "the ticket", examples=["$.project.key", {
            "path": "/issues.json", "query": {"issue_id": "{ticket_id}"}, "records": "$.issues",
            "match": {"path": "$.id", "value": "{ticket_id}"}}])
    exists_check: str | None = Field(None, description="`update`/`delete`: first read this resource's `one` under this "
                                     "call id; its not-found is the answer, nothing written.",
                                     examples=["comments_update_journal_check"])
    keep: list[ConditionSpec] = Field(default_factory=list, description="`all`/`one`: only the downstream records "
                                      "meeting every condition (paging counts kept records; needs pagination none).",
                                      examples=[[{"path": "$.notes", "not_blank": True}]])
    read_back: ReadBackSpec | None = Field(None, description="`add`: the new id read back after the write.",
                                           examples=[{"call_id": "comments_add_lookup",
                                                      "path": "/issues/{ticket_id}.json", "records": "$.issue.journals",
                                                      "match": "$.notes", "sent": "$.issue.notes"}])
    resend: list[ResendSpec] = Field(default_factory=list, description="`add`: values the tracker ignores on create, "
                                     "sent again with an update.", examples=[[{"call_id": "tickets_add_status",
                                     "sent": "$.issue.status_id", "created": "$.issue.status.id"}]])
    collection_exists: bool = Field(
        False, description="`all`/`add`: an empty page, a refused list or a refused create reads `collections.one`; "
        "its 404 is the answer.", examples=[True])
    prepare: list[PrepareStepSpec] = Field(
        default_factory=list, description="Steps run on the downstream records before they are mapped (reads) "
        "or on the downstream body before it is sent (writes), in order.",
        examples=[[{"use": "roundup_element"}, {"attach": {"into": "first_message", "call_id": "tickets_one_description",
                                                          "path": "/msg", "ids": "$.messages[*].id", "pick": "lowest"}}]])
    request: RequestSpec | None = Field(None, description="How the call is sent: style (rest, graphql, a request "
                                        "component), form body, If-Match.", examples=[{"content_type": "form"}])
    listed: ListedSpec | None = Field(None, description="The addressed item exists only if this list shows it "
                                      "(else 404; before any other call, on `one` after its own read).",
                                      examples=[{"call_id": "tickets_one_retired", "path": "/issue",
                                                 "query": {"id": "{ticket_id}"}, "records": "$.data.collection",
                                                 "match": {"path": "$.id", "value": "{ticket_id}"}}])
    then: list[ThenCallSpec] = Field(default_factory=list, description="`add`: calls made after the create, in "
                                     "order (`{new_id}` is the created id).",
                                     examples=[[{"call_id": "comments_add_link", "path": "/issue/{ticket_id}",
                                                 "body": {"@op": "add", "messages": ["{new_id}"]}}]])

    @model_validator(mode="after")
    def _path_or_static(self) -> OperationSpec:
        if self.static is None and self.path is None:
            raise ValueError("an operation needs a `path` (or `static` records)")
        if self.wrap is not None and self.split:
            raise ValueError("`split` moves top-level body keys: it cannot be combined with `wrap`")
        return self


class FieldSpec(_Strict):
    """One unified field. ``path`` both ways, or ``read``/``write`` separately (a bare string is ``path``)."""

    path: str | None = Field(None, description="JSONPath in the downstream record, read and written.",
                             examples=["$.subject"])
    read: str | None = Field(None, description="JSONPath read from (instead of `path`).",
                             examples=["$.status.name"])
    write: str | None = Field(None, description="JSONPath written to (instead of `path`); a field with "
                              "neither `write` nor `path` is read-only.", examples=["$.status_id"])
    map: dict[str | int, Any] | None = Field(None, description="Read: downstream value -> unified value.",
                                             examples=[{"Low": "low", "Urgent": "urgent", "Immediate": "urgent"}])
    write_map: dict[str, Any] | None = Field(
        None, description="Write: unified value -> downstream value; default the inverse of `map` (required "
        "when `map` is many-to-one).", examples=[{"low": 1, "normal": 2, "urgent": 4}])
    unmapped: Literal["pass", "null"] = Field("pass", description="Read: a value outside `map` passes through "
                                              "as is (`pass`) or reads null.", examples=["null"])
    write_unmapped: Literal["pass", "drop"] = Field(
        "pass", description="Write: a value outside `write_map` is sent as given (`pass`) or not sent and "
        "warned about (`drop`).", examples=["drop"])
    transform: str | dict[str, Any] | None = Field(
        None, description="A named transform (`string`, `id`, `integer`, `boolean`, `datetime`, `date`, "
        "`assignees`, `tags`, or a registered one), or `{name: ..., <options>}`.",
        examples=["datetime", {"name": "assignees", "id": "$.id", "username": "$.login", "write": "single"}])
    default: Any = Field(None, description="Read: the value when the path matches nothing or null.",
                         examples=["open"])
    value: str | None = Field(None, description="Read: a template instead of a path.",
                              examples=["{collection_id}"])
    clear: Any = Field(
        None, description="Update: what a null (or [] for assignees/tags) is sent as, or `unsupported` "
        "(refused, 400). Not declared: the transform's empty value.", examples=["", "unsupported"])
    lookup: FieldLookupSpec | None = Field(None, description="Write: the value is matched to a record of a "
                                           "manifest-level lookup and its id sent; unknown -> 400 naming the known.",
                                           examples=[{"name": "priorities", "by": ["name", "id"]}])
    required: bool = Field(False, description="Write: must be sent on create, and never blank (400 before any call).",
                           examples=[True])
    create_only: bool = Field(False, description="Write: set on create only; an update of it is a 400.",
                              examples=[True])
    refused: str | None = Field(None, description="Write: any value is refused with a 400 saying this.",
                                examples=["computed by the tracker"])

    @property
    def clear_declared(self) -> bool:
        return "clear" in self.model_fields_set

    @property
    def clear_unsupported(self) -> bool:
        return self.clear_declared and self.clear == CLEAR_UNSUPPORTED

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"path": data} if isinstance(data, str) else data

    @property
    def read_path(self) -> str | None:
        return self.read or self.path

    @property
    def write_path(self) -> str | None:
        return self.write or self.path


class ResourceSpec(_Strict):
    """One unified resource: its fields both ways and its operations (absent operations answer 501)."""

    fields: dict[str, FieldSpec] = Field(
        default_factory=dict, description="Unified field name (see `UNIFIED_FIELDS`) -> how it maps; a string "
        "is shorthand for `{path: ...}`.",
        examples=[{"subject": "$.title", "created_at": {"read": "$.created", "transform": "datetime"}}])
    notes: dict[str, str] = Field(
        default_factory=dict, description="Why a unified field is not stored: the message of the "
        "`meta.warnings` entry a write of it gets.",
        examples=[{"priority": "read-only in Opine: derived from the linked deals"}])
    operations: dict[OperationName, OperationSpec] = Field(
        default_factory=dict, description="The operations the tracker supports, by unified operation name.",
        examples=[{"one": {"path": "/issues/{ticket_id}", "record": "$.data"}}])
    null_as: Any = Field(None, description="What a null left in a write's downstream body (custom_mappings, fields "
                         "without `clear`) is sent as; a field's `clear` decides for that field.", examples=[""])
    list_lookups: list[ListLookupSpec] = Field(default_factory=list, description="Entries of a downstream list "
                                               "written by name get the looked-up id.",
                                               examples=[[{"path": "$.issue.custom_fields", "key": "name",
                                                           "lookup": {"name": "custom_fields", "by": ["name"]}}]])

    @property
    def null_as_declared(self) -> bool:
        return "null_as" in self.model_fields_set


class MappingFile(_Strict):
    """A connector manifest: how a tracker is reached and how its records map to unified ones, both ways."""

    service_id: str = Field(pattern=r"^[a-z][a-z0-9-]*$", description="The `x-apideck-service-id` clients "
                            "use to pick this connector.", examples=["acme"])
    name: str = Field(description="Human-readable tracker name.", examples=["Acme Tracker"])
    website: str | None = Field(None, description="The tracker's (API documentation) site.",
                                examples=["https://www.redmine.org"])
    connection: ConnectionSpec = Field(default_factory=ConnectionSpec, description="The settings and "
                                       "credentials a connection configures.",
                                       examples=[{"credentials": {"token": {"required": True}}}])
    http: HttpSpec = Field(description="How the tracker is reached.",
                           examples=[{"base_url": "{settings.base_url}/api",
                                      "headers": {"Authorization": "Bearer {credentials.token}"}}])
    resources: dict[ResourceName, ResourceSpec] = Field(
        description="The unified resources the tracker serves, by name.",
        examples=[{"tags": {"fields": {"id": "$.id", "name": "$.name"},
                            "operations": {"all": {"path": "/labels", "records": "$.data"}}}}])
    lookups: dict[str, LookupSpec] = Field(default_factory=dict, description="Reference lists fields and filters "
                                           "look values up in (by name).", examples=[{"statuses": {
                                               "call_id": "statuses_lookup", "path": "/issue_statuses.json",
                                               "records": "$.issue_statuses"}}])


class MappingFileError(ValueError):
    """A mapping file is invalid. ``problems`` holds (key path, message) pairs."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {source}: {where or '<root>'}: {what}" for where, what in problems)
        super().__init__(f"invalid mapping file {source}:\n{lines}")


def parse_mapping(data: Any, source: str) -> MappingFile:
    try:
        spec = MappingFile.model_validate(data)
    except ValidationError as exc:
        raise MappingFileError(source, [(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()]) from None
    from unigate.mapping.checks import semantic_problems  # late: checks compiles paths/transforms
    from unigate.mapping.checks_steps import step_problems

    problems = semantic_problems(spec) + step_problems(spec, source)
    if problems:
        raise MappingFileError(source, problems)
    return spec


def load_mapping_file(path: str | Path) -> MappingFile:
    path = Path(path)
    try:
        data = yaml.load(path.read_text(), Loader=_YAML_LOADER)  # noqa: S506 - a safe loader, libyaml's if built
    except FileNotFoundError:
        raise MappingFileError(str(path), [("", "file not found")]) from None
    except yaml.YAMLError as exc:
        raise MappingFileError(str(path), [("", f"not valid YAML: {exc}")]) from None
    return parse_mapping(data, str(path))
