"""A connection's service id, settings and credentials checked against the installed connector,
before the vault stores them; every refusal is one sentence saying what to change."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from unigate.vault.store import VaultError

if TYPE_CHECKING:
    from unigate.mapping.spec import SettingSpec
    from unigate.plugins.registry import ConnectorRegistry

# settings every connection may set: the dispatcher reads them, whatever the mapping file declares
GENERIC_SETTINGS = ("timeout", "max_response_bytes")


def _names(names: list[str]) -> str:
    return ", ".join(sorted(names)) or "none"


def check_service(registry: ConnectorRegistry, service_id: str) -> None:
    """Raise unless a connector for ``service_id`` is installed (and loaded)."""
    if registry.get(service_id) is not None:
        return
    failed = [f for f in registry.failures if f.source == service_id]
    if failed:
        raise VaultError(f"the {service_id} connector is installed but failed to load ({failed[0].error}); "
                         f"the loaded connectors are: {_names(list(registry.connectors))}")
    raise VaultError(f"there is no connector {service_id!r}; the installed connectors are: "
                     f"{_names(list(registry.connectors))} (`unigate connectors` lists them)")


def _missing(declared: dict[str, SettingSpec], given: dict[str, Any]) -> list[str]:
    return sorted(k for k, s in declared.items()
                  if s.required and s.default is None and given.get(k) in (None, ""))


def check_connection_config(registry: ConnectorRegistry, service_id: str, settings: dict[str, Any],
                            credentials: dict[str, Any], *, allow_missing: bool = False) -> None:
    """Raise ``VaultError`` unless ``service_id`` is installed and the settings and credentials are
    the ones its mapping file declares (required ones present unless ``allow_missing``, no unknown
    names). Values of credentials are never put in a message."""
    check_service(registry, service_id)
    declared = registry.connectors[service_id].spec.connection
    problems = []
    unknown = sorted(set(settings) - set(declared.settings) - set(GENERIC_SETTINGS))
    if unknown:
        problems.append(f"{service_id} has no setting {_names(unknown)} (its settings are: "
                        f"{_names(list(declared.settings))}; every connection may also set "
                        f"{', '.join(GENERIC_SETTINGS)})")
    missing = [] if allow_missing else _missing(declared.settings, settings)
    if missing:
        problems.append(f"{service_id} needs the setting {_names(missing)} "
                        f"({' '.join(f'-s {k}=VALUE' for k in missing)})")
    problems += _generic_problems(settings) + _pattern_problems(service_id, declared.settings, settings)
    if problems:
        raise VaultError("; ".join(problems))


def credential_warnings(registry: ConnectorRegistry, service_id: str, credentials: dict[str, Any]) -> list[str]:
    """Warning sentences about the credentials' names (never their values): required ones missing
    (a connection may get them later with ``connection-update``; until then its requests answer
    ``ConnectionSettingsError``) and ones the connector does not use (stored, never sent)."""
    declared = registry.connectors[service_id].spec.connection.credentials
    warnings = []
    missing = _missing(declared, credentials)
    if missing:
        warnings.append(f"warning: the connection has no {_names(missing)} credential yet: its requests answer "
                        f"ConnectionSettingsError until `unigate vault connection-update CONNECTION_ID "
                        f"{' '.join(f'-c {k}=-' for k in missing)}`")
    unused = sorted(set(credentials) - set(declared))
    if unused:
        warnings.append(f"warning: {service_id} does not use the credential {_names(unused)} (its credentials are: "
                        f"{_names(list(declared))}); it is stored encrypted but never sent")
    return warnings


def _pattern_problems(service_id: str, declared: dict[str, SettingSpec], settings: dict[str, Any]) -> list[str]:
    """The settings whose value does not match their declared ``pattern`` (unset ones are not checked)."""
    return [f"{service_id}'s setting {name} must match {spec.pattern} (got {settings[name]!r})"
            for name, spec in declared.items()
            if spec.pattern and settings.get(name) not in (None, "")
            and re.fullmatch(spec.pattern, str(settings[name])) is None]


def _generic_problems(settings: dict[str, Any]) -> list[str]:
    problems = []
    if "timeout" in settings:
        try:
            timeout = float(settings["timeout"])
        except (TypeError, ValueError):
            timeout = 0.0
        if not 0 < timeout < math.inf:
            problems.append("timeout must be a positive number of seconds")
    if "max_response_bytes" in settings:
        value = settings["max_response_bytes"]
        if not (isinstance(value, str) and value.isdigit() and int(value) > 0) and not (
                isinstance(value, int) and not isinstance(value, bool) and value > 0):
            problems.append("max_response_bytes must be a positive whole number of bytes")
    return problems


def missing_names(registry: ConnectorRegistry, service_id: str, settings: dict[str, Any],
                  credentials: dict[str, Any]) -> list[str]:
    """The required settings and credentials the connection lacks (the Vault API's ``missing_settings``)."""
    declared = registry.connectors[service_id].spec.connection
    unauthorized = ["access_token"] if declared.oauth2 is not None and not credentials.get("access_token") else []
    return sorted(_missing(declared.settings, settings) + _missing(declared.credentials, credentials) + unauthorized)


def secret_settings(registry: ConnectorRegistry) -> Callable[[str], frozenset[str]]:
    """service id -> the names of its settings declared ``secret`` (for the store's audit trail)."""
    def names(service_id: str) -> frozenset[str]:
        connector = registry.connectors.get(service_id)
        if connector is None:
            return frozenset()
        return frozenset(k for k, s in connector.spec.connection.settings.items() if s.secret)

    return names
