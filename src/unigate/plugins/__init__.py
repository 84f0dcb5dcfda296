"""Connector plugins: the hook contract (``hookspec``) and the registry that loads them."""

from unigate.plugins.hookspec import ConnectorDefinition, SandboxProfile, hookimpl, packaged_mapping

__all__ = ["ConnectorDefinition", "SandboxProfile", "hookimpl", "packaged_mapping"]
