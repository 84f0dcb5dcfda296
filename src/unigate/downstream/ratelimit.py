"""A tracker's rate limits as Apideck states them (manifest ``http.rate_limit``).

- ``downstream_headers``: the tracker's quota headers as ``x-downstream-ratelimit-limit``,
  ``-remaining`` and ``-reset`` (a Unix time) on the rate-limit error (answers that succeed carry
  ``http.rate_limit_headers``), each left out when the answer lacks it;
- ``refusal_wait``: whether a refused answer is a rate limit, and the seconds to wait: a 429, or one
  of ``statuses`` (GitHub's 403) whose answer has ``Retry-After``, no requests left, or an error
  message naming the limit. The wait is ``Retry-After``, else the seconds to ``reset`` when no
  request is left, else ``default_wait`` (GitHub: "wait at least one minute").
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from unigate.mapping.spec import RateLimitSpec

PREFIX = "x-downstream-ratelimit-"


def downstream_headers(spec: RateLimitSpec | None, headers: Mapping[str, str] | None) -> dict[str, str]:
    if spec is None or headers is None:
        return {}
    named = {"limit": spec.limit, "remaining": spec.remaining, "reset": spec.reset}
    return {PREFIX + key: headers[name] for key, name in named.items() if name and headers.get(name)}


def refusal_wait(spec: RateLimitSpec | None, status: int, headers: Mapping[str, str], messages: list[str],
                 now: float | None = None) -> str | None:
    """Seconds to wait (text, for ``Retry-After``) when the refusal is a rate limit, else None."""
    if status != 429 and not _limited(spec, status, headers, messages):
        return None
    retry_after = headers.get("retry-after")
    if retry_after or spec is None:
        return retry_after
    reset = headers.get(spec.reset, "") if spec.reset else ""
    exhausted = not spec.remaining or headers.get(spec.remaining) in (None, "0")
    if reset.isdigit() and exhausted:   # a reset is the quota's: it says nothing of a secondary limit
        return str(max(1, int(reset) - int(now if now is not None else time.time())))
    return str(spec.default_wait)


def _limited(spec: RateLimitSpec | None, status: int, headers: Mapping[str, str], messages: list[str]) -> bool:
    if spec is None or status not in spec.statuses:
        return False
    if headers.get("retry-after") or (spec.remaining and headers.get(spec.remaining) == "0"):
        return True
    return bool(spec.message) and any(str(spec.message).casefold() in m.casefold() for m in messages)
