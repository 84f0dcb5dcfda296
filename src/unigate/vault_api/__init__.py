"""Apideck's Vault API over HTTP, for the Issue Tracking subset: consumers, connections (with
``form_fields``, ``state`` and ``health``), validation and custom mappings, plus the audit trail.

``routes.respond`` answers every ``/vault/...`` path but ``/vault/logs``; see docs/vault-api.md.
"""

from unigate.vault_api.routes import PREFIX, ROUTES, respond

__all__ = ["PREFIX", "ROUTES", "respond"]
