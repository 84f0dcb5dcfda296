"""A tracker account's rate-limit budget as the gateway has learned it, and the rules it is spent by.

The state of one account (``Budget``: a dict of floats, a key absent when unknown, the same fields the
Redis script of ``unigate.downstream.limiter`` keeps in a hash) is:

- ``L``: the quota of a window (the tracker's ``limit`` header);
- ``R``: the latest reset the tracker said; ``P``: a window's length in seconds, the shortest gap seen
  between two windows' resets (exact for windows aligned on the clock, longer — so on the safe side —
  where a window starts with its first call);
- ``opens`` / ``closes``: the window the next sends are counted in (Unix times; ``closes`` from the
  ``reset`` header), and ``left``: the sends left in it, counted down by each call *before* it is sent
  (so concurrent calls never overspend it) and lowered to what the tracker says is left;
- ``blocked``: no call is sent before this time (a refusal's ``Retry-After``, or its learned wait).

:func:`reserve` gives a call its send time: now, or later (the next window, the end of a block);
calls reserve in arrival order, so waiting is first come, first served. A time further than the
call's wait budget is refused without being spent (the caller answers 429 with that wait).
:func:`learn` folds an answer's headers and refusal in. Nothing here reads the clock: callers pass
``now`` (Unix time: trackers' reset headers are Unix times, and several hosts share one budget).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Budget = dict[str, float]

MARGIN = 0.05          # seconds after a window's reset before its next send (the tracker's clock, rounding)
SAME_WINDOW = 0.5      # seconds within which two reset times are the same window's
UNIX_TIMES = 1e9       # a reset value at least this is a Unix time, below it seconds from now


@dataclass(frozen=True)
class Observation:
    """What one answer says of the budget; ``None`` where it says nothing."""

    limit: float | None = None
    remaining: float | None = None
    reset: float | None = None      # Unix time the window ends
    wait: float | None = None       # a refusal: seconds before anything more may be sent


def reserve(budget: Budget, now: float, max_wait: float) -> tuple[bool, float]:
    """``(True, seconds to wait)`` with the send counted, or ``(False, seconds needed)`` when that is
    over ``max_wait`` (``budget`` then unchanged)."""
    state = dict(budget)
    at = max(now, state.get("blocked", 0.0), state.get("opens", 0.0))
    if "closes" in state and at >= state["closes"]:
        _roll(state, at)
    if state.get("left", 1.0) <= 0:
        if "closes" not in state and "P" in state and "opens" in state:
            state["closes"] = state["opens"] + state["P"]
        if "closes" in state:
            at = max(at, state["closes"] + MARGIN)
            _roll(state, at)
            state["opens"] = at   # the calls after this one wait as long
    wait = at - now
    if wait > max_wait:
        return False, wait
    if "left" in state:
        state["left"] -= 1
    budget.clear()
    budget.update(state)
    return True, wait


def _roll(state: Budget, at: float) -> None:
    """The known window ended by ``at``: the next opens with the learned quota (unknown without one)."""
    closes = state.pop("closes")
    state["opens"] = closes
    period = state.get("P", 0.0)
    if period > 0:
        state["closes"] = closes + period * (math.floor((at - closes) / period) + 1)
    if "L" in state:
        state["left"] = state["L"]
    else:
        state.pop("left", None)


def learn(budget: Budget, now: float, seen: Observation) -> None:
    """Fold one answer into the budget: its quota headers, and a refusal's wait."""
    if seen.limit is not None:
        budget["L"] = seen.limit
    if seen.remaining is not None and seen.reset is not None and seen.reset > now:
        _window(budget, now, seen.remaining, seen.reset)
    if seen.wait is not None:
        budget["blocked"] = max(budget.get("blocked", 0.0), now + seen.wait)


def _window(budget: Budget, now: float, remaining: float, reset: float) -> None:
    seen = budget.get("R", reset)
    if reset > seen + SAME_WINDOW:   # windows follow each other: one is at most as long as the gap between resets
        budget["P"] = min(budget.get("P", reset - seen), reset - seen)
    budget["R"] = max(seen, reset)
    closes = budget.get("closes")
    if closes is None or reset > closes + SAME_WINDOW:   # a window newer than the one known
        budget["left"] = remaining if closes is not None else min(budget.get("left", remaining), remaining)
        budget["closes"] = reset
        budget["opens"] = min(budget.get("opens", now), now)
    elif reset >= closes - SAME_WINDOW or budget.get("opens", now) <= now:
        # the same window (the tracker may count more than we did), or the one we are in ends sooner than
        # we reckoned; an answer about the window before one we are waiting for says nothing new
        budget["closes"] = reset
        budget["left"] = min(budget.get("left", remaining), remaining)


def number(value: Any) -> float | None:
    try:
        found = float(value)
    except (TypeError, ValueError):
        return None
    return found if math.isfinite(found) else None


def reset_time(value: str | None, now: float) -> float | None:
    """A reset header as a Unix time: a Unix time, seconds from now (the IETF draft's ``RateLimit-Reset``)
    or an ISO 8601 date (Jira)."""
    if not value:
        return None
    found = number(value)
    if found is not None:
        return found if found >= UNIX_TIMES else now + found
    try:
        stamp = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return stamp.timestamp() if stamp.tzinfo is not None else None


def headers_of(budget: Budget, now: float) -> dict[str, str]:
    """Apideck's ``x-downstream-ratelimit-*`` of what the budget knows (each left out when unknown)."""
    known: dict[str, str] = {}
    if "L" in budget:
        known["x-downstream-ratelimit-limit"] = str(int(budget["L"]))
    if "left" in budget:
        known["x-downstream-ratelimit-remaining"] = str(max(0, int(budget["left"])))
    until = max(budget.get("closes", 0.0), budget.get("blocked", 0.0))
    if until > now:
        known["x-downstream-ratelimit-reset"] = str(math.ceil(until))
    return known
