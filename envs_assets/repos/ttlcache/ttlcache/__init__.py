"""LRU and TTL caches, and a memoising decorator."""

from ttlcache.lru import CacheStats, LRUCache
from ttlcache.memo import make_key, memoize
from ttlcache.ttl import TTLCache

__all__ = ["CacheStats", "LRUCache", "TTLCache", "make_key", "memoize"]
__version__ = "0.4.1"
