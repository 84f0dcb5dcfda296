"""The vault: apps, consumers and their connections, with credentials encrypted at rest.

``ConnectionStore`` (SQLite, the embedded default) holds the records; ``SecretBox`` encrypts
credentials; ``resolve`` turns the request's headers into one ``Connection``.
"""

from unigate.vault.crypto import SecretBox, load_secret_key
from unigate.vault.models import App, Connection, Consumer
from unigate.vault.store import ConnectionStore

__all__ = ["App", "Connection", "ConnectionStore", "Consumer", "SecretBox", "load_secret_key"]
