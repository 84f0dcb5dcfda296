"""Removing secrets (credential values) from anything we show: ``_raw``, errors, logs.

Policy, by the secret's length:

* 4 characters or more: replaced wherever it occurs, also inside longer words, and in each way a
  URL carries it (percent-encoded forms).
* 1 to 3 characters (a short user name, a PIN): replaced wherever it stands as a whole word, i.e.
  not next to a letter, digit or ``_`` (``"bob"`` in ``user bob not found`` but not in
  ``bobcat``). Replacing every occurrence of a three-letter value would destroy the text, and a
  value that short cannot be told apart from ordinary words; as a whole word it is still hidden.

Secrets are looked for in strings, dictionary keys (a tracker may key an object by a user name or
token) and URLs (path and query; query parameters named like a credential are hidden whatever
their value).
"""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

REDACTED = "[REDACTED]"
SENSITIVE_PARAMS = frozenset({"key", "api_key", "apikey", "token", "access_token", "password", "secret",
                              # OAuth2 (unigate.oauth): never shown whatever the value
                              "client_secret", "refresh_token", "code_verifier"})
SUBSTRING_MIN_LENGTH = 4  # shorter secrets are redacted as whole words only (see the module docstring)


class Redactor:
    def __init__(self, secrets: list[str]) -> None:
        # each secret also as a URL carries it (a query value, a path segment, a downstream error
        # echoing the URL); longest first, so a secret containing another is replaced whole
        values = {str(s) for s in secrets if s}
        forms = {form for s in values if len(s) >= SUBSTRING_MIN_LENGTH for form in _url_forms(s)}
        self.secrets = sorted(forms, key=len, reverse=True)
        short = {form for s in values if len(s) < SUBSTRING_MIN_LENGTH for form in _url_forms(s)} - forms
        self.short_secrets = sorted(short, key=len, reverse=True)
        self._short = _whole_words(tuple(self.short_secrets))

    def __reduce__(self) -> tuple[Any, tuple[tuple[str, ...], tuple[str, ...]]]:
        """Pickled as its forms (the request log's writer process): one Redactor per set of secrets there."""
        return _restored, (tuple(self.secrets), tuple(self.short_secrets))

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        if self._short is not None:
            value = self._short.sub(REDACTED, value)
        return value

    def deep(self, value: Any) -> Any:
        if not self.secrets and self._short is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.deep(v) for v in value]
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            for k, v in value.items():
                key = self.text(k) if isinstance(k, str) else k
                while key in out:  # two keys redacted alike: keep both values
                    key = f"{key}'"
                out[key] = self.deep(v)
            return out
        return value

    def url(self, url: str) -> str:
        try:
            parts = urlsplit(url)
        except ValueError:  # e.g. a bracketed host that is no IP: hostile input, shown with its query cut
            return self.text(url.split("?", 1)[0]) + ("?[REDACTED]" if "?" in url else "")
        query = [(self.text(k), REDACTED if k.lower() in SENSITIVE_PARAMS else self.text(v))
                 for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        return self.text(urlunsplit(parts._replace(query=urlencode(query))))


def _url_forms(secret: str) -> set[str]:
    """``secret`` as written and percent-encoded the ways clients and servers write URLs."""
    return {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), quote_plus(secret, safe="/")}


def _whole_words(short_secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    """Short secrets are replaced only as whole words (a 3-letter token inside a word is no leak)."""
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, short_secrets)) + r")(?!\w)") if short_secrets else None


@functools.lru_cache(maxsize=256)
def _restored(secrets: tuple[str, ...], short_secrets: tuple[str, ...]) -> Redactor:
    """The Redactor whose forms these are (unpickling: see ``Redactor.__reduce__``)."""
    redactor = Redactor.__new__(Redactor)
    redactor.secrets, redactor.short_secrets = list(secrets), list(short_secrets)
    redactor._short = _whole_words(short_secrets)
    return redactor
