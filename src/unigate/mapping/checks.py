"""Semantic checks of a schema-valid mapping file: what pydantic alone cannot see."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from unigate.mapping.paths import InvalidPathError, compile_path
from unigate.mapping.template import PATH_VARIABLES, compile_template
from unigate.mapping.transforms import build_transform, transform_names
from unigate.unified import UNIFIED, UnifiedModel

if TYPE_CHECKING:
    from unigate.mapping.spec import FieldSpec, MappingFile, OperationSpec, ResourceSpec
    from unigate.mapping.spec_lookups import FieldLookupSpec


def semantic_problems(spec: MappingFile, model: UnifiedModel = UNIFIED) -> list[tuple[str, str]]:
    """Each problem as (key path, message); the unified names are ``model``'s (default: the gateway's)."""
    known = {f"settings.{k}" for k in spec.connection.settings} | {
        f"credentials.{k}" for k in spec.connection.credentials
    }
    found = _Found()
    _check_http(found, spec, known)
    request_vars = known | PATH_VARIABLES
    _check_lookups(found, spec, request_vars)
    for rname, resource in spec.resources.items():
        _check_resource(found, spec, model, rname, resource, request_vars)
    return found.problems


class _Found:
    """The problems found so far, as (key path, message), and the two checks every section makes."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def path(self, where: str, value: str | None) -> None:
        """``value`` (when given) is a JSONPath we can compile."""
        if value is None:
            return
        try:
            compile_path(value)
        except InvalidPathError as exc:
            self.problems.append((where, str(exc)))

    def template(self, where: str, value: Any, allowed: set[str]) -> None:
        """Every template in ``value`` (a string, or nested in dicts and lists) names ``allowed`` variables only."""
        if isinstance(value, dict):
            for k, v in value.items():
                self.template(f"{where}.{k}", v, allowed)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.template(f"{where}.{i}", v, allowed)
        elif isinstance(value, str):
            for var in compile_template(value).variables:
                if var not in allowed:
                    self.problems.append((where, f"unknown template variable {{{var}}}; known: {sorted(allowed)}"))


def _check_http(found: _Found, spec: MappingFile, known: set[str]) -> None:
    """``http`` (and ``connection.oauth2``): templates name settings and credentials, error paths compile."""
    found.template("http.base_url", spec.http.base_url, known)
    _check_oauth2(found, spec, {k for k in known if k.startswith("settings.")})
    found.template("http.headers", spec.http.headers, known)
    found.template("http.query", spec.http.query, known)
    if spec.http.basic_auth is not None:
        found.template("http.basic_auth", spec.http.basic_auth.model_dump(), known)
    if spec.http.auth is not None:
        found.template("http.auth.options", spec.http.auth.options, known)
    for name in ("message", "code", "detail"):
        for i, p in enumerate(getattr(spec.http.errors, name)):
            found.path(f"http.errors.{name}.{i}", p)


def _check_oauth2(found: _Found, spec: MappingFile, settings_only: set[str]) -> None:
    """OAuth2's URLs and parameters are rendered before any credential exists: settings only."""
    oauth2 = spec.connection.oauth2
    if oauth2 is None:
        return
    for name in ("authorize_url", "token_url", "authorize_params", "token_params"):
        found.template(f"connection.oauth2.{name}", getattr(oauth2, name), settings_only)
    found.template("connection.oauth2.placement.format", oauth2.placement.format, {"access_token"})
    for i, step in enumerate(oauth2.post_token):
        found.template(f"connection.oauth2.post_token.{i}.url", step.url, settings_only)
        for name, json_path in step.settings.items():
            found.path(f"connection.oauth2.post_token.{i}.settings.{name}", json_path)


def _check_lookups(found: _Found, spec: MappingFile, request_vars: set[str]) -> None:
    for name, lookup in spec.lookups.items():
        found.template(f"lookups.{name}.path", lookup.path, request_vars)
        found.template(f"lookups.{name}.query", lookup.query, request_vars)
        found.path(f"lookups.{name}.records", lookup.records)


def _check_resource(found: _Found, spec: MappingFile, model: UnifiedModel, rname: str, resource: ResourceSpec,
                    request_vars: set[str]) -> None:
    """A resource's fields, list lookups, notes and operations."""
    unified_fields = model.fields[rname]
    for fname, field in resource.fields.items():
        where = f"resources.{rname}.fields.{fname}"
        if fname not in unified_fields:
            found.problems.append((where, f"{fname!r} is not a field of unified {rname}; known: {list(unified_fields)}"))
        _check_field(found, spec, where, field, request_vars)
    for i, listed in enumerate(resource.list_lookups):
        found.path(f"resources.{rname}.list_lookups.{i}.path", listed.path)
        found.problems.extend(_lookup_problems(spec, f"resources.{rname}.list_lookups.{i}.lookup", listed.lookup))
    found.problems.extend((f"resources.{rname}.notes.{f}", f"{f!r} is not a field of unified {rname}")
                          for f in resource.notes if f not in unified_fields)
    found.problems.extend(_unified_problems(model, rname, resource))
    for oname, op in resource.operations.items():
        _check_operation(found, spec, model, rname, oname, op, request_vars)


def _check_field(found: _Found, spec: MappingFile, where: str, field: FieldSpec, request_vars: set[str]) -> None:
    found.problems.extend(_field_problems(where, field))
    found.path(f"{where}.read", field.read_path)
    found.path(f"{where}.write", field.write_path)
    if field.value is not None:
        found.template(f"{where}.value", field.value, request_vars)
    if field.lookup is not None:
        found.problems.extend(_lookup_problems(spec, f"{where}.lookup", field.lookup))
    if field.clear_declared and field.write_path is None:
        found.problems.append((f"{where}.clear", "`clear` says how a write clears the field: it needs a "
                               "`write` (or `path`)"))


def _check_operation(found: _Found, spec: MappingFile, model: UnifiedModel, rname: str, oname: str,
                     op: OperationSpec, request_vars: set[str]) -> None:
    where = f"resources.{rname}.operations.{oname}"
    unified_fields = model.fields[rname]
    for key in ("records", "record", "id"):
        found.path(f"{where}.{key}", getattr(op, key))
    if op.match is not None:
        found.path(f"{where}.match.path", op.match.path)
        found.template(f"{where}.match.value", op.match.value, request_vars)
    found.problems.extend((f"{where}.omit", f"{f!r} is not a field of unified {rname}")
                          for f in op.omit if f not in unified_fields)
    if op.pagination:
        for key in ("total", "page_count", "next_token"):
            found.path(f"{where}.pagination.{key}", getattr(op.pagination, key))
    _check_request(found, where, op, request_vars)
    if op.writes is not None:
        found.problems.extend((f"{where}.writes", f"{f!r} is not a field of unified {rname}")
                              for f in op.writes if f not in unified_fields)
    for i, call in enumerate(op.split):
        found.template(f"{where}.split.{i}.path", call.path, request_vars)
    ids = Counter(c.call_id for c in op.split)
    found.problems.extend((f"{where}.split", f"call_id {c!r} used twice") for c, n in ids.items() if n > 1)
    found.problems.extend(_membership_problems(spec, where, rname, oname, op))
    found.problems.extend(_step_problems(spec, where, op, request_vars))
    if oname == "all" and op.static is None and op.records is None:
        found.problems.append((where, "a list operation needs `records` (JSONPath to the list)"))


def _check_request(found: _Found, where: str, op: OperationSpec, request_vars: set[str]) -> None:
    """The call an operation makes: path, query and body templates, body constant paths, ``wrap``."""
    found.template(f"{where}.path", op.path, request_vars)
    found.template(f"{where}.query", op.query, request_vars)
    found.template(f"{where}.body", op.body, request_vars)
    for key in op.body:
        found.path(f"{where}.body", key)
    if op.wrap is not None:
        found.path(f"{where}.wrap", op.wrap)
        found.problems.extend(_wrap_problems(where, op.wrap, list(op.body)))


def _unified_problems(model: UnifiedModel, rname: str, resource: ResourceSpec) -> list[tuple[str, str]]:
    """Operations, filters and sort fields the unified model has for this resource, and only those."""
    unified = model.resource(rname)
    problems: list[tuple[str, str]] = []
    for oname, op in resource.operations.items():
        where, declared = f"resources.{rname}.operations.{oname}", unified.operation(oname)
        if declared is None:
            problems.append((where, f"unified {rname} has no {oname} operation; operations: "
                                    f"{', '.join(o.name for o in unified.operations)}"))
            continue
        filters = [f.name for f in declared.filters]
        problems.extend((f"{where}.filters.{f}", f"{f!r} is not a filter of unified {rname}.{oname}; "
                                                f"filters: {', '.join(filters) or 'none'}")
                        for f in op.filters if f not in filters)
        if op.sort is not None:
            named = [*op.sort.fields, *(order.partition(" ")[0] for order in op.sort.natural)]
            problems.extend((f"{where}.sort", f"{f!r} is not a sort field of unified {rname}.{oname}; "
                                              f"sort fields: {', '.join(declared.sort) or 'none'}")
                            for f in dict.fromkeys(named) if f not in declared.sort)
    return problems


def _lookup_problems(spec: MappingFile, where: str, lookup: FieldLookupSpec) -> list[tuple[str, str]]:
    names = [lookup.name] if isinstance(lookup.name, str) else list(lookup.name.values())
    problems = [(f"{where}.name", f"no lookup {n!r} is declared; lookups: {sorted(spec.lookups)}")
                for n in names if n not in spec.lookups]
    if lookup.unified is not None and lookup.unified not in transform_names():
        problems.append((f"{where}.unified", f"unknown transform {lookup.unified!r}; known: {transform_names()}"))
    return problems


def _step_problems(spec: MappingFile, where: str, op: OperationSpec, request_vars: set[str]) -> list[tuple[str, str]]:
    """``collection_check`` (a path or a call), ``keep``, ``read_back``, ``resend`` and status filter lookups."""
    problems: list[tuple[str, str]] = []
    checked = [(f"{where}.keep.{i}.path", c.path) for i, c in enumerate(op.keep)]
    check = op.collection_check
    if isinstance(check, str):
        checked.append((f"{where}.collection_check", check))
    elif check is not None:
        checked += [(f"{where}.collection_check.records", check.records),
                    (f"{where}.collection_check.match.path", check.match.get("path", ""))]
        if set(check.match) != {"path", "value"}:
            problems.append((f"{where}.collection_check.match", "needs `path` and `value` (only)"))
    if op.read_back is not None:
        checked += [(f"{where}.read_back.{k}", getattr(op.read_back, k)) for k in ("records", "match", "sent", "id")]
    for i, again in enumerate(op.resend):
        checked += [(f"{where}.resend.{i}.sent", again.sent), (f"{where}.resend.{i}.created", again.created)]
    for at, value in checked:
        try:
            compile_path(value)
        except InvalidPathError as exc:
            problems.append((at, str(exc)))
    if op.keep and op.pagination is not None and op.pagination.style != "none":
        problems.append((f"{where}.keep", "`keep` needs `pagination: {style: none}`: offsets count kept records"))
    for name, spec_filter in op.filters.items():
        if spec_filter.lookup is None:
            continue
        if name != "status":
            problems.append((f"{where}.filters.{name}.lookup", "only the `status` filter is looked up"))
        problems.extend(_lookup_problems(spec, f"{where}.filters.{name}.lookup", spec_filter.lookup))
    return problems


def _membership_problems(spec: MappingFile, where: str, rname: str, oname: str,
                         op: OperationSpec) -> list[tuple[str, str]]:
    """``collection_check`` reads the ticket with tickets.one; ``collection_exists`` reads collections.one."""
    problems: list[tuple[str, str]] = []
    if op.collection_check is not None:
        if rname not in ("tickets", "comments") or (rname == "tickets" and oname in ("all", "add")):
            problems.append((f"{where}.collection_check", "only for tickets one/update/delete and comments operations"))
        tickets = spec.resources.get("tickets")
        one = tickets.operations.get("one") if tickets else None
        if one is None or one.static is not None:
            problems.append((f"{where}.collection_check", "needs a declared tickets.one to read the ticket with"))
    if op.collection_exists:
        if oname not in ("all", "add") or op.static is not None:
            problems.append((f"{where}.collection_exists", "only for `all` and `add` operations that make a call"))
        collections = spec.resources.get("collections")
        one = collections.operations.get("one") if collections else None
        if one is None or one.static is not None:
            problems.append((f"{where}.collection_exists", "needs a declared collections.one to read the collection with"))
    return problems


def _wrap_problems(where: str, wrap: str, constants: list[str]) -> list[tuple[str, str]]:
    """Body constants of an operation with ``wrap`` must land inside the wrap, next to the mapped
    fields: a constant outside it (``$.project_id`` beside ``wrap: $.issue``) is sent where the
    tracker does not look, and one at or above the wrap path would be replaced by the fields."""
    try:
        wrap_steps = compile_path(wrap).steps
    except InvalidPathError:
        return []  # reported by the path check
    problems: list[tuple[str, str]] = []
    for constant in constants:
        try:
            steps = compile_path(constant).steps
        except InvalidPathError:
            continue
        if wrap_steps is None or steps is None:
            problems.append((f"{where}.body", f"{constant!r} and wrap {wrap!r}: with `wrap`, body constants and "
                             f"the wrap must be simple paths"))
        elif len(steps) <= len(wrap_steps) or tuple(steps[:len(wrap_steps)]) != tuple(wrap_steps):
            problems.append((f"{where}.body", f"constant {constant!r} collides with wrap {wrap!r}: the mapped "
                             f"fields go under {wrap}, so a constant must be inside it (e.g. "
                             f"{wrap}.{constant.removeprefix('$.')}), not outside or in its place"))
    return problems


def _field_problems(where: str, field: FieldSpec) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if field.transform is not None:
        name, options = (field.transform, {}) if isinstance(field.transform, str) else (
            field.transform.get("name"), {k: v for k, v in field.transform.items() if k != "name"})
        if name not in transform_names():
            problems.append((f"{where}.transform", f"unknown transform {name!r}; known: {transform_names()}"))
        else:
            try:
                build_transform(name, options)
            except (InvalidPathError, KeyError, TypeError) as exc:
                problems.append((f"{where}.transform", f"bad options: {exc}"))
    if field.map and field.write_path and field.write_map is None:
        sources: dict[Any, list[Any]] = {}
        for downstream, unified in field.map.items():
            sources.setdefault(unified, []).append(downstream)
        ambiguous = {u: d for u, d in sources.items() if len(d) > 1}
        if ambiguous:
            problems.append((f"{where}.map", f"several downstream values map to the same unified value "
                             f"({ambiguous}); add `write_map` to say which one to send"))
    if field.read_path is None and field.write_path is None and field.value is None and field.default is None:
        problems.append((where, "a field needs a `path`, `read`, `write`, `value` or `default`"))
    return problems
