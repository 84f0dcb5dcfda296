"""GitHub's named components: what its manifest cannot say in data.

- ``github_link`` (paginator): ``page``/``per_page`` paging that follows the ``Link`` header's
  ``rel="next"`` (GitHub gives no totals) and drops the records a ``drop`` key marks (pull
  requests are in issue lists, marked by ``pull_request``), so a unified page holds ``limit``
  issues and cursors stay exact: a cursor is (page number and size, records of it consumed).
- ``github_repository_id`` (transform): a repository's ``full_name`` (``octocat/Hello-World``) read
  as a path-safe collection id ``octocat~Hello-World`` (paths take it back with ``{collection_id|pair}``).
- ``github_number_in_url`` (transform): the issue number at the end of an API URL (``parent_issue_url``).
- ``github_labels`` (preparer): GitHub has open/closed (and a ``state_reason``) and labels, no
  priority nor in-progress state: those are label conventions (options ``in_progress`` and
  ``priorities``, the gateway's defaults: ``in progress``, ``priority: <level>``), read by the
  gateway's built-in ``label_status``, ``label_priority`` and ``label_tags`` (``tag_id: label``)
  transforms; tags are the other labels. On a write the preparer turns ``_status`` and
  ``_priority`` into ``state``/``state_reason`` and labels, and tag ids into label names, keeping
  the labels a write does not touch (an update reads the issue's labels first).
- ``github_issue_fields`` (preparer): issue field values written through ``custom_mappings`` are
  sent with the key GitHub takes (``field_id``), having been read with the one it gives
  (``issue_field_id``).
"""

from __future__ import annotations

import re
from typing import Any, NoReturn
from urllib.parse import quote

from unigate.kit import (
    CursorPosition,
    DownstreamCall,
    EntityNotFoundError,
    LabelConventions,
    OperationContext,
    PageRequest,
    RequestValidationError,
    Transform,
    Window,
    is_dropped,
    label_names,
    page_start,
    status_label_filter,
)

STATUSES = {"open": ("open", None), "in_progress": ("open", None), "closed": ("closed", None),
            "not_planned": ("closed", "not_planned")}   # closing without a reason: GitHub's completed
_NEXT = re.compile(r'<[^>]*>\s*;\s*rel="?next"?')
MAX_CALLS = 50      # pages read for one unified page or one lookup (5,000 labels at 100 a page)
LOOKUP_TTL = 300.0  # seconds a repository's labels are kept per connection
SHOWN_LABELS = 20   # labels an unknown-id error names


def _as_given(value: Any) -> Any:
    return value


# -- transforms ----------------------------------------------------------------------------------
def repository_id(options: dict[str, Any]) -> Transform:
    return Transform(lambda name: None if name is None else str(name).replace("/", "~"), _as_given)


def number_in_url(options: dict[str, Any]) -> Transform:
    return Transform(lambda url: None if not url else str(url).rstrip("/").rsplit("/", 1)[-1], _as_given)


LEVELS = ("urgent", "high", "normal", "low")


def level_of_option(name: Any) -> str | None:
    """The unified priority an issue field's option name stands for (``Medium`` is normal)."""
    text = str(name or "").casefold()
    return "normal" if text == "medium" else text if text in LEVELS else None


def issue_priority(options: dict[str, Any]) -> Transform:
    """``github_priority`` (transform on the issue): the option of the organisation's single-select
    issue field named ``field`` where the issue has a value, else the label convention's level."""
    conventions, field = LabelConventions(options), str(options.get("field") or "").casefold()

    def read(issue: Any) -> Any:
        if not isinstance(issue, dict):
            return None
        for value in (issue.get("issue_field_values") or []) if field else []:
            if isinstance(value, dict) and str(value.get("issue_field_name", "")).casefold() == field:
                level = level_of_option((value.get("single_select_option") or {}).get("name"))
                if level is not None:
                    return level
        return conventions.priority(label_names(issue.get("labels")))

    return Transform(read, _as_given)


def raise_invalid(field: str, message: str) -> NoReturn:
    raise RequestValidationError("Invalid field value", {field: message})


# -- paginator -----------------------------------------------------------------------------------
async def link_pages(page: PageRequest) -> Window:
    """``page``/``per_page`` paging along ``Link: rel="next"``; records with the ``drop`` key skipped."""
    p, drop = page.pagination, page.pagination.options.get("drop")
    number, size, skip = page_start(page)
    extra, hidden_label = status_label_filter(page)
    collected: list[Any] = []
    for _ in range(MAX_CALLS):
        response = await page.fetch([*extra, (p.page_param, str(number)), (p.limit_param or "per_page", str(size))])
        items = response.body if isinstance(response.body, list) else []
        for index in range(skip, len(items)):
            if len(collected) == page.limit:
                return Window(collected, CursorPosition(token=f"{number}:{size}", skip=index), None)
            if not is_dropped(items[index], drop, hidden_label):
                collected.append(items[index])
        if not _NEXT.search(response.headers.get("link", "")):
            return Window(collected, None, None)
        number, skip = number + 1, 0
        if len(collected) == page.limit:
            break
    return Window(collected, CursorPosition(token=f"{number}:{size}", skip=skip), None)


# -- preparers -------------------------------------------------------------------------------------
LABELS_PATH = "/repos/{collection_id|pair}/labels"
ISSUE_PATH = "/repos/{collection_id|pair}/issues/{ticket_id|int}"
_UNSET = object()


class _Current:
    """The issue an update addresses, read once when a write needs it (``tickets_update_labels``);
    a create's is empty."""

    def __init__(self, connector: Any, ctx: Any) -> None:
        self.connector, self.ctx = connector, ctx
        self.issue: dict[str, Any] | None = None

    async def read(self) -> dict[str, Any]:
        if self.issue is None:
            self.issue = await self._fetch() if self.ctx.request.operation == "update" else {}
        return self.issue

    async def _fetch(self) -> dict[str, Any]:
        response = await self.ctx.call("tickets_update_labels", "GET", self.connector.path(self.ctx, ISSUE_PATH))
        return response.body if isinstance(response.body, dict) else {}

    async def labels(self) -> list[str]:
        return label_names((await self.read()).get("labels"))


async def labels_for_write(connector: Any, ctx: Any, records: list[Any], options: dict[str, Any]) -> list[Any]:
    """A write body's ``_status``, ``_priority`` and tag ids -> ``state``/``state_reason`` and ``labels``."""
    body, conventions, issue = records[0], LabelConventions(options), _Current(connector, ctx)
    wanted_status, wanted_priority = body.pop("_status", _UNSET), body.pop("_priority", _UNSET)
    tags_sent = body.pop("labels", _UNSET)
    if wanted_priority is not _UNSET and await _priority_in_field(connector, ctx, body, wanted_priority, options, issue):
        wanted_priority = _UNSET   # held in the organisation's issue field: the labels stay as they are
    if wanted_status is not _UNSET:
        body.update(_state(wanted_status))
    if wanted_status is _UNSET and wanted_priority is _UNSET and tags_sent is _UNSET:
        return records
    current = await issue.labels()
    names = ([n for n in current if not conventions.is_convention(n)] if tags_sent is _UNSET
             else await _tag_names(connector, ctx, tags_sent))
    names += _priority_labels(conventions, current, wanted_priority)
    if (wanted_status is _UNSET and conventions.has_in_progress(current)) or wanted_status == "in_progress":
        names.append(conventions.in_progress)
    names = list(dict.fromkeys(names))
    if tags_sent is not _UNSET or sorted(names) != sorted(current):   # labels unchanged: not sent
        body["labels"] = names
    return records


async def _priority_in_field(connector: Any, ctx: Any, body: dict[str, Any], wanted: Any,
                             options: dict[str, Any], issue: _Current) -> bool:
    """Write the priority as the organisation's single-select issue field named by the option
    ``priority_field`` (a connection setting) when the repository's owner has one; False: it has
    none (a user's repository, or the setting is empty), the label convention applies. Null clears
    the issue's value of the field (``_clear_field``: a DELETE after the write, GitHub's create and
    update taking no empty value) and, returning False, any priority label too (the read falls back
    to the labels)."""
    field = await _priority_field(connector, ctx, options)
    if field is None:
        return False
    if wanted is None:
        if any(v.get("issue_field_id") == field["id"] for v in (await issue.read()).get("issue_field_values") or []
               if isinstance(v, dict)):
            body["_clear_field"] = field["id"]
        return False
    option = next((o for o in field.get("options") or [] if level_of_option(o.get("name")) == wanted), None)
    if option is None:
        raise_invalid("priority", f"one of {', '.join(LEVELS)} with an option of the issue field {field['name']!r} "
                                  f"({', '.join(str(o.get('name')) for o in field.get('options') or [])})")
    body.setdefault("issue_field_values", []).append({"field_id": field["id"], "value": option["name"]})
    return True


async def _priority_field(connector: Any, ctx: Any, options: dict[str, Any]) -> dict[str, Any] | None:
    """The single-select issue field ``priority_field`` of the repository's organisation (None: no
    setting, a user's repository, or an organisation without that field)."""
    name = str(options.get("priority_field") or "")
    owner = str(ctx.request.path_params.get("collection_id", "")).split("~")[0]
    if not name or not owner:
        return None
    try:
        fields = await connector.lookup(ctx, "issue_fields_lookup", f"/orgs/{quote(owner, safe='')}/issue-fields", "$")
    except EntityNotFoundError:
        return None   # not an organisation: no issue fields
    return next((f for f in fields if str(f.get("name", "")).casefold() == name.casefold()
                 and f.get("data_type") == "single_select"), None)


def _state(wanted: Any) -> dict[str, Any]:
    if wanted not in STATUSES:
        raise_invalid("status", f"one of {', '.join(STATUSES)} (GitHub has open and closed issues; in_progress "
                                f"is a label, not_planned a reason for closing)")
    state, reason = STATUSES[wanted]
    return {"state": state, "state_reason": reason} if reason else {"state": state}


def _priority_labels(conventions: LabelConventions, current: list[str], wanted: Any) -> list[str]:
    if wanted is _UNSET:
        return [n for n in current if n.casefold() in conventions.priority_of]
    if wanted is None:
        return []
    if wanted not in conventions.priorities:
        raise_invalid("priority", f"one of {', '.join(conventions.priorities)} (labels "
                                  f"{', '.join(conventions.priorities.values())})")
    return [conventions.priorities[wanted]]


async def _tag_names(connector: Any, ctx: Any, tags_sent: Any) -> list[str]:
    """Label names of the tags written: by id (GitHub's label id), else by name."""
    if not tags_sent:
        return []
    by_id = {str(label.get("id")): str(label.get("name")) for label in await repository_labels(connector, ctx)}
    names = []
    for tag in tags_sent:
        if tag.get("id") is not None and str(tag["id"]) not in by_id:
            shown = [f"{i} ({n})" for i, n in list(by_id.items())[:SHOWN_LABELS]]
            raise_invalid("tags", f"no label has the id {tag['id']!r}; known: " + ", ".join(shown)
                          + (f" and {len(by_id) - SHOWN_LABELS} more" if len(by_id) > SHOWN_LABELS else ""))
        names.append(by_id[str(tag["id"])] if tag.get("id") is not None else str(tag["name"]))
    return names


async def repository_labels(connector: Any, ctx: Any) -> list[dict[str, Any]]:
    """Every label of the repository, page after page along ``Link: rel="next"`` (100 a page),
    kept per connection for five minutes like any lookup."""
    path = connector.path(ctx, LABELS_PATH)
    key = (ctx.connection.id, ctx.connection.revision, "labels_lookup", path, ())
    cached: list[dict[str, Any]] | None = ctx.lookups.get(key)
    if cached is not None:
        return cached
    labels: list[dict[str, Any]] = []
    for number in range(1, MAX_CALLS + 1):
        response = await ctx.call("labels_lookup", "GET", path, params=[("per_page", "100"), ("page", str(number))])
        labels += [label for label in response.body if isinstance(label, dict)] if isinstance(response.body, list) else []
        if not _NEXT.search(response.headers.get("link", "")):
            break
    ctx.lookups.put(key, labels, LOOKUP_TTL)
    return labels


async def issue_field_values(connector: Any, ctx: Any, records: list[Any], options: dict[str, Any]) -> list[Any]:
    """Issue field values written back through ``custom_mappings``: GitHub reads them as
    ``{issue_field_id, value}`` and takes them as ``{field_id, value}``, so a custom mapping
    ``$.issue_field_values[?(@.issue_field_id == 1)].value`` serves both ways."""
    for entry in records[0].get("issue_field_values") or []:
        if isinstance(entry, dict) and "issue_field_id" in entry:
            entry["field_id"] = entry.pop("issue_field_id")
    return records


# -- request: the issue write, then its sub-issue link ------------------------------------------
ISSUES_PATH = "/repos/{collection_id|pair}/issues"


async def issue_write(ctx: OperationContext, call: DownstreamCall, options: dict[str, Any]) -> Any:
    """The create (POST) or edit (PATCH); a ``parent_id`` written (``_parent``) is checked first (an
    issue of this repository, not a pull request, not the issue itself), then linked after the write
    through the sub-issues endpoints, which take the child's issue **id**. A priority field value
    cleared (``_clear_field``) is deleted after the write (``tickets_priority_clear``). An edit
    changing nothing else is not patched (the issue is read instead when the parent changes); a
    call failing after another succeeded is reported partly applied, naming the calls made."""
    body = dict(call.body or {})
    wanted, clear = body.pop("_parent", _UNSET), body.pop("_clear_field", None)
    parent = None if wanted is _UNSET else await _checked_parent(ctx, wanted)
    response = None
    if body or call.method == "POST" or ctx.targeted(call.call_id):
        response = await _send(ctx, call, body)
    if clear is not None:
        cleared = await ctx.call("tickets_priority_clear", "DELETE", f"{call.path}/issue-field-values/{int(clear)}")
        response = response or cleared
    if wanted is _UNSET:
        return response
    if response is None or not isinstance(response.body, dict):
        response = await ctx.call("tickets_parent_child", "GET", call.path)
    await _link(ctx, response.body if isinstance(response.body, dict) else {}, parent)
    return response


async def _send(ctx: OperationContext, call: DownstreamCall, body: dict[str, Any]) -> Any:
    return await ctx.call(call.call_id, call.method, call.path, params=call.params, body=body,
                          pass_through_applied=call.pass_through_applied)


async def _checked_parent(ctx: OperationContext, wanted: Any) -> str | None:
    """The parent's issue number (None: no parent), refused (400) before any write unless it is an
    issue of this repository other than the ticket itself."""
    if wanted is None:
        return None
    number = str(wanted)
    if not number.isdigit() or number == ctx.request.path_params.get("ticket_id"):
        raise_invalid("parent_id", "the number of another issue of this repository")
    try:
        found = await ctx.call("tickets_parent_check", "GET", f"{ctx.path(ISSUES_PATH)}/{number}")
    except EntityNotFoundError:
        found = None
    if found is None or not isinstance(found.body, dict) or found.body.get("pull_request"):
        raise_invalid("parent_id", f"this repository has no issue {number} (a pull request cannot be a parent)")
    return number


async def _link(ctx: OperationContext, issue: dict[str, Any], parent: str | None) -> None:
    """Make ``parent`` the issue's parent (replacing another) or, None, unlink it from its parent."""
    current = number_in_url({}).read(issue.get("parent_issue_url"))
    if current == parent:
        return
    child = {"sub_issue_id": issue.get("id")}
    if parent is None:
        await ctx.call("tickets_parent_unlink", "DELETE", f"{ctx.path(ISSUES_PATH)}/{current}/sub_issue", body=child)
    else:
        await ctx.call("tickets_parent_link", "POST", f"{ctx.path(ISSUES_PATH)}/{parent}/sub_issues",
                       body={**child, **({"replace_parent": True} if current else {})})


issue_write.calls = {  # type: ignore[attr-defined]
    "tickets_parent_check": ("GET", ISSUES_PATH + "/{parent_id}"),
    "tickets_parent_child": ("GET", ISSUE_PATH),
    "tickets_parent_link": ("POST", ISSUES_PATH + "/{parent_id}/sub_issues"),
    "tickets_parent_unlink": ("DELETE", ISSUES_PATH + "/{old_parent_id}/sub_issue"),
    "tickets_priority_clear": ("DELETE", ISSUE_PATH + "/issue-field-values/{issue_field_id}"),
}

labels_for_write.calls = {  # type: ignore[attr-defined]
    "tickets_update_labels": ("GET", ISSUE_PATH),
    "issue_fields_lookup": ("GET", "/orgs/{owner}/issue-fields"),
    "labels_lookup": ("GET", LABELS_PATH),
}
