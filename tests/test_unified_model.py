"""The unified model (``unigate.unified``) is the one definition of the API's shape.

Three parts:
- it agrees with Apideck's description shipped in the package, in both directions: every path,
  operation, property, readOnly flag, list, filter and sort of the spec is in the model, and
  nothing else is (the spec is the oracle);
- the routes, request body models, query parsing, the mapping file's literals and its checks are
  exactly what the model generates;
- adding a filter is one edit of the model: a copy with one more filter is accepted by query
  parsing, by the mapping file's schema and checks, and sent downstream by the engine.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, get_args

import pytest
from starlette.datastructures import QueryParams

from unigate.api import routes
from unigate.api.bodies import BODIES, body_models
from unigate.api.params import deep_objects, parse_filter, parse_limit, parse_sort
from unigate.connector.query import filter_params
from unigate.errors import RequestValidationError, UnsupportedFiltersError
from unigate.mapping import spec as mapping_spec
from unigate.mapping.checks import semantic_problems
from unigate.mapping.spec import MappingFile, MappingFileError, OperationSpec, ResourceSpec, parse_mapping
from unigate.openapi import apideck_document
from unigate.unified import UNIFIED, Filter, ObjectSchema, UnifiedModel
from unigate.unified.manifest import manifest_model

APIDECK = apideck_document()
SCHEMAS = APIDECK["components"]["schemas"]
ENGINE_PROPERTIES = ("custom_mappings", "pass_through")  # every resource's, provided by the engine
KINDS = {"array": "list", "date-time": "date-time", "string": "string"}


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """A schema or parameter with its ``$ref`` followed (the spec's refs are all local)."""
    while "$ref" in node:
        target: Any = APIDECK
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def ref_name(node: dict[str, Any]) -> str:
    return node["$ref"].rsplit("/", 1)[-1]


def spec_operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in APIDECK["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "patch", "delete"):
                yield path, method.upper(), operation


def model_operations() -> Iterator[tuple[str, str, str, str]]:
    """(path, method, resource, operation) of every operation of the model."""
    for path, methods in UNIFIED.routes().items():
        for method, (resource, operation) in methods.items():
            yield path, method, resource, operation


def spec_operation(path: str, method: str) -> dict[str, Any]:
    return APIDECK["paths"][path][method.lower()]


def query_parameter(operation: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((p for p in map(resolve, operation.get("parameters", [])) if p["name"] == name), None)


def schemas_of_the_model() -> dict[str, ObjectSchema]:
    """Every object schema the model names: the resources' and their list fields' items."""
    found: dict[str, ObjectSchema] = {}
    pending = [r.schema for r in UNIFIED.resources]
    while pending:
        schema = pending.pop()
        found[schema.name] = schema
        pending.extend(f.items for f in schema.fields if f.items is not None and f.items.name not in found)
    return found


def with_filter(model: UnifiedModel, resource: str, new: Filter) -> UnifiedModel:
    """``model`` with one more filter on ``resource``'s list: the one edit a new filter is."""
    def extend(r: Any) -> Any:
        ops = tuple(dataclasses.replace(o, filters=(*o.filters, new)) if o.name == "all" else o for o in r.operations)
        return dataclasses.replace(r, operations=ops) if r.name == resource else r
    return dataclasses.replace(model, resources=tuple(map(extend, model.resources)))


def deep(query: str) -> dict[str, Any]:
    return deep_objects(QueryParams(query))


# -- the model agrees with Apideck's description ---------------------------------------------------

def test_every_operation_of_the_spec_is_one_of_the_model_at_the_same_path_and_method_and_no_other() -> None:
    in_spec = {(path, method): (op["operationId"], op["summary"]) for path, method, op in spec_operations()}
    in_model = {(path, method): (UNIFIED.resource(r).operation(o).operation_id, UNIFIED.resource(r).operation(o).summary)
                for path, method, r, o in model_operations()}
    assert in_model == in_spec


@pytest.mark.parametrize("resource", UNIFIED.resource_names)
def test_each_resource_reads_and_writes_the_schema_the_model_names(resource: str) -> None:
    r = UNIFIED.resource(resource)
    for path, method, name, operation in model_operations():
        if name != resource:
            continue
        spec_op = spec_operation(path, method)
        if operation in ("all", "one"):
            data = resolve(resolve(spec_op["responses"]["200"])["content"]["application/json"]["schema"])
            data = data["properties"]["data"]
            assert ref_name(data.get("items", data)) == r.schema.name, (operation, data)
        if operation in ("add", "update"):
            assert ref_name(spec_op["requestBody"]["content"]["application/json"]["schema"]) == r.schema.name


@pytest.mark.parametrize("name", sorted(schemas_of_the_model()))
def test_each_object_schema_has_the_spec_properties_in_the_spec_order(name: str) -> None:
    schema = schemas_of_the_model()[name]
    properties = list(SCHEMAS[name]["properties"])
    assert [f.name for f in schema.fields] == [p for p in properties if p not in ENGINE_PROPERTIES]
    assert ("custom_mappings" in properties) == schema.custom_mappings


@pytest.mark.parametrize("resource", UNIFIED.resource_names)
def test_pass_through_is_a_property_exactly_of_the_resources_with_a_request_body(resource: str) -> None:
    r = UNIFIED.resource(resource)
    assert ("pass_through" in SCHEMAS[r.schema.name]["properties"]) == r.writable


@pytest.mark.parametrize("name", sorted(schemas_of_the_model()))
def test_each_field_has_the_spec_readonly_flag_list_flag_type_format_and_enum(name: str) -> None:
    def described(prop: dict[str, Any]) -> dict[str, Any]:
        resolved = resolve(prop)
        items = ref_name(resolved["items"]) if resolved["type"] == "array" else None
        return {"read_only": bool(prop.get("readOnly") or resolved.get("readOnly")), "list_of": items,
                "type": resolved["type"], "format": resolved.get("format"), "enum": tuple(resolved.get("enum", ()))}

    in_model = {f.name: {"read_only": f.read_only, "list_of": f.items.name if f.items else None,
                         "type": "array" if f.is_list else "string", "format": f.format, "enum": f.enum}
                for f in schemas_of_the_model()[name].fields}
    properties = SCHEMAS[name]["properties"]
    assert in_model == {field: described(properties[field]) for field in in_model}


@pytest.mark.parametrize("name", sorted(schemas_of_the_model()))
def test_what_a_request_body_object_must_carry_the_spec_requires_too(name: str) -> None:
    """The gateway is lenient where Apideck requires a nullable ``id`` (a tag may be named instead)."""
    required = {f.name for f in schemas_of_the_model()[name].fields if f.required}
    assert required <= set(SCHEMAS[name].get("required", ()))


def test_every_filter_of_the_spec_is_one_of_the_model_with_its_kind_and_no_other() -> None:
    in_spec, in_model = {}, {}
    for path, method, op in spec_operations():
        parameter = query_parameter(op, "filter")
        if parameter is not None:
            for name, prop in resolve(parameter["schema"])["properties"].items():
                in_spec[(path, method, name)] = KINDS[prop.get("format", prop["type"])]
    for path, method, resource, operation in model_operations():
        for f in UNIFIED.resource(resource).operation(operation).filters:
            in_model[(path, method, f.name)] = f.kind
    assert in_model == in_spec


def test_every_sort_field_of_the_spec_is_one_of_the_model_and_no_other() -> None:
    in_spec, in_model = {}, {}
    for path, method, op in spec_operations():
        parameter = query_parameter(op, "sort")
        if parameter is not None:
            in_spec[(path, method)] = tuple(resolve(parameter["schema"])["properties"]["by"]["enum"])
    for path, method, resource, operation in model_operations():
        if sort := UNIFIED.resource(resource).operation(operation).sort:
            in_model[(path, method)] = sort
    assert in_model == in_spec


def test_sort_directions_and_their_default_are_the_spec() -> None:
    direction = SCHEMAS["SortDirection"]
    assert (UNIFIED.sort_directions, UNIFIED.default_direction) == (tuple(direction["enum"]), direction["default"])


def test_every_list_takes_the_spec_limit_and_a_cursor() -> None:
    for path, method, _, operation in model_operations():
        if operation == "all":
            spec_op = spec_operation(path, method)
            limit = query_parameter(spec_op, "limit")["schema"]
            assert (UNIFIED.limit.minimum, UNIFIED.limit.maximum, UNIFIED.limit.default) == (
                limit["minimum"], limit["maximum"], limit["default"])
            assert query_parameter(spec_op, "cursor") is not None


# -- routes, bodies, query parsing, the mapping file's literals and checks derive from it ----------

def test_the_routes_are_the_model_routes() -> None:
    assert UNIFIED.routes() == routes.OPERATIONS
    table = routes.RouteTable()
    for path, method, resource, operation in model_operations():
        concrete = path.replace("{", "").replace("}", "")   # every parameter given a value
        methods, _ = table.match(concrete)
        assert methods[method] == (resource, operation)


def test_request_bodies_exist_for_the_resources_with_a_create_or_update_only() -> None:
    assert set(BODIES) == {r.name for r in UNIFIED.resources if r.writable} == {"tickets", "comments"}


@pytest.mark.parametrize("resource", sorted(BODIES))
def test_a_request_body_takes_exactly_the_properties_of_the_spec_schema(resource: str) -> None:
    body = BODIES[resource]
    schema = UNIFIED.resource(resource).schema
    assert set(body.model.model_fields) == set(SCHEMAS[schema.name]["properties"])
    assert body.read_only == {f.name for f in schema.fields if f.read_only}
    assert body.lists == tuple(f.name for f in schema.fields if f.is_list)
    for f in schema.fields:
        if f.items is not None:   # the items of a list field: the spec's item schema's properties
            item_model = get_args(get_args(body.model.model_fields[f.name].annotation)[0])[0]
            assert set(item_model.model_fields) == set(SCHEMAS[f.items.name]["properties"])


def test_body_models_are_rebuilt_alike_from_the_model() -> None:
    again = body_models(UNIFIED)
    for resource, body in BODIES.items():
        fields = {k: (repr(v.annotation), v.is_required()) for k, v in body.model.model_fields.items()}
        assert fields == {k: (repr(v.annotation), v.is_required()) for k, v in again[resource].model.model_fields.items()}


@pytest.mark.parametrize("resource", UNIFIED.resource_names)
def test_query_parsing_takes_exactly_the_filters_of_the_model(resource: str) -> None:
    names = [f.name for f in UNIFIED.filters.get(resource, ())]
    values = {"list": "a,b", "date-time": "2024-01-02T03:04:05Z", "string": "x"}
    for f in UNIFIED.filters.get(resource, ()):
        assert f.name in parse_filter(resource, deep(f"filter[{f.name}]={values[f.kind]}"))
    with pytest.raises(UnsupportedFiltersError) as refused:
        parse_filter(resource, deep("filter[no_such_filter]=x"))
    assert refused.value.detail.endswith(f"filters: {', '.join(names) or 'none'}")


@pytest.mark.parametrize("resource", UNIFIED.resource_names)
def test_query_parsing_takes_exactly_the_sort_fields_of_the_model(resource: str) -> None:
    allowed = UNIFIED.sorts.get(resource, ())
    for by in allowed:
        assert parse_sort(resource, deep(f"sort[by]={by}&sort[direction]=desc")) == {"by": by, "direction": "desc"}
    with pytest.raises(RequestValidationError):
        parse_sort(resource, deep("sort[by]=no_such_field"))


def test_limit_bounds_and_default_are_the_model() -> None:
    limit = UNIFIED.limit
    assert parse_limit(QueryParams("")) == limit.default
    assert parse_limit(QueryParams(f"limit={limit.maximum}")) == limit.maximum
    for outside in (limit.minimum - 1, limit.maximum + 1):
        with pytest.raises(RequestValidationError):
            parse_limit(QueryParams(f"limit={outside}"))


def test_the_mapping_file_names_are_the_model_names() -> None:
    def keys(model: type[Any], field: str) -> tuple[str, ...]:
        return get_args(get_args(model.model_fields[field].annotation)[0])

    assert keys(MappingFile, "resources") == mapping_spec.RESOURCES == UNIFIED.resource_names
    assert keys(ResourceSpec, "operations") == mapping_spec.OPERATIONS == UNIFIED.operation_names
    assert keys(OperationSpec, "filters") == UNIFIED.filter_names == ("status", "since", "assignee_id")
    assert {r.name: tuple(f.name for f in r.schema.fields) for r in UNIFIED.resources} == mapping_spec.UNIFIED_FIELDS
    assert mapping_spec.SORT_FIELDS == UNIFIED.sort_names == ("name", "created_at", "updated_at")


def test_the_mapping_file_schema_is_the_one_the_model_generates() -> None:
    assert manifest_model(UNIFIED).model_json_schema() == MappingFile.model_json_schema()


def manifest(operations: dict[str, dict[str, Any]], resource: str = "tickets") -> dict[str, Any]:
    return {"service_id": "probe", "name": "Probe", "http": {"base_url": "http://probe.invalid"},
            "resources": {resource: {"operations": operations}}}


def listing(**extra: Any) -> dict[str, Any]:
    return {"all": {"path": "/items", "records": "$.items", **extra}}


def test_the_mapping_checks_refuse_an_operation_the_resource_does_not_have() -> None:
    problems = semantic_problems(MappingFile.model_validate(manifest({"add": {"path": "/tags"}}, "tags")))
    assert ("resources.tags.operations.add", "unified tags has no add operation; operations: all") in problems


def test_the_mapping_checks_refuse_a_filter_of_another_resource() -> None:
    problems = semantic_problems(MappingFile.model_validate(manifest(listing(filters={"status": {"param": "s"}}), "users")))
    assert problems == [("resources.users.operations.all.filters.status",
                         "'status' is not a filter of unified users.all; filters: none")]


def test_the_mapping_checks_refuse_a_sort_field_of_another_resource() -> None:
    sort = {"param": "order", "fields": {"name": "title"}, "natural": ["updated_at desc"]}
    problems = semantic_problems(MappingFile.model_validate(manifest(listing(sort=sort))))
    assert problems == [("resources.tickets.operations.all.sort",
                         "'name' is not a sort field of unified tickets.all; sort fields: created_at, updated_at")]


# -- adding a filter is one edit of the model ------------------------------------------------------

LABEL = Filter("label", "string")
EXTENDED = with_filter(UNIFIED, "tickets", LABEL)


def test_query_parsing_takes_a_filter_added_to_the_model() -> None:
    assert parse_filter("tickets", deep("filter[label]=bug"), EXTENDED) == {"label": "bug"}
    with pytest.raises(UnsupportedFiltersError):
        parse_filter("tickets", deep("filter[label]=bug"))


def test_query_parsing_reads_an_added_filter_by_its_kind() -> None:
    model = with_filter(UNIFIED, "tickets", Filter("due_before", "date-time"))
    assert parse_filter("tickets", deep("filter[due_before]=2024-01-02T03:04:05Z"), model) == {
        "due_before": "2024-01-02T03:04:05Z"}
    with pytest.raises(RequestValidationError) as refused:
        parse_filter("tickets", deep("filter[due_before]=soon"), model)
    assert list(refused.value.detail) == ["filter[due_before]"]


def test_the_mapping_file_schema_and_checks_take_a_filter_added_to_the_model() -> None:
    data = manifest(listing(filters={"label": {"param": "labels"}}))
    declared = manifest_model(EXTENDED).model_validate(data)
    assert semantic_problems(declared, EXTENDED) == []
    with pytest.raises(MappingFileError) as refused:
        parse_mapping(data, "probe.yaml")   # the gateway's model has no such filter
    assert [where for where, _ in refused.value.problems] == ["resources.tickets.operations.all.filters.label.[key]"]


def test_the_engine_sends_an_added_string_filter_downstream_as_given() -> None:
    declared = manifest_model(EXTENDED).model_validate(manifest(listing(filters={"label": {"param": "labels"}})))
    operation = declared.resources["tickets"].operations["all"]
    assert filter_params(operation, {"label": "bug"}, "probe") == [("labels", "bug")]


def test_a_filter_added_to_one_list_is_not_a_filter_of_another() -> None:
    assert EXTENDED.filters["tickets"][-1] == LABEL and "comments" not in EXTENDED.filters
    with pytest.raises(UnsupportedFiltersError):
        parse_filter("comments", deep("filter[label]=bug"), EXTENDED)

