"""Per-client limits: fixed windows counted in Redis when ``DAOBAN_REDIS_URL`` is set (so
two or more API replicas share one count), in this process otherwise.

Who the client is: the TCP peer, or, when the peer is a trusted proxy (nginx on loopback,
``DAOBAN_TRUSTED_PROXIES``), the right-most address in ``X-Forwarded-For`` that is not a
trusted proxy itself.  A trusted peer without that header is one of our own services (the
action server calling the API) and is not limited; so is Starlette's test client."""
from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass

log = logging.getLogger("daoban.limits")
INTERNAL = "internal"


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    window: int  # seconds


def _ip(value: str) -> str | None:
    value = value.strip().strip('"')
    if value.startswith("[") and "]" in value:  # [::1]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # 1.2.3.4:port
        value = value.split(":")[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


class Trusted:
    """Trusted proxies: addresses or networks (``127.0.0.1,::1``, ``172.16.0.0/12``)."""

    def __init__(self, entries):
        self.nets = []
        for e in entries:
            try:
                self.nets.append(ipaddress.ip_network(str(e).strip(), strict=False))
            except ValueError:
                log.warning("not an address or network in DAOBAN_TRUSTED_PROXIES: %r", e)

    def __contains__(self, addr: str | None) -> bool:
        if not addr:
            return False
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return False
        return any(ip.version == n.version and ip in n for n in self.nets)


def client_address(peer: str | None, forwarded_for: str | None, trusted) -> str:
    """The address to count for: see the module doc.  ``INTERNAL`` for our own services."""
    if not peer or peer == "testclient":
        return INTERNAL
    if peer not in trusted:
        return peer
    if not forwarded_for:
        return INTERNAL
    hops = [h for h in (_ip(p) for p in forwarded_for.split(",")) if h]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return hops[0] if hops else INTERNAL


class MemoryCounter:
    """Fixed windows in a dict: key -> [window end, count]."""

    def __init__(self, max_keys: int = 100_000):
        self._d: dict[str, list[float]] = {}
        self.max_keys = max_keys

    async def incr(self, key: str, window: int) -> tuple[int, float]:
        now = time.monotonic()
        slot = self._d.get(key)
        if slot is None or slot[0] <= now:
            if len(self._d) >= self.max_keys:
                self._prune(now)
            slot = self._d[key] = [now + window, 0]
        slot[1] += 1
        return int(slot[1]), slot[0] - now

    async def get(self, key: str) -> tuple[int, float]:
        now = time.monotonic()
        slot = self._d.get(key)
        if slot is None or slot[0] <= now:
            return 0, 0.0
        return int(slot[1]), slot[0] - now

    def _prune(self, now: float) -> None:
        for k in [k for k, v in self._d.items() if v[0] <= now]:
            del self._d[k]
        if len(self._d) >= self.max_keys:
            for k in list(self._d)[: self.max_keys // 2]:
                del self._d[k]

    async def aclose(self) -> None:
        self._d.clear()


class RedisCounter:
    """The same windows in Redis (SET NX EX + INCR + PTTL in one round trip); if Redis
    does not answer, this process counts alone until it does (limits stay on)."""

    def __init__(self, url: str, prefix: str = "daoban:rl:"):
        import redis.asyncio as redis

        self._r = redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self.prefix = prefix
        self._fallback = MemoryCounter()
        self._warned = 0.0

    def _down(self, exc: Exception) -> None:
        if time.monotonic() - self._warned > 30:
            self._warned = time.monotonic()
            log.warning("redis unavailable for limits (%s); counting in this process", exc.__class__.__name__)

    async def incr(self, key: str, window: int) -> tuple[int, float]:
        k = self.prefix + key
        try:
            async with self._r.pipeline(transaction=True) as p:
                p.set(k, 0, ex=window, nx=True)
                p.incr(k)
                p.pttl(k)
                _, count, pttl = await p.execute()
            return int(count), max(0.0, pttl / 1000) if pttl and pttl > 0 else float(window)
        except Exception as exc:  # noqa: BLE001 - redis.exceptions.* and OSError
            self._down(exc)
            return await self._fallback.incr(key, window)

    async def get(self, key: str) -> tuple[int, float]:
        k = self.prefix + key
        try:
            async with self._r.pipeline(transaction=False) as p:
                p.get(k)
                p.pttl(k)
                count, pttl = await p.execute()
            return int(count or 0), max(0.0, pttl / 1000) if pttl and pttl > 0 else 0.0
        except Exception as exc:  # noqa: BLE001
            self._down(exc)
            return await self._fallback.get(key)

    async def aclose(self) -> None:
        try:
            await self._r.aclose()
        except Exception:  # noqa: BLE001
            pass


class Limiter:
    def __init__(self, counter):
        self.counter = counter

    @classmethod
    def from_settings(cls, settings) -> "Limiter":
        url = getattr(settings, "redis_url", "") or ""
        return cls(RedisCounter(url) if url else MemoryCounter())

    async def hit(self, rule: Rule, client: str) -> float | None:
        """Count one request; None if allowed, else seconds until the window ends."""
        if rule.limit <= 0 or client == INTERNAL:
            return None
        count, ttl = await self.counter.incr(f"{rule.name}:{client}", rule.window)
        return None if count <= rule.limit else max(1.0, ttl)

    async def blocked(self, rule: Rule, client: str) -> float | None:
        """Without counting: seconds to wait if the client is over the limit already."""
        if rule.limit <= 0 or client == INTERNAL:
            return None
        count, ttl = await self.counter.get(f"{rule.name}:{client}")
        return max(1.0, ttl) if count >= rule.limit else None

    async def fail(self, rule: Rule, client: str) -> None:
        if rule.limit > 0 and client != INTERNAL:
            await self.counter.incr(f"{rule.name}:{client}", rule.window)

    async def aclose(self) -> None:
        await self.counter.aclose()
