"""Encryption of stored credentials and derivation of the gateway's other keys.

The master secret comes from ``UNIGATE_SECRET_KEY`` (a Fernet key, urlsafe base64 of 32 bytes) or
from the file named by ``UNIGATE_SECRET_KEY_FILE``. Credentials are sealed with Fernet
(AES-128-CBC + HMAC-SHA256, from ``cryptography``); other keys (cursor signing) are derived from
the same secret with HKDF so one secret is all an operator manages.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretKeyError(RuntimeError):
    """The master secret is missing or malformed; the message says how to provide one."""


class WrongSecretKeyError(SecretKeyError):
    """The secret key is valid but not the one this vault's credentials are encrypted with."""


KEY_CHECK_TOKEN = b"unigate vault key check v1"  # sealed into the vault; opening it proves the key


def generate_secret_key() -> str:
    return Fernet.generate_key().decode()


def load_secret_key(env: dict[str, str] | None = None) -> str:
    env = dict(os.environ) if env is None else env
    key = env.get("UNIGATE_SECRET_KEY")
    if not key and env.get("UNIGATE_SECRET_KEY_FILE"):
        path = Path(env["UNIGATE_SECRET_KEY_FILE"])
        if not path.exists():
            raise SecretKeyError(f"UNIGATE_SECRET_KEY_FILE points to {path}, which does not exist")
        key = path.read_text().strip()
    if not key:
        raise SecretKeyError(
            "no secret key: set UNIGATE_SECRET_KEY (generate one with `unigate vault keygen`) "
            "or UNIGATE_SECRET_KEY_FILE to a file holding it"
        )
    try:
        Fernet(key.encode())
    except (ValueError, TypeError) as exc:
        raise SecretKeyError("the secret key is not a valid Fernet key (urlsafe base64, 32 bytes)") from exc
    return key


def write_key_file(path: Path, key: str) -> None:
    """Write ``key`` to a new file readable by its owner only (0600); an existing file is refused."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, (key + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_key_file(path: Path) -> tuple[str, bool]:
    """Read the key at ``path``, creating it (mode 600) if absent. Returns (key, created)."""
    if path.exists():
        return path.read_text().strip(), False
    key = generate_secret_key()
    write_key_file(path, key)
    return key, True


class SecretBox:
    """Seals and opens credential dicts; derives purpose-bound subkeys."""

    def __init__(self, key: str) -> None:
        self._key = key.encode()
        self._fernet = Fernet(self._key)

    def seal(self, credentials: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(orjson.dumps(credentials))

    def open(self, token: bytes) -> dict[str, Any]:
        try:
            return orjson.loads(self._fernet.decrypt(token))
        except InvalidToken as exc:
            raise WrongSecretKeyError(
                "stored credentials cannot be decrypted with this secret key (was it rotated?)"
            ) from exc

    def check_value(self) -> bytes:
        """``KEY_CHECK_TOKEN`` sealed with this key (stored in the vault's meta table)."""
        return self._fernet.encrypt(KEY_CHECK_TOKEN)

    def opens(self, check_value: bytes) -> bool:
        """Whether ``check_value`` was sealed with this key."""
        try:
            return self._fernet.decrypt(check_value) == KEY_CHECK_TOKEN
        except InvalidToken:
            return False

    def can_open(self, token: bytes) -> bool:
        try:
            self._fernet.decrypt(token)
        except InvalidToken:
            return False
        return True

    def reseal(self, token: bytes, new: SecretBox) -> bytes:
        """``token`` opened with this key and sealed with ``new`` (key rotation)."""
        try:
            return new._fernet.encrypt(self._fernet.decrypt(token))
        except InvalidToken as exc:
            raise WrongSecretKeyError("stored credentials cannot be decrypted with this secret key") from exc

    def derive(self, purpose: str, length: int = 32) -> bytes:
        raw = base64.urlsafe_b64decode(self._key)
        return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode()).derive(raw)
