"""A resource's field mapping compiled once: a generated reader and a writer.

``RecordMapping.read(record, values)`` turns one downstream record into a unified one. It is a
Python function generated from the mapping file (one ``try`` block and direct ``dict``/``list``
indexing per simple path), so mapping costs a few hundred nanoseconds per field. Fields the
mapping file does not declare are left out of the result.

``RecordMapping.write(body)`` turns a (validated) unified body into a downstream body, sending
only the fields present in ``body`` — which is what makes updates partial. ``RecordMapping.plan``
does the same and also says what the tracker will not store as sent (``meta.warnings``): fields
without a write path (or outside the operation's ``writes``), values a transform alters (a date
without its time, only the first of several assignees), and nulls on create for fields that cannot
be empty. A null (``[]`` for assignees/tags) on update is sent as the field's ``clear`` value, or
refused when the tracker cannot clear the field; on create it is left out (nothing to clear).

``custom_mappings`` (per connection ``{name: JSONPath}``) are compiled into a variant of the
reader by :meth:`RecordMapping.with_custom_mappings`, cached by the caller per connection
revision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from unigate.mapping.paths import MISSING, CompiledPath, compile_path
from unigate.mapping.spec import FieldSpec, ResourceSpec
from unigate.mapping.template import compile_template, render_settings
from unigate.mapping.transforms import Transform, TransformError, build_transform

Reader = Callable[[Any, dict[str, Any]], dict[str, Any]]

# Inline code for the common cases of the common transforms; ``{t}`` is the full transform,
# called for everything else. Keeps the reader at a few hundred nanoseconds per field.
_INLINE = {
    "string": "    if {v} is not None and type({v}) is not str: {v} = str({v}) if type({v}) is int else {t}({v})",
    "datetime": "    if type({v}) is str and len({v}) == 24 and {v}[23] == 'Z' and {v}[10] == 'T': pass\n"
                "    elif type({v}) is str and len({v}) == 20 and {v}[19] == 'Z' and {v}[10] == 'T':"
                " {v} = {v}[:19] + '.000Z'\n"
                "    elif {v} is not None: {v} = {t}({v})",
    "assignees": "    {v} = [{{'id': {v} if type({v}) is str else str({v}), 'username': None}}]"
                 " if type({v}) is int or type({v}) is str else {t}({v})",
    # a loop, not a list comprehension: in Python 3.11 a comprehension is a function called per record
    "tags": "    if type({v}) is list:\n"
            "        items = []\n"
            "        for x in {v}:\n"
            "            if type(x) is str: items.append({{'id': x, 'name': x}})\n"
            "            elif x is not None: items.append({t}.item(x))\n"
            "        {v} = items\n"
            "    else: {v} = {t}.read({v})",
}


def _inline_code(spec: FieldSpec, var: str, fn: str) -> str:
    """``fn`` names the transform's read function; ``{t}`` templates get the Transform itself.

    Options never change how the inlined cases read (scalars, label strings, canonical
    timestamps), so dict-form transforms are inlined by name too.
    """
    name = spec.transform if isinstance(spec.transform, str) else (spec.transform or {}).get("name")
    name = "string" if name == "id" else name
    template = _INLINE.get(name or "", "    if {v} is not None: {v} = {t}({v})")
    return template.format(v=var, t=fn + "x" if name == "tags" else fn)


ARRAY_FIELDS = frozenset({"assignees", "tags"})


class FieldWriteError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field_name = field_name
        self.message = message


@dataclass(frozen=True)
class WriteField:
    name: str
    path: CompiledPath
    transform: Transform | None
    value_map: dict[Any, Any] | None
    clear: Any = None            # what a null is sent as on update (``clear_declared``)
    clear_declared: bool = False
    clear_unsupported: bool = False
    drop_unmapped: bool = False  # a value outside value_map is not sent (warned about)


@dataclass
class WritePlan:
    """A unified body as the tracker gets it: the downstream ``body`` and the ``warnings`` (one
    ``{"field", "message"}`` per field not stored as sent)."""

    body: dict[str, Any]
    warnings: list[dict[str, str]] = field(default_factory=list)

    def warn(self, name: str, message: str) -> None:
        self.warnings.append({"field": name, "message": message})

    @property
    def warned_fields(self) -> list[str]:
        return [w["field"] for w in self.warnings]


def _is_empty(name: str, value: Any) -> bool:
    """A null, or an empty list for assignees/tags: the field is to be cleared (unset)."""
    return value is None or (name in ARRAY_FIELDS and value == [])


def _transform_of(spec: FieldSpec) -> Transform | None:
    if spec.transform is None:
        return None
    if isinstance(spec.transform, str):
        return build_transform(spec.transform, {})
    options = {k: v for k, v in spec.transform.items() if k != "name"}
    return build_transform(spec.transform["name"], options)


def _inverse(value_map: dict[Any, Any]) -> dict[Any, Any]:
    return {unified: downstream for downstream, unified in value_map.items()}


@dataclass
class RecordMapping:
    resource: str
    fields: dict[str, FieldSpec]
    read: Reader = field(init=False, repr=False)
    writers: list[WriteField] = field(init=False, repr=False)
    custom: dict[str, CompiledPath] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)   # why a field is not stored (warning messages)

    def __post_init__(self) -> None:
        self.read = _generate_reader(self.resource, self.fields, self.custom)
        self._value_templates = [(name, compile_template(spec.value)) for name, spec in self.fields.items()
                                 if spec.value is not None]
        self.writers = []
        for name, spec in self.fields.items():
            if spec.write_path is None:
                continue
            write_map = spec.write_map if spec.write_map is not None else (_inverse(spec.map) if spec.map else None)
            self.writers.append(WriteField(name, compile_path(spec.write_path), _transform_of(spec), write_map,
                                           spec.clear, spec.clear_declared, spec.clear_unsupported,
                                           spec.write_unmapped == "drop" and write_map is not None))
        self._writer_of = {w.name: w for w in self.writers}
        positions = {name: i for i, name in enumerate(self.fields)}
        self._field_order = lambda name: positions.get(name, len(positions))

    @classmethod
    def from_spec(cls, resource: str, spec: ResourceSpec) -> RecordMapping:
        return cls(resource, dict(spec.fields), notes=dict(spec.notes))

    @property
    def value_templates(self) -> dict[str, str]:
        return {name: spec.value for name, spec in self.fields.items() if spec.value is not None}

    @property
    def writable(self) -> frozenset[str]:
        return frozenset(w.name for w in self.writers)

    @property
    def names_settings(self) -> bool:
        """Some field's transform options name a connection setting (``{settings.x}``)."""
        return any(isinstance(s.transform, dict) and "{settings." in str(s.transform) for s in self.fields.values())

    def with_settings(self, settings: dict[str, Any]) -> RecordMapping:
        """This mapping with the transform options that name connection settings rendered."""
        fields = {name: spec.model_copy(update={"transform": render_settings(spec.transform, settings)})
                  if isinstance(spec.transform, dict) else spec for name, spec in self.fields.items()}
        return RecordMapping(self.resource, fields, custom=self.custom, notes=self.notes)

    def with_custom_mappings(self, custom_mappings: dict[str, str]) -> RecordMapping:
        return RecordMapping(self.resource, self.fields, custom={k: compile_path(v) for k, v in custom_mappings.items()},
                             notes=self.notes)

    def render_values(self, context: dict[str, Any]) -> dict[str, Any]:
        """Per-request values of ``value:`` template fields (computed once, not per record)."""
        return {name: template.render(context) for name, template in self._value_templates}

    def write(self, body: dict[str, Any], *, creating: bool = False,
              only: list[str] | frozenset[str] | None = None) -> dict[str, Any]:
        """Unified body -> downstream body, only for fields present. Raises FieldWriteError."""
        return self.plan(body, creating=creating, only=only).body

    def plan(self, body: dict[str, Any], *, creating: bool = False, only: list[str] | frozenset[str] | None = None,
             tracker: str = "The tracker") -> WritePlan:
        """Unified body -> downstream body and the warnings of what is not stored as sent (see the
        module docstring). ``creating``: an add (nulls left out); ``only``: the fields this operation
        writes (the others are warned about). Raises FieldWriteError for a value that cannot be sent
        at all (a null the tracker cannot clear, a tag without id, a value no transform takes)."""
        planned = WritePlan({})
        for name in sorted(body, key=self._field_order):   # the mapping's order: stable downstream bodies
            if name == "custom_mappings":
                continue
            w = self._writer_of.get(name)
            if w is None or (only is not None and name not in only):
                planned.warn(name, f"not stored: {self._not_written_reason(name, w, creating, tracker)}")
            else:
                self._plan_field(planned, w, body[name], creating, tracker)
        self._write_custom(planned.body, body.get("custom_mappings"))
        return planned

    def _not_written_reason(self, name: str, w: WriteField | None, creating: bool, tracker: str) -> str:
        """Why a field this operation does not write is not stored: the mapping's note, else the reason."""
        return self.notes.get(name) or (
            f"{tracker} has no {name}" if w is None else
            f"{tracker} cannot set {name} on create" if creating else
            f"{tracker} cannot change {name} after creation")

    def _plan_field(self, planned: WritePlan, w: WriteField, value: Any, creating: bool, tracker: str) -> None:
        """One written field into ``planned``: a null cleared (or left out), else transformed and mapped."""
        if _is_empty(w.name, value):
            if self._empty_planned(planned, w, creating, tracker):
                return
        elif w.transform is not None and w.transform.single and isinstance(value, list) and len(value) > 1:
            value = _first_only(planned, w.name, value, tracker)
        sent = _transformed(planned, w, value, tracker)
        if w.value_map is not None and isinstance(sent, (str, int, float, bool)):
            sent = _mapped(planned, w, sent, tracker)
        if sent is not MISSING:
            w.path.set(planned.body, sent)

    def _empty_planned(self, planned: WritePlan, w: WriteField, creating: bool, tracker: str) -> bool:
        """A null (``[]`` for arrays): left out on create (warned when the field cannot be empty),
        refused on update when it cannot be cleared, else sent as its declared ``clear``. False: no
        ``clear`` is declared, the null goes through the transform and map like any value."""
        if creating:   # a new record has nothing to clear: the field is left out
            if w.clear_unsupported:
                planned.warn(w.name, f"not stored: {self.notes.get(w.name) or f'{tracker} cannot leave {w.name} empty'}; "
                                     f"the tracker's default applies")
            return True
        if w.clear_unsupported:
            raise FieldWriteError(w.name, self.notes.get(w.name) or f"{tracker} cannot clear {w.name}: send a value")
        if w.clear_declared:
            w.path.set(planned.body, _copy(w.clear))
            return True
        return False

    def _write_custom(self, out: dict[str, Any], custom: dict[str, Any] | None) -> None:
        """The body's ``custom_mappings``, each written at the connection's JSONPath for it."""
        for name, value in (custom or {}).items():
            if name not in self.custom:
                raise FieldWriteError(f"custom_mappings.{name}", f"no custom mapping {name!r} is configured "
                                      f"for this connection; configured: {sorted(self.custom)}")
            self.custom[name].set(out, value)


def _first_only(planned: WritePlan, name: str, value: list[Any], tracker: str) -> list[Any]:
    """A single-valued field sent several values: the first is kept, the others warned about."""
    kept = value[0].get("id") if isinstance(value[0], dict) else value[0]
    planned.warn(name, f"partly stored: {tracker} takes one; only the first ({kept}) was sent")
    return value[:1]


def _transformed(planned: WritePlan, w: WriteField, value: Any, tracker: str) -> Any:
    """``value`` as the field's transform writes it (warned when the tracker stores it altered)."""
    if w.transform is None:
        return value
    try:
        sent = w.transform.write(value)
    except TransformError as exc:
        raise FieldWriteError(w.name, str(exc)) from None
    if w.transform.altered is not None and value is not None and sent is not None:
        altered = w.transform.altered(value, sent)
        if altered:
            planned.warn(w.name, f"altered: {tracker} {altered}")
    return sent


def _mapped(planned: WritePlan, w: WriteField, sent: str | int | float | bool, tracker: str) -> Any:
    """A scalar through the field's value map; MISSING (warned) for a value outside a map that drops those."""
    assert w.value_map is not None
    if w.drop_unmapped and sent not in w.value_map:
        planned.warn(w.name, f"not stored: {tracker} cannot set {w.name} {sent!r} "
                             f"(only {', '.join(map(str, w.value_map))})")
        return MISSING
    return w.value_map.get(sent, sent)


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value


def _generate_reader(resource: str, fields: dict[str, FieldSpec], custom: dict[str, CompiledPath]) -> Reader:
    """Generate ``read(r, values) -> dict`` for these fields (see module docstring)."""
    env: dict[str, Any] = {"MISSING": MISSING}
    lines = ["def read(r, values):", "    if type(r) is not dict: r = {}", "    g = r.get"]
    out: list[str] = []
    for i, (name, spec) in enumerate(fields.items()):
        var = f"f{i}"
        if spec.value is not None:
            lines.append(f"    {var} = values[{name!r}]")
        elif spec.read_path is None:
            lines.append(f"    {var} = None")
        else:
            lines.extend(_get_code(var, compile_path(spec.read_path), env, f"p{i}"))
        if spec.map:
            env[f"m{i}"] = spec.map
            get = f"m{i}.get({var}, {var})" if spec.unmapped == "pass" else f"m{i}.get({var})"
            lines += ["    try:", f"        {var} = {get}", "    except TypeError:", "        pass"]
        transform = _transform_of(spec)
        if transform is not None:
            env[f"t{i}"], env[f"t{i}x"] = transform.read, transform
            lines.append(_inline_code(spec, var, f"t{i}"))
        if spec.default is not None:
            env[f"d{i}"] = spec.default
            lines.append(f"    if {var} is None: {var} = d{i}")
        elif name in ARRAY_FIELDS:
            lines.append(f"    if {var} is None: {var} = []")
        out.append(f"{name!r}: {var}")
    if custom:
        env["custom"] = tuple(custom.items())
        lines.append("    cm = {}")
        lines.append("    for k, p in custom:")
        lines.append("        v = p.get(r)")
        lines.append("        cm[k] = None if v is MISSING else v")
        out.append("'custom_mappings': cm")
    lines.append("    return {" + ", ".join(out) + "}")
    source = "\n".join(lines)
    exec(compile(source, f"<reader {resource}>", "exec"), env)  # noqa: S102 - generated from validated specs
    reader: Reader = env["read"]
    reader.__doc__ = source
    return reader


def _get_code(var: str, path: CompiledPath, env: dict[str, Any], name: str) -> list[str]:
    """Code setting ``var`` to the value at ``path`` in ``r`` (a dict) or None."""
    if path.steps is None:
        env[name] = path
        return [f"    {var} = {name}.get(r)", f"    if {var} is MISSING: {var} = None"]
    if not path.steps:
        return [f"    {var} = r"]
    first, rest = path.steps[0], path.steps[1:]
    code = [f"    {var} = g({first!r})" if isinstance(first, str) else f"    {var} = None"]
    for step in rest:
        if isinstance(step, str):
            code.append(f"    if type({var}) is dict: {var} = {var}.get({step!r})")
            code.append(f"    else: {var} = None")
        else:
            code.append(f"    {var} = {var}[{step}] if type({var}) is list and {-step if step < 0 else step + 1} <= len({var}) else None")
    return code
