"""``ConnectorRegistry``: loads connector plugins and the components they register.

Three doors, one registry:

- **entry points** of the ``unigate.connectors`` group naming a plugin *module* (its hooks are
  called through pluggy's hook relay: ``unigate_connectors`` and the ``register_*`` component hooks);
- **entry points naming a manifest** shipped as package data (``acme = "unigate_acme:manifest.yaml"``):
  a YAML-only connector, no Python;
- **a directory of manifests** (``UNIGATE_CONNECTORS_DIR``, several joined with ``os.pathsep``):
  each ``*.yaml`` in it, or ``<name>/manifest.yaml``, is a YAML-only connector.

Each plugin is called on its own (a pluggy subset hook caller), so a plugin that fails is reported
with its name and skipped while the others load.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from importlib.resources import files
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from unigate.components import COMPONENTS, Kind
from unigate.mapping.spec import MappingFile, load_mapping_file, parse_mapping
from unigate.plugins import hookspec
from unigate.plugins.hookspec import ConnectorDefinition

if TYPE_CHECKING:
    from unigate.connector.base import Connector

log = logging.getLogger("unigate.plugins")
ENTRY_POINT_GROUP = "unigate.connectors"
BUILTIN_PREFIX = "unigate_connectors."
CONNECTORS_DIR_ENV = "UNIGATE_CONNECTORS_DIR"
MANIFEST_SUFFIXES = (".yaml", ".yml")

# register_* hook -> the component kind its {name: component} answer registers
COMPONENT_HOOKS: dict[str, Kind] = {
    "register_transforms": "transform",
    "register_record_preparers": "preparer",
    "register_paginators": "paginator",
    "register_request_builders": "request",
    "register_auth_schemes": "auth",
    "register_webhook_handlers": "webhook",
}


@dataclass(frozen=True)
class LoadFailure:
    source: str        # entry point name, manifest path or service id
    module: str
    error: str
    builtin: bool


@dataclass
class ConnectorRegistry:
    connectors: dict[str, Connector] = field(default_factory=dict)
    definitions: dict[str, ConnectorDefinition] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)   # service id -> the plugin module or manifest providing it
    failures: list[LoadFailure] = field(default_factory=list)
    plugins: pluggy.PluginManager = field(default_factory=lambda: _plugin_manager())

    def get(self, service_id: str) -> Connector | None:
        return self.connectors.get(service_id)

    @property
    def builtin_failures(self) -> list[LoadFailure]:
        return [f for f in self.failures if f.builtin]

    def builtin_folders(self) -> dict[str, str]:
        """Service id -> the folder of ``connectors/`` providing it, for each built-in connector
        (a folder may provide several: ``jira`` and ``jira-api-token``)."""
        return {service_id: origin[len(BUILTIN_PREFIX):].split(".")[0]
                for service_id, origin in sorted(self.origins.items()) if origin.startswith(BUILTIN_PREFIX)}

    @classmethod
    def load(cls, eps: list[EntryPoint] | None = None,
             manifest_dirs: Iterable[Path] | None = None) -> ConnectorRegistry:
        """Every installed plugin (or ``eps``), then the manifests of ``manifest_dirs`` (default:
        ``$UNIGATE_CONNECTORS_DIR``)."""
        registry = cls()
        modules: list[tuple[str, ModuleType, bool]] = []
        for ep in eps if eps is not None else sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            builtin = ep.value.startswith(BUILTIN_PREFIX)
            if ep.attr is not None and ep.attr.endswith(MANIFEST_SUFFIXES):
                registry._load_packaged_manifest(ep, builtin)
                continue
            try:
                module = ep.load()
                registry.plugins.register(module, name=ep.name)
            except Exception as exc:  # noqa: BLE001 - any plugin failure is reported, not fatal
                registry._fail(ep.name, ep.value, exc, builtin)
                continue
            modules.append((ep.name, module, builtin))
        for name, module, builtin in modules:    # components first: manifests may name them
            registry._register_components(name, module, builtin)
        for name, module, builtin in modules:
            registry._load_connectors(name, module, builtin)
        for directory in manifest_dirs if manifest_dirs is not None else _dirs_from_env():
            registry.load_manifest_dir(directory)
        return registry

    def register_module(self, name: str, module: ModuleType | Any) -> None:
        """Register a plugin module (or any object with the hook functions as attributes) directly:
        tests, embedding."""
        if not isinstance(module, ModuleType):   # pluggy keys plugins by hash: give it a module
            wrapper = ModuleType(module.__name__)
            wrapper.__dict__.update(vars(module))
            module = wrapper
        builtin = module.__name__.startswith(BUILTIN_PREFIX)
        self.plugins.register(module, name=name)
        self._register_components(name, module, builtin)
        self._load_connectors(name, module, builtin)

    def load_manifest_dir(self, directory: Path) -> None:
        """Each ``*.yaml`` of ``directory`` and each ``<name>/manifest.yaml`` in it: a YAML-only connector."""
        directory = Path(directory)
        if not directory.is_dir():
            self._fail(str(directory), CONNECTORS_DIR_ENV, NotADirectoryError(f"{directory} is not a directory"), False)
            return
        found = sorted(p for p in directory.iterdir() if p.suffix in MANIFEST_SUFFIXES and p.is_file())
        found += sorted(p / "manifest.yaml" for p in directory.iterdir() if (p / "manifest.yaml").is_file())
        for path in found:
            self._add_manifest(path, source=str(path), module=CONNECTORS_DIR_ENV, builtin=False)

    # -- loading ------------------------------------------------------------------------------------
    def _hook(self, name: str, hook: str) -> Callable[..., list[Any]]:
        """The hook relay restricted to one plugin: its answers, its failures."""
        plugin = self.plugins.get_plugin(name)
        others = [p for p in self.plugins.get_plugins() if p is not plugin]
        return self.plugins.subset_hook_caller(hook, remove_plugins=others)

    def _register_components(self, name: str, module: Any, builtin: bool) -> None:
        for hook, kind in COMPONENT_HOOKS.items():
            try:
                for answer in self._hook(name, hook)():
                    for component_name, component in (answer or {}).items():
                        COMPONENTS.register(kind, component_name, component, source=f"plugin {name}")
            except Exception as exc:  # noqa: BLE001
                self._fail(name, module.__name__, exc, builtin)

    def _load_connectors(self, name: str, module: Any, builtin: bool) -> None:
        try:
            definitions = [d for answer in self._hook(name, "unigate_connectors")() for d in answer or ()]
        except Exception as exc:  # noqa: BLE001
            self._fail(name, module.__name__, exc, builtin)
            return
        for definition in definitions:
            try:
                self._add(definition, _mapping_of(definition), module.__name__)
            except Exception as exc:  # noqa: BLE001
                self._fail(definition.service_id, module.__name__, exc, builtin)

    def _load_packaged_manifest(self, ep: EntryPoint, builtin: bool) -> None:
        try:
            path = Path(str(files(ep.module).joinpath(ep.attr or "")))
        except Exception as exc:  # noqa: BLE001 - the package is missing
            self._fail(ep.name, ep.value, exc, builtin)
            return
        self._add_manifest(path, source=ep.name, module=ep.value, builtin=builtin)

    def _add_manifest(self, path: Path, *, source: str, module: str, builtin: bool) -> None:
        try:
            spec = load_mapping_file(path)
            origin = str(path) if module == CONNECTORS_DIR_ENV else module   # the file, or `package:manifest.yaml`
            self._add(ConnectorDefinition(service_id=spec.service_id, mapping=path), spec, origin)
        except Exception as exc:  # noqa: BLE001
            self._fail(source, module, exc, builtin)

    def _add(self, definition: ConnectorDefinition, spec: MappingFile, origin: str) -> None:
        from unigate.connector.base import Connector

        if spec.service_id != definition.service_id:
            raise ValueError(f"mapping file declares service_id {spec.service_id!r}, "
                             f"the definition {definition.service_id!r}")
        if definition.service_id in self.connectors:
            raise ValueError(f"service_id {definition.service_id!r} is already provided by another plugin")
        connector_class = definition.connector_class or Connector
        self.connectors[definition.service_id] = connector_class(spec)
        self.definitions[definition.service_id] = definition
        self.origins[definition.service_id] = origin

    def _fail(self, source: str, module: str, exc: BaseException, builtin: bool) -> None:
        message = str(exc) or type(exc).__name__
        log.error("connector %s (%s) failed to load: %s", source, module, message)
        log.debug("".join(traceback.format_exception(exc)))
        self.failures.append(LoadFailure(source, module, message, builtin))


def _plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspec.PROJECT)
    pm.add_hookspecs(hookspec)
    return pm


def _dirs_from_env() -> list[Path]:
    value = os.environ.get(CONNECTORS_DIR_ENV, "")
    return [Path(part) for part in value.split(os.pathsep) if part.strip()]


def _mapping_of(definition: ConnectorDefinition) -> MappingFile:
    if isinstance(definition.mapping, dict):
        return parse_mapping(definition.mapping, f"<{definition.service_id} mapping>")
    return load_mapping_file(definition.mapping)
