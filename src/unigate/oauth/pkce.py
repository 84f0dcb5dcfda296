"""PKCE (RFC 7636): a code verifier and its S256 challenge."""

from __future__ import annotations

import base64
import hashlib
import secrets


def new_verifier() -> str:
    """43 to 128 unreserved characters (RFC 7636 §4.1): 64 here, from 48 random bytes."""
    return secrets.token_urlsafe(48)


def s256(verifier: str) -> str:
    """``BASE64URL(SHA256(verifier))`` without padding: the ``code_challenge`` for ``S256``."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
