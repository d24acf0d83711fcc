"""A cache whose items expire a fixed time after they are written."""

from __future__ import annotations

import time

from ttlcache.lru import CacheStats, LRUCache

__all__ = ["TTLCache"]

_MISSING = object()


class TTLCache:
    """An LRU cache whose entries expire ``ttl`` seconds after being set.

    ``clock`` returns the current time in seconds (``time.monotonic`` by default);
    tests pass a fake clock. An entry set at time ``t`` is alive while
    ``now < t + ttl`` and expired from ``t + ttl`` on.
    """

    def __init__(self, maxsize, ttl, clock=None):
        if ttl <= 0:
            raise ValueError(f"ttl must be positive, got {ttl}")
        self.ttl = ttl
        self.clock = clock or time.monotonic
        self._lru = LRUCache(maxsize)
        self.stats = CacheStats()

    def _alive(self, expires):
        return self.clock() < expires

    def __len__(self):
        self.expire()
        return len(self._lru)

    def __contains__(self, key):
        entry = self._lru.peek(key)
        return entry is not None and self._alive(entry[1])

    def __getitem__(self, key):
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __setitem__(self, key, value):
        self.set(key, value)

    def set(self, key, value, ttl=None):
        """Store ``value``; ``ttl`` overrides the cache's default for this entry."""
        lifetime = self.ttl if ttl is None else ttl
        if lifetime <= 0:
            raise ValueError(f"ttl must be positive, got {lifetime}")
        self._lru.put(key, (value, self.clock() + lifetime))

    def get(self, key, default=None):
        """The live value of ``key`` or ``default``; expired entries are dropped."""
        entry = self._lru.peek(key)
        if entry is None:
            self.stats.misses += 1
            return default
        value, expires = entry
        if not self._alive(expires):
            self._lru.pop(key)
            self.stats.misses += 1
            self.stats.evictions += 1
            return default
        self._lru.get(key)  # refresh recency
        self.stats.hits += 1
        return value

    def ttl_left(self, key):
        """Seconds until ``key`` expires, or ``None`` if it is absent or expired."""
        entry = self._lru.peek(key)
        if entry is None or not self._alive(entry[1]):
            return None
        return entry[1] - self.clock()

    def touch(self, key):
        """Restart the lifetime of a live entry; returns whether it was alive."""
        entry = self._lru.peek(key)
        if entry is None or not self._alive(entry[1]):
            return False
        self._lru.put(key, (entry[0], self.clock() + self.ttl))
        return True

    def expire(self):
        """Drop every expired entry now; returns how many were dropped."""
        dead = [key for key, (_, expires) in self._lru.items() if not self._alive(expires)]
        for key in dead:
            self._lru.pop(key)
        self.stats.evictions += len(dead)
        return len(dead)

    def keys(self):
        """Live keys from least to most recently used."""
        return [key for key, (_, expires) in self._lru.items() if self._alive(expires)]

    def clear(self):
        """Drop every entry."""
        self._lru.clear()
