"""A least-recently-used cache with an optional size function."""

from __future__ import annotations

__all__ = ["LRUCache", "CacheStats"]

_MISSING = object()


class CacheStats:
    """Counters of one cache."""

    __slots__ = ("hits", "misses", "evictions")

    def __init__(self):
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def hit_rate(self):
        """Hits over lookups, 0.0 before the first lookup."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def __repr__(self):
        return f"CacheStats(hits={self.hits}, misses={self.misses}, evictions={self.evictions})"


class _Node:
    __slots__ = ("key", "value", "size", "prev", "next")

    def __init__(self, key, value, size):
        self.key = key
        self.value = value
        self.size = size
        self.prev = None
        self.next = None


class LRUCache:
    """A mapping that holds at most ``maxsize`` worth of items, dropping the oldest.

    Items weigh 1 unless ``sizeof`` is given. Reading an item makes it the most
    recently used. ``on_evict(key, value)`` is called for every item pushed out.
    """

    def __init__(self, maxsize, sizeof=None, on_evict=None):
        if maxsize <= 0:
            raise ValueError(f"maxsize must be positive, got {maxsize}")
        self.maxsize = maxsize
        self.sizeof = sizeof or (lambda value: 1)
        self.on_evict = on_evict
        self.stats = CacheStats()
        self.currsize = 0
        self._map = {}
        # Sentinel ring: head.next is the least recently used item.
        self._head = _Node(None, None, 0)
        self._head.prev = self._head.next = self._head

    # ---- linked list helpers ------------------------------------------------------

    def _unlink(self, node):
        node.prev.next = node.next
        node.next.prev = node.prev

    def _append(self, node):
        last = self._head.prev
        last.next = node
        node.prev = last
        node.next = self._head
        self._head.prev = node

    # ---- mapping interface -----------------------------------------------------------

    def __len__(self):
        return len(self._map)

    def __contains__(self, key):
        return key in self._map

    def __getitem__(self, key):
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __setitem__(self, key, value):
        self.put(key, value)

    def __delitem__(self, key):
        node = self._map.pop(key)
        self._unlink(node)
        self.currsize -= node.size

    def get(self, key, default=None):
        """The value of ``key`` (now most recently used), or ``default``."""
        node = self._map.get(key)
        if node is None:
            self.stats.misses += 1
            return default
        self.stats.hits += 1
        self._unlink(node)
        self._append(node)
        return node.value

    def peek(self, key, default=None):
        """The value of ``key`` without touching its recency or the stats."""
        node = self._map.get(key)
        return default if node is None else node.value

    def put(self, key, value):
        """Insert or replace ``key``; evicts old items until the new one fits."""
        size = self.sizeof(value)
        if size > self.maxsize:
            raise ValueError(f"item of size {size} exceeds maxsize {self.maxsize}")
        old = self._map.pop(key, None)
        if old is not None:
            self._unlink(old)
            self.currsize -= old.size
        node = _Node(key, value, size)
        self._map[key] = node
        self._append(node)
        self.currsize += size
        while self.currsize > self.maxsize:
            self._evict_oldest()

    def _evict_oldest(self):
        node = self._head.next
        self._unlink(node)
        del self._map[node.key]
        self.currsize -= node.size
        self.stats.evictions += 1
        if self.on_evict is not None:
            self.on_evict(node.key, node.value)

    def pop(self, key, default=_MISSING):
        """Remove ``key`` and return its value."""
        node = self._map.pop(key, None)
        if node is None:
            if default is _MISSING:
                raise KeyError(key)
            return default
        self._unlink(node)
        self.currsize -= node.size
        return node.value

    def keys(self):
        """Keys from least to most recently used."""
        result = []
        node = self._head.next
        while node is not self._head:
            result.append(node.key)
            node = node.next
        return result

    def items(self):
        """``(key, value)`` pairs from least to most recently used."""
        return [(key, self._map[key].value) for key in self.keys()]

    def clear(self):
        """Drop every item (no eviction callbacks)."""
        self._map.clear()
        self._head.prev = self._head.next = self._head
        self.currsize = 0

    def resize(self, maxsize):
        """Change the capacity, evicting old items if it shrinks."""
        if maxsize <= 0:
            raise ValueError(f"maxsize must be positive, got {maxsize}")
        self.maxsize = maxsize
        while self.currsize > self.maxsize:
            self._evict_oldest()
