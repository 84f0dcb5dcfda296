"""``ConnectorRegistry``: loads connector plugins from the ``unigate.connectors`` entry points."""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import TYPE_CHECKING

import pluggy

from unigate.mapping.spec import MappingFile, load_mapping_file, parse_mapping
from unigate.plugins import hookspec
from unigate.plugins.hookspec import ConnectorDefinition

if TYPE_CHECKING:
    from unigate.connector.base import Connector

log = logging.getLogger("unigate.plugins")
ENTRY_POINT_GROUP = "unigate.connectors"
BUILTIN_PREFIX = "unigate_connectors."


@dataclass(frozen=True)
class LoadFailure:
    source: str        # entry point name or service id
    module: str
    error: str
    builtin: bool


@dataclass
class ConnectorRegistry:
    connectors: dict[str, Connector] = field(default_factory=dict)
    definitions: dict[str, ConnectorDefinition] = field(default_factory=dict)
    failures: list[LoadFailure] = field(default_factory=list)

    def get(self, service_id: str) -> Connector | None:
        return self.connectors.get(service_id)

    @property
    def builtin_failures(self) -> list[LoadFailure]:
        return [f for f in self.failures if f.builtin]

    @classmethod
    def load(cls, eps: list[EntryPoint] | None = None) -> ConnectorRegistry:
        registry = cls()
        pm = pluggy.PluginManager(hookspec.PROJECT)
        pm.add_hookspecs(hookspec)
        for ep in eps if eps is not None else sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            builtin = ep.value.startswith(BUILTIN_PREFIX)
            try:
                module = ep.load()
                pm.register(module, name=ep.name)
            except Exception as exc:  # noqa: BLE001 - any plugin failure is reported, not fatal
                registry._fail(ep.name, ep.value, exc, builtin)
                continue
            registry._load_module(ep.name, module, builtin)
        return registry

    def register_module(self, name: str, module: ModuleType) -> None:
        """Register a plugin module directly (tests, embedding)."""
        pm = pluggy.PluginManager(hookspec.PROJECT)
        pm.add_hookspecs(hookspec)
        pm.register(module, name=name)
        self._load_module(name, module, builtin=module.__name__.startswith(BUILTIN_PREFIX))

    def _load_module(self, name: str, module: ModuleType, builtin: bool) -> None:
        from unigate.connector.base import Connector

        try:
            definitions = list(module.unigate_connectors())
        except Exception as exc:  # noqa: BLE001
            self._fail(name, module.__name__, exc, builtin)
            return
        for definition in definitions:
            try:
                spec = _mapping_of(definition)
                if spec.service_id != definition.service_id:
                    raise ValueError(f"mapping file declares service_id {spec.service_id!r}, "
                                     f"the definition {definition.service_id!r}")
                if definition.service_id in self.connectors:
                    raise ValueError(f"service_id {definition.service_id!r} is already provided by another plugin")
                connector_class = definition.connector_class or Connector
                self.connectors[definition.service_id] = connector_class(spec)
                self.definitions[definition.service_id] = definition
            except Exception as exc:  # noqa: BLE001
                self._fail(definition.service_id, module.__name__, exc, builtin)

    def _fail(self, source: str, module: str, exc: BaseException, builtin: bool) -> None:
        message = str(exc) or type(exc).__name__
        log.error("connector %s (%s) failed to load: %s", source, module, message)
        log.debug("".join(traceback.format_exception(exc)))
        self.failures.append(LoadFailure(source, module, message, builtin))


def _mapping_of(definition: ConnectorDefinition) -> MappingFile:
    if isinstance(definition.mapping, dict):
        return parse_mapping(definition.mapping, f"<{definition.service_id} mapping>")
    return load_mapping_file(definition.mapping)
