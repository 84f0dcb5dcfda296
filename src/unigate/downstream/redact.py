"""Removing secrets (credential values) from anything we show: ``_raw``, errors, logs."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

REDACTED = "[REDACTED]"
SENSITIVE_PARAMS = frozenset({"key", "api_key", "apikey", "token", "access_token", "password", "secret"})


class Redactor:
    def __init__(self, secrets: list[str]) -> None:
        # each secret also as a URL carries it (a query value, a path segment, a downstream error
        # echoing the URL); longest first, so a secret containing another is replaced whole
        forms = {form for s in secrets if s and len(s) >= 4 for form in _url_forms(s)}
        self.secrets = sorted(forms, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def deep(self, value: Any) -> Any:
        if not self.secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.deep(v) for v in value]
        if isinstance(value, dict):
            return {k: self.deep(v) for k, v in value.items()}
        return value

    def url(self, url: str) -> str:
        parts = urlsplit(url)
        query = [(k, REDACTED if k.lower() in SENSITIVE_PARAMS else self.text(v))
                 for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        return self.text(urlunsplit(parts._replace(query=urlencode(query))))


def _url_forms(secret: str) -> set[str]:
    """``secret`` as written and percent-encoded the ways clients and servers write URLs."""
    return {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), quote_plus(secret, safe="/")}
