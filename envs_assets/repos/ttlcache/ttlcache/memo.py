"""Memoising decorators on top of the caches."""

from __future__ import annotations

import functools

from ttlcache.lru import LRUCache
from ttlcache.ttl import TTLCache

__all__ = ["memoize", "make_key"]


def make_key(args, kwargs, typed=False):
    """A hashable key for a call; keyword order does not matter.

    With ``typed=True`` the argument types are part of the key, so ``f(1)`` and
    ``f(1.0)`` are cached separately.
    """
    key = args
    if kwargs:
        key += (_KWARGS_MARK,) + tuple(sorted(kwargs.items()))
    if typed:
        key += tuple(type(v) for v in args)
        key += tuple(type(v) for _, v in sorted(kwargs.items()))
    return key


_KWARGS_MARK = object()


def memoize(maxsize=128, ttl=None, typed=False, clock=None):
    """Cache results of a function of hashable arguments.

    ``ttl`` (seconds) makes results expire. The wrapper has ``cache`` (the cache
    object), ``cache_clear()`` and ``cache_info()`` returning hits, misses and size.
    Exceptions are not cached.
    """

    def decorator(fn):
        if ttl is None:
            cache = LRUCache(maxsize)
        else:
            cache = TTLCache(maxsize, ttl, clock=clock)
        missing = object()

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            key = make_key(args, kwargs, typed)
            value = cache.get(key, missing)
            if value is not missing:
                return value
            value = fn(*args, **kwargs)
            cache[key] = value
            return value

        def cache_info():
            return {
                "hits": cache.stats.hits,
                "misses": cache.stats.misses,
                "size": len(cache),
                "maxsize": maxsize,
            }

        wrapper.cache = cache
        wrapper.cache_clear = cache.clear
        wrapper.cache_info = cache_info
        return wrapper

    return decorator
