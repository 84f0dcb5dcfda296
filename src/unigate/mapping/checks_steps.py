"""Load-time checks of ``prepare``, ``request``, ``listed``, ``then``, pagination styles and the
``http.auth`` scheme: every named component is registered, templates name known variables, GraphQL
documents are valid."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unigate.components import COMPONENTS
from unigate.mapping.template import PATH_VARIABLES, compile_template

if TYPE_CHECKING:
    from unigate.mapping.spec import MappingFile, OperationSpec

BUILT_IN_REQUESTS = ("rest", "graphql")
BUILT_IN_PAGINATORS = ("offset", "page", "cursor", "none", "ids")  # unigate.connector.paging


def step_problems(spec: MappingFile, source: str) -> list[tuple[str, str]]:
    known = {f"settings.{k}" for k in spec.connection.settings} | {
        f"credentials.{k}" for k in spec.connection.credentials} | PATH_VARIABLES
    problems: list[tuple[str, str]] = []
    if spec.http.auth is not None:
        unknown = _unknown("auth", spec.http.auth.scheme, ())
        problems += [("http.auth.scheme", unknown)] if unknown else []
    for rname, resource in spec.resources.items():
        for oname, op in resource.operations.items():
            where = f"resources.{rname}.operations.{oname}"
            problems.extend(_component_problems(where, op))
            problems.extend(_template_problems(where, op, known))
            if op.pagination is not None and op.pagination.style == "ids" and op.listed is None:
                problems.append((f"{where}.pagination", "style ids pages through the `listed` item's ids: "
                                 "declare `listed`"))
            if op.then and oname != "add":
                problems.append((f"{where}.then", "calls after a create: only on `add`"))
    if any(op.request is not None and op.request.style == "graphql"
           for r in spec.resources.values() for op in r.operations.values()) or spec.http.graphql_schema:
        from unigate.connector.graphql import document_problems  # late: graphql-core only when used

        problems.extend(document_problems(spec, source))
    return problems


def _unknown(kind: Any, name: str, built_in: tuple[str, ...]) -> str | None:
    if name in built_in or COMPONENTS.has(kind, name):
        return None
    known = ", ".join([*built_in, *COMPONENTS.names(kind)]) or "none"
    return f"no {kind} component named {name!r} is registered; known: {known}"


def _component_problems(where: str, op: OperationSpec) -> list[tuple[str, str]]:
    found = []
    for i, step in enumerate(op.prepare):
        if step.use is not None:
            found.append((f"{where}.prepare.{i}.use", _unknown("preparer", step.use, ())))
    if op.pagination is not None:
        found.append((f"{where}.pagination.style", _unknown("paginator", op.pagination.style, BUILT_IN_PAGINATORS)))
    requests = [(f"{where}.request", op.request)] + [(f"{where}.then.{i}.request", c.request)
                                                     for i, c in enumerate(op.then)]
    for at, request in requests:
        if request is not None:
            found.append((f"{at}.style", _unknown("request", request.style, BUILT_IN_REQUESTS)))
    return [(at, what) for at, what in found if what is not None]


def _template_problems(where: str, op: OperationSpec, known: set[str]) -> list[tuple[str, str]]:
    checks: list[tuple[str, Any, set[str]]] = []
    if op.listed is not None:
        checks += [(f"{where}.listed", op.listed.model_dump(include={"path", "query"}), known),
                   (f"{where}.listed.match", op.listed.match.value, known)]
    for i, step in enumerate(op.prepare):
        if step.create is not None:
            checks.append((f"{where}.prepare.{i}.create", [step.create.path, step.create.body], known | {"value"}))
        if step.attach is not None:
            checks.append((f"{where}.prepare.{i}.attach", [step.attach.path, step.attach.query], known))
    for i, call in enumerate(op.then):
        checks.append((f"{where}.then.{i}", [call.path, call.body], known | {"new_id"}))
    return [(at, f"unknown template variable {{{var}}}; known: {sorted(allowed)}")
            for at, value, allowed in checks for var in _variables(value)
            if var not in allowed and not var.startswith("record.")]


def _variables(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [v for item in value.values() for v in _variables(item)]
    if isinstance(value, list):
        return [v for item in value for v in _variables(item)]
    return compile_template(value).variables if isinstance(value, str) else []
