"""Check HTTP exchanges against a tracker vendor's own OpenAPI 3 description.

A simulator is only as good as its likeness to the tracker; this module keeps it honest. Load the
vendor's document (vendored beside the connector, e.g. ``connectors/github/spec/``) once::

    spec = VendorSpec.load(Path(__file__).parent.parent / "spec" / "api.github.com.issues.json")
    spec.check_response("GET", "/repos/o/r/issues/1", 200, body=issue)   # raises SpecViolation
    spec.check_request("POST", "/repos/o/r/issues", body={"title": "x"})

and wrap the simulator's ASGI app so that **every** exchange of a test run is checked::

    checked = SpecCheck(simulator_app, spec)        # an ASGI app; serve it instead
    checked = SpecCheck.inside(control, spec)       # or inside a SimulatorControl (faults unchecked)
    ...                                             # the test talks to it over real HTTP
    checked.assert_clean()                          # raises one SpecViolation listing them all

or, on the client's side, wrap an httpx transport the same way (``SpecCheckTransport``).

What is checked, for the operation found by path template (literal segments win over
parameters, so ``/issues/comments`` is not ``/issues/{issue_number}``):

- requests: the path and method exist; path and query parameters are declared, required ones
  present, values valid for their schema (strings coerced to integer/number/boolean first; an
  array from every occurrence, or commas when not exploded); header parameters when headers are given; a JSON body valid
  for the ``requestBody`` schema (required when the spec says so);
- responses: the status is declared (or listed in ``undeclared``, for statuses the vendor sends on
  every operation but does not document on each, such as GitHub's 401/403 rate limits); a JSON
  body valid for that response's schema; no body where the spec declares none (204, 304); when
  headers are given, a JSON ``Content-Type`` for a JSON body and the declared response headers
  (``Link``, ``Location``...) valid, present if required.

Schemas are OpenAPI 3.0 (``nullable``, boolean ``exclusiveMinimum``) or 3.1, turned into JSON Schema
2020-12 and validated with ``jsonschema-rs`` (formats asserted: a ``uri`` must be a URI). A failure
is a :class:`SpecViolation` (an ``AssertionError``) naming the operation id, method, path
template, status and the JSON pointer of the offending value, e.g.
``issues/get (GET /repos/{owner}/{repo}/issues/{issue_number}) response 200: /labels/0/id: "7" is
not of type "integer"``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import httpx
import jsonschema_rs
import orjson
import yaml
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from unigate.simulation import SimulatorControl
from unigate.simulation.asgi import read_body, replay

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
NO_BODY = object()  # "the exchange carried no body" (distinct from a JSON null)


class SpecViolation(AssertionError):
    """An exchange the vendor's description does not allow; the message says where and why."""


@dataclass(frozen=True)
class Operation:
    """One operation of the description: ``method`` upper case, ``template`` as in ``paths``."""

    method: str
    template: str
    operation_id: str
    definition: Mapping[str, Any] = field(repr=False)
    path_params: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.operation_id} ({self.method} {self.template})"


class VendorSpec:
    """An OpenAPI 3 document, ready to check requests and responses against.

    ``undeclared`` maps statuses the vendor may send on any operation without documenting them
    there to the schema their body has (a ``#/components/schemas/...`` pointer, or ``None`` for
    "no body"); ``base_path`` is stripped from paths first (e.g. ``/api/v3``).
    """

    def __init__(self, document: Mapping[str, Any], *, base_path: str = "",
                 undeclared: Mapping[int, str | None] | None = None) -> None:
        self.document = document
        self.base_path = base_path.rstrip("/")
        self.undeclared = dict(undeclared or {})
        self._convert = str(document.get("openapi", "3.0")).startswith("3.0")
        self._schemas = _to_json_schema(document.get("components", {}).get("schemas", {}), convert=self._convert)
        self._routes = _routes(document.get("paths", {}))
        self._validators: dict[str, Any] = {}

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> VendorSpec:
        """Read a JSON or YAML description from a file."""
        text = Path(path).read_bytes()
        document = orjson.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
        return cls(document, **options)

    # -- finding operations ------------------------------------------------------------------------

    def operation(self, method: str, path: str) -> Operation:
        """The operation serving ``method path`` (a concrete, percent-encoded path, no query)."""
        if self.base_path and not path.startswith(self.base_path + "/"):
            raise SpecViolation(f"{method.upper()} {path}: outside the base path {self.base_path}")
        local = path[len(self.base_path):]
        for template, pattern, item in self._routes:
            match = pattern.fullmatch(local)
            if match is None:
                continue
            definition = item.get(method.lower())
            if definition is None:
                raise SpecViolation(f"{method.upper()} {path}: {template} has no {method.upper()} operation")
            params = {k: unquote(v) for k, v in match.groupdict().items()}
            return Operation(method.upper(), template, definition.get("operationId", template),
                             {**definition, "parameters": self._parameters(item, definition)}, params)
        raise SpecViolation(f"{method.upper()} {path}: no path of the description matches")

    # -- requests ----------------------------------------------------------------------------------

    def check_request(self, method: str, path: str, *, query: Iterable[tuple[str, str]] = (),
                      body: Any = NO_BODY, headers: Mapping[str, str] | None = None) -> Operation:
        """Raise :class:`SpecViolation` unless the request is one the description allows.

        ``headers`` (any case), when given, must hold the required header parameters; declared
        ones present are checked against their schema.
        """
        op = self.operation(method, path)
        self._check_parameters(op, list(query))
        if headers is not None:
            self._check_header_parameters(op, {k.lower(): v for k, v in headers.items()})
        self._check_request_body(op, body)
        return op

    def _check_parameters(self, op: Operation, query: list[tuple[str, str]]) -> None:
        declared = {(p["in"], p["name"]): p for p in op.definition["parameters"]}
        grouped: dict[str, list[str]] = {}
        for name, value in query:
            grouped.setdefault(name, []).append(value)
        for name, values in grouped.items():
            parameter = declared.get(("query", name))
            if parameter is None:
                raise SpecViolation(f"{op.label} request: query parameter {name!r} is not declared")
            if self._is_array(parameter):
                self._check_array(op, parameter, values)
            else:
                for value in values:
                    self._check_value(op, parameter, value)
        present = {("query", n) for n in grouped} | {("path", n) for n in op.path_params}
        for (where, name), parameter in declared.items():
            if parameter.get("required") and where in ("query", "path") and (where, name) not in present:
                raise SpecViolation(f"{op.label} request: required {where} parameter {name!r} is missing")
        for name, value in op.path_params.items():
            if ("path", name) in declared:
                self._check_value(op, declared[("path", name)], value)

    def _check_header_parameters(self, op: Operation, headers: Mapping[str, str]) -> None:
        for parameter in op.definition["parameters"]:
            if parameter["in"] != "header":
                continue
            value = headers.get(parameter["name"].lower())
            if value is None and parameter.get("required"):
                raise SpecViolation(f"{op.label} request: required header {parameter['name']!r} is missing")
            if value is not None:
                self._check_value(op, parameter, value)

    def _is_array(self, parameter: Mapping[str, Any]) -> bool:
        schema = parameter.get("schema", {})
        return (self._resolve(schema) if "$ref" in schema else schema).get("type") == "array"

    def _check_array(self, op: Operation, parameter: Mapping[str, Any], values: list[str]) -> None:
        """OpenAPI ``style: form``: one item per occurrence (``explode``, the default) or comma-separated."""
        schema = parameter.get("schema", {})
        items = self._resolve(schema).get("items", {}) if "$ref" in schema else schema.get("items", {})
        if parameter.get("explode", parameter.get("style", "form") == "form") is False:
            values = [part for value in values for part in value.split(",")]
        coerced = [_coerce(value, self._resolve(items) if "$ref" in items else items) for value in values]
        self._validate(schema, coerced, f"{op.label} request: query parameter {parameter['name']!r}")

    def _check_value(self, op: Operation, parameter: Mapping[str, Any], raw: str) -> None:
        schema = parameter.get("schema", {})
        value = _coerce(raw, self._resolve(schema) if "$ref" in schema else schema)
        where = f"{parameter['in']} parameter {parameter['name']!r}"
        self._validate(schema, value, f"{op.label} request: {where}")

    def _check_request_body(self, op: Operation, body: Any) -> None:
        spec = op.definition.get("requestBody")
        if spec is None:
            return
        spec = self._resolve(spec)
        if body is NO_BODY:
            if spec.get("required"):
                raise SpecViolation(f"{op.label} request: a body is required")
            return
        schema = _json_schema_of(spec.get("content", {}))
        if schema is not None:
            self._validate(schema, body, f"{op.label} request body")

    # -- responses ---------------------------------------------------------------------------------

    def check_response(self, method: str, path: str, status: int, *, body: Any = NO_BODY,
                       headers: Mapping[str, str] | None = None) -> Operation:
        """Raise :class:`SpecViolation` unless ``status`` and ``body`` are what the operation answers.

        ``headers`` (any case), when given: a JSON body must be sent as JSON (``Content-Type``),
        and the response headers the operation declares must be valid (present when required).
        """
        op = self.operation(method, path)
        where = f"{op.label} response {status}"
        declared = op.definition.get("responses", {})
        response = declared.get(str(status), declared.get(f"{str(status)[0]}XX"))
        if response is None and status in self.undeclared:
            pointer = self.undeclared[status]
            response = {"content": {"application/json": {"schema": {"$ref": pointer}}}} if pointer else {}
        if response is None:
            response = declared.get("default")
        if response is None:
            raise SpecViolation(f"{where}: status not declared (declared: {', '.join(declared)})")
        response = self._resolve(response)
        self._check_response_body(response, body, where)
        if headers is not None:
            self._check_response_headers(response, {k.lower(): v for k, v in headers.items()}, body, where)
        return op

    def _check_response_body(self, response: Mapping[str, Any], body: Any, where: str) -> None:
        content = response.get("content")
        if not content:
            if body is not NO_BODY:
                raise SpecViolation(f"{where}: the description declares no body, one was sent")
            return
        schema = _json_schema_of(content)
        if schema is None:
            return
        if body is NO_BODY:
            raise SpecViolation(f"{where}: a JSON body is declared, none was sent")
        self._validate(schema, body, where)

    def _check_response_headers(self, response: Mapping[str, Any], headers: Mapping[str, str], body: Any,
                                where: str) -> None:
        if body is not NO_BODY and _json_schema_of(response.get("content") or {}) is not None:
            media_type = headers.get("content-type", "").split(";")[0].strip()
            if not (media_type == "application/json" or media_type.endswith("+json")):
                raise SpecViolation(f"{where}: a JSON body sent as {media_type or 'no content type'!r}")
        for name, header in (response.get("headers") or {}).items():
            header = self._resolve(header)
            value = headers.get(name.lower())
            if value is None and header.get("required"):
                raise SpecViolation(f"{where}: required header {name!r} is missing")
            if value is not None and "schema" in header:
                self._validate(header["schema"], _coerce(value, self._resolve(header["schema"])),
                               f"{where}: header {name!r}")

    # -- machinery ---------------------------------------------------------------------------------

    def _validate(self, schema: Mapping[str, Any], value: Any, where: str) -> None:
        key = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS).decode()
        validator = self._validators.get(key)
        if validator is None:
            root = {"allOf": [_to_json_schema(schema, convert=self._convert)],
                    "components": {"schemas": self._schemas}}
            validator = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
            self._validators[key] = validator
        error = next(iter(validator.iter_errors(value)), None)
        if error is not None:
            pointer = "".join(f"/{_escape(part)}" for part in error.instance_path) or "/"
            raise SpecViolation(f"{where}: {pointer}: {error.message}")

    def _resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise SpecViolation(f"only local references are supported, not {ref!r}")
            target: Any = self.document
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def _parameters(self, item: Mapping[str, Any], definition: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        merged = {}
        for parameter in [*item.get("parameters", []), *definition.get("parameters", [])]:
            resolved = self._resolve(parameter)
            merged[(resolved["in"], resolved["name"])] = resolved
        return list(merged.values())


class _Collector:
    """What both hooks share: the violations seen, a count, and a switch for request checks."""

    def __init__(self, spec: VendorSpec, check_requests: bool) -> None:
        self.spec, self.check_requests = spec, check_requests
        self.violations: list[SpecViolation] = []
        self.checked = 0

    def assert_clean(self) -> None:
        """Raise one :class:`SpecViolation` listing every violation seen, then forget them."""
        found, self.violations = self.violations, []
        if found:
            raise SpecViolation(f"{len(found)} exchange(s) break the vendor's description:\n"
                                + "\n".join(f"- {v}" for v in found))

    def requests_unchecked(self) -> _RequestsUnchecked:
        """``with check.requests_unchecked():`` — responses are still checked."""
        return _RequestsUnchecked(self)

    def _request(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> None:
        if self.check_requests:
            path, _, query = target.partition("?")
            pairs = parse_qsl(query, keep_blank_values=True)
            self._guard(lambda: self.spec.check_request(method, path, query=pairs, body=_parsed(body),
                                                        headers=headers))

    def _response(self, method: str, target: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.checked += 1
        path = target.partition("?")[0]
        self._guard(lambda: self.spec.check_response(method, path, status, body=_parsed(body), headers=headers))

    def _guard(self, check: Callable[[], object]) -> None:
        try:
            check()
        except SpecViolation as violation:
            self.violations.append(violation)


class SpecCheck(_Collector):
    """ASGI middleware checking every request a wrapped app receives and every response it sends.

    Violations are collected (an ASGI app must still answer), in ``violations``; call
    :meth:`assert_clean` at the end of a test (or a fixture's teardown). Paths under ``skip``
    prefixes (default: the simulators' ``/__sim`` control endpoints) are not checked; set
    ``check_requests=False`` while a test sends deliberately invalid requests (or use
    :meth:`requests_unchecked`). ``checked`` counts the exchanges looked at.
    """

    def __init__(self, app: ASGIApp, spec: VendorSpec, *, check_requests: bool = True,
                 skip: tuple[str, ...] = ("/__sim",)) -> None:
        super().__init__(spec, check_requests)
        self.app, self.skip = app, skip

    @classmethod
    def inside(cls, control: SimulatorControl, spec: VendorSpec, **options: Any) -> SpecCheck:
        """Wrap the simulator a :class:`~unigate.simulation.SimulatorControl` holds (so injected
        faults, which are no vendor's answers, stay unchecked); works on a running one too, e.g.
        ``SpecCheck.inside(tracker.simulator.app, spec)`` behind a connector under test."""
        checked = cls(control.app, spec, **options)
        control.app = checked
        return checked

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1").split("?")[0]
        query = scope.get("query_string", b"").decode("latin-1")
        target, method = f"{path}?{query}" if query else path, scope["method"]
        self._request(method, target, _headers(scope["headers"]), body)
        captured: dict[str, Any] = {"status": 0, "headers": [], "chunks": []}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"], captured["headers"] = message["status"], message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["chunks"].append(message.get("body", b""))
            await send(message)

        await self.app(scope, replay(body, receive), capture)
        self._response(method, target, captured["status"], _headers(captured["headers"]),
                       b"".join(captured["chunks"]))


class SpecCheckTransport(_Collector, httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An httpx transport wrapper doing what :class:`SpecCheck` does, on the client's side.

    ``httpx.Client(transport=SpecCheckTransport(httpx.HTTPTransport(), spec))`` (or an async
    transport with ``httpx.AsyncClient``) checks every exchange the client makes, whoever answers
    (a simulator, a cassette, a real server). The path checked is the URL's raw path, so give the
    spec the server's ``base_path`` if it has one.
    """

    def __init__(self, transport: httpx.BaseTransport | httpx.AsyncBaseTransport, spec: VendorSpec, *,
                 check_requests: bool = True) -> None:
        super().__init__(spec, check_requests)
        self.transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.transport, httpx.BaseTransport):
            raise TypeError("SpecCheckTransport wraps an async transport: use it with httpx.AsyncClient")
        target = request.url.raw_path.decode("latin-1")
        self._request(request.method, target, request.headers, request.read())
        response = self.transport.handle_request(request)
        self._response(request.method, target, response.status_code, response.headers, response.read())
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.transport, httpx.AsyncBaseTransport):
            raise TypeError("SpecCheckTransport wraps a sync transport: use it with httpx.Client")
        target = request.url.raw_path.decode("latin-1")
        self._request(request.method, target, request.headers, await request.aread())
        response = await self.transport.handle_async_request(request)
        self._response(request.method, target, response.status_code, response.headers, await response.aread())
        return response


class _RequestsUnchecked:
    def __init__(self, check: _Collector) -> None:
        self.check, self.before = check, check.check_requests

    def __enter__(self) -> _Collector:
        self.before, self.check.check_requests = self.check.check_requests, False
        return self.check

    def __exit__(self, *exc: object) -> None:
        self.check.check_requests = self.before


# -- helpers -------------------------------------------------------------------------------------

def _routes(paths: Mapping[str, Any]) -> list[tuple[str, re.Pattern[str], Mapping[str, Any]]]:
    """(template, regex, path item), most literal segments first so literals beat parameters."""
    def literal_count(template: str) -> int:
        return sum(1 for part in template.split("/") if part and "{" not in part)

    compiled = []
    for template in sorted(paths, key=lambda t: (-literal_count(t), t)):
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        compiled.append((template, re.compile(regex), paths[template]))
    return compiled


def _to_json_schema(node: Any, *, convert: bool) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema 2020-12 (``nullable``, boolean exclusive bounds)."""
    if isinstance(node, list):
        return [_to_json_schema(item, convert=convert) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _to_json_schema(value, convert=convert) if key not in ("enum", "example", "default")
           else value for key, value in node.items()}
    if not convert:
        return out
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), bool):
            flag = out.pop(bound)
            if flag and limit in out:
                out[bound] = out.pop(limit)
    if out.pop("nullable", False):
        return _nullable(out)
    return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    if isinstance(schema.get("type"), str):
        schema["type"] = [schema["type"], "null"]
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def _json_schema_of(content: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for media_type, media in content.items():
        if media_type.split(";")[0].strip() == "application/json" or media_type.endswith("+json"):
            return media.get("schema")
    return None


def _coerce(raw: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    try:
        if "integer" in kinds:
            return int(raw)
        if "number" in kinds:
            return float(raw)
    except ValueError:
        return raw
    if "boolean" in kinds and raw in ("true", "false"):
        return raw == "true"
    return raw


def _parsed(body: bytes) -> Any:
    if not body:
        return NO_BODY
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace")


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}


def _escape(part: Any) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


