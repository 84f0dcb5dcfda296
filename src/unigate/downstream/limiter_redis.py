"""The rate-limit budgets in Redis, shared by every gateway process and replica using it.

Each reservation and each answer is one Lua script run by Redis (``EVALSHA``): the budget's hash is
read, changed and written atomically, so any number of processes spend one budget without a lock or
a read-modify-write race. The scripts are ``unigate.downstream.budget``'s :func:`reserve` and
:func:`learn` written in Lua (the limiter tests run both stores through the same cases). Keys are
``<prefix><account>`` and expire two hours after their last use.

redis-py's asyncio client (``redis.asyncio``): the Redis project's own client, maintained with Redis;
one client per event loop (its connections belong to the loop that opened them). When Redis fails,
it is not asked again for ``PAUSE`` seconds (each call then fails at once, and goes on unqueued:
``unigate.downstream.limiter``), so an unreachable Redis costs calls no time beyond the first failures.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from redis.asyncio import Redis

from unigate.downstream.budget import MARGIN, SAME_WINDOW, Budget, Observation

TTL_MS = 2 * 3600 * 1000
PAUSE = 5.0   # seconds Redis is not asked after a failure


class BudgetStoreDown(Exception):
    """Redis failed less than ``PAUSE`` seconds ago."""

_COMMON = """
local function load(key)
  local raw = redis.call('HGETALL', key)
  local s = {}
  for i = 1, #raw, 2 do s[raw[i]] = tonumber(raw[i + 1]) end
  return s
end
local FIELDS = {'L', 'P', 'R', 'opens', 'closes', 'left', 'blocked'}
local function save(key, s, ttl)
  redis.call('DEL', key)
  local flat = {}
  for _, name in ipairs(FIELDS) do
    if s[name] ~= nil then flat[#flat + 1] = name; flat[#flat + 1] = string.format('%.17g', s[name]) end
  end
  if #flat > 0 then redis.call('HSET', key, unpack(flat)); redis.call('PEXPIRE', key, ttl) end
  return flat
end
"""

RESERVE = _COMMON + """
local function roll(s, at)
  local closes = s.closes
  s.opens = closes
  s.closes = nil
  if s.P and s.P > 0 then s.closes = closes + s.P * (math.floor((at - closes) / s.P) + 1) end
  s.left = s.L
end
local s = load(KEYS[1])
local now, max_wait, margin, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local at = math.max(now, s.blocked or 0, s.opens or 0)
if s.closes and at >= s.closes then roll(s, at) end
if s.left and s.left <= 0 then
  if not s.closes and s.P and s.opens then s.closes = s.opens + s.P end
  if s.closes then at = math.max(at, s.closes + margin); roll(s, at); s.opens = at end
end
local wait = at - now
if wait > max_wait then return {0, string.format('%.17g', wait), {}} end
if s.left then s.left = s.left - 1 end
return {1, string.format('%.17g', wait), save(KEYS[1], s, ttl)}
"""

LEARN = _COMMON + """
local s = load(KEYS[1])
local now, same, ttl = tonumber(ARGV[1]), tonumber(ARGV[6]), tonumber(ARGV[7])
local limit, remaining, reset, wait = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if limit then s.L = limit end
if remaining and reset and reset > now then
  local seen = s.R or reset
  if reset > seen + same then s.P = math.min(s.P or (reset - seen), reset - seen) end
  s.R = math.max(seen, reset)
  if not s.closes or reset > s.closes + same then
    if s.closes then s.left = remaining else s.left = math.min(s.left or remaining, remaining) end
    s.closes = reset
    s.opens = math.min(s.opens or now, now)
  elseif reset >= s.closes - same or (s.opens or now) <= now then
    s.closes = reset
    s.left = math.min(s.left or remaining, remaining)
  end
end
if wait then s.blocked = math.max(s.blocked or 0, now + wait) end
save(KEYS[1], s, ttl)
return 1
"""


def _arg(value: float | None) -> str:
    return "" if value is None else repr(float(value))


class RedisBudgets:
    """The budgets in Redis at ``url``, under keys starting with ``prefix``."""

    def __init__(self, url: str, prefix: str = "unigate:budget:") -> None:
        self.url, self.prefix = url, prefix
        self._clients: dict[asyncio.AbstractEventLoop, tuple[Redis, Any, Any]] = {}
        self._down_until = 0.0

    async def _run(self, script: Any, key: str, args: list[Any]) -> Any:
        if time.monotonic() < self._down_until:
            raise BudgetStoreDown(self.url)
        try:
            return await script(keys=[self.prefix + key], args=args)
        except Exception:
            self._down_until = time.monotonic() + PAUSE
            raise

    def _scripts(self) -> tuple[Any, Any]:
        loop = asyncio.get_running_loop()
        found = self._clients.get(loop)
        if found is None:
            client = Redis.from_url(self.url, socket_timeout=2.0, socket_connect_timeout=2.0)
            found = self._clients[loop] = (client, client.register_script(RESERVE), client.register_script(LEARN))
        return found[1], found[2]

    async def reserve(self, key: str, now: float, max_wait: float) -> tuple[bool, float, Budget]:
        fits, wait, flat = await self._run(self._scripts()[0], key, [repr(now), repr(max_wait), repr(MARGIN), TTL_MS])
        fields = [f.decode() if isinstance(f, bytes) else str(f) for f in flat]
        return bool(fits), float(wait), {fields[i]: float(fields[i + 1]) for i in range(0, len(fields), 2)}

    async def learn(self, key: str, now: float, seen: Observation) -> None:
        await self._run(self._scripts()[1], key, [repr(now), _arg(seen.limit), _arg(seen.remaining), _arg(seen.reset),
                                                  _arg(seen.wait), repr(SAME_WINDOW), TTL_MS])

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        found = self._clients.pop(loop, None)
        if found is not None:
            await found[0].aclose()
