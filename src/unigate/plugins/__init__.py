"""Connector plugins: the hook contract (``hookspec``) and the registry that loads them."""

from unigate.plugins.hookspec import ConnectorDefinition, LiveProfile, SandboxProfile, hookimpl, packaged_mapping
from unigate.plugins.variants import manifest_variant

__all__ = ["ConnectorDefinition", "LiveProfile", "SandboxProfile", "hookimpl", "manifest_variant", "packaged_mapping"]
