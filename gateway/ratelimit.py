"""Token-bucket rate limits per client: in memory by default, in Redis when several gateways share them."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Limiter(Protocol):
    async def allow(self, key: str) -> bool:
        """Take one token if there is one."""
        ...

    async def peek(self, key: str) -> bool:
        """Whether a token is there, without taking it (sign-in: only failures use tokens up)."""
        ...


class MemoryLimiter:
    """``per_minute`` tokens a minute, at most ``burst`` at once, per key (one process)."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    async def peek(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, stamp = self._buckets.get(key, (self.burst, now))
            return min(self.burst, tokens + (now - stamp) * self.rate) >= 1.0

    async def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, stamp = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - stamp) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > 50_000:  # forget idle clients
                cutoff = now - 3600
                self._buckets = {k: v for k, v in self._buckets.items() if v[1] > cutoff}
            return allowed


_LUA = """
local data = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens = tonumber(data[1]) or burst
local ts = tonumber(data[2]) or now
tokens = math.min(burst, tokens + (now - ts) * rate)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return allowed
"""


class RedisLimiter:
    """The same token bucket, atomic in Redis (a Lua script), shared by every gateway process."""

    def __init__(self, url: str, per_minute: int, burst: int, prefix: str = "weiyuan:rl:") -> None:
        import redis.asyncio as redis

        self.client = redis.from_url(url)
        self.rate = per_minute / 60.0
        self.burst = burst
        self.prefix = prefix
        self._script = self.client.register_script(_LUA)

    async def allow(self, key: str) -> bool:
        result = await self._script(keys=[self.prefix + key], args=[self.rate, self.burst, time.time()])
        return bool(int(result))

    async def peek(self, key: str) -> bool:
        tokens, stamp = await self.client.hmget(self.prefix + key, ["tokens", "ts"])
        if tokens is None or stamp is None:
            return True
        return min(self.burst, float(tokens) + (time.time() - float(stamp)) * self.rate) >= 1.0

    async def close(self) -> None:
        await self.client.aclose()


def make_limiter(redis_url: str, per_minute: int, burst: int, prefix: str) -> Limiter:
    if redis_url:
        return RedisLimiter(redis_url, per_minute, burst, prefix)
    return MemoryLimiter(per_minute, burst)
