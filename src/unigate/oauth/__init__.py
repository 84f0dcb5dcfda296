"""OAuth2 for connectors that declare ``connection.oauth2`` in their manifest (docs/oauth.md).

- :mod:`~unigate.oauth.pkce`: the PKCE verifier and its S256 challenge;
- :mod:`~unigate.oauth.state`: signed, expiring ``state`` values (the authorize link's and the provider's);
- :mod:`~unigate.oauth.client`: the provider's token endpoint (code exchange, refresh) and post-token calls;
- :mod:`~unigate.oauth.flow`: authorize and callback, as the Vault API's routes run them;
- :mod:`~unigate.oauth.refresh`: refresh before expiry and after a 401, single-flight per connection.

:func:`build` wires them for a gateway.
"""

from __future__ import annotations

from unigate.downstream.pool import TransportWrapper
from unigate.oauth.client import TokenClient
from unigate.oauth.flow import OAuthFlows
from unigate.oauth.refresh import Leases, RefreshLocks, TokenManager
from unigate.oauth.state import StateSigner
from unigate.plugins.registry import ConnectorRegistry
from unigate.vault.crypto import SecretBox
from unigate.vault.store import ConnectionStore


def build(store: ConnectionStore, registry: ConnectorRegistry, box: SecretBox,
          origins: dict[str, str] | None = None, *, wrap_transport: TransportWrapper | None = None,
          leases: Leases | None = None) -> TokenManager:
    """The gateway's OAuth2: its flows (``.flows``) and its token refresher; ``origins``: the
    operator's ``UNIGATE_OAUTH_ORIGINS`` (manifest OAuth2 endpoints reached elsewhere);
    ``wrap_transport`` interposes on the calls to providers (tests: a provider's public host served
    locally); ``leases``: refreshes are single-flight across the processes sharing them, not only within this one."""
    client = TokenClient(wrap_transport=wrap_transport)
    flows = OAuthFlows(store, registry, StateSigner(box.derive("oauth-state")), client, origins)
    return TokenManager(flows, client, RefreshLocks(leases))


__all__ = ["Leases", "OAuthFlows", "RefreshLocks", "StateSigner", "TokenClient", "TokenManager", "build"]
