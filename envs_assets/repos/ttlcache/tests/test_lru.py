import pytest

from ttlcache import LRUCache


def test_get_and_put():
    cache = LRUCache(2)
    cache["a"] = 1
    assert cache["a"] == 1
    assert cache.get("missing") is None


def test_evicts_least_recently_used():
    cache = LRUCache(2)
    cache["a"] = 1
    cache["b"] = 2
    cache["c"] = 3
    assert "a" not in cache
    assert cache.keys() == ["b", "c"]


def test_get_refreshes_recency():
    cache = LRUCache(2)
    cache["a"] = 1
    cache["b"] = 2
    cache.get("a")
    cache["c"] = 3
    assert cache.keys() == ["a", "c"]


def test_peek_does_not_refresh():
    cache = LRUCache(2)
    cache["a"] = 1
    cache["b"] = 2
    assert cache.peek("a") == 1
    cache["c"] = 3
    assert "a" not in cache


def test_replace_moves_to_end_without_eviction():
    cache = LRUCache(2)
    cache["a"] = 1
    cache["b"] = 2
    cache["a"] = 10
    assert cache.keys() == ["b", "a"]
    assert cache.stats.evictions == 0
    assert cache["a"] == 10


def test_missing_key_raises():
    cache = LRUCache(1)
    with pytest.raises(KeyError):
        cache["x"]


def test_stats_counted():
    cache = LRUCache(1)
    cache["a"] = 1
    cache.get("a")
    cache.get("b")
    cache["b"] = 2
    assert (cache.stats.hits, cache.stats.misses, cache.stats.evictions) == (1, 1, 1)
    assert cache.stats.hit_rate() == 0.5


def test_hit_rate_before_lookups():
    assert LRUCache(1).stats.hit_rate() == 0.0


def test_sizeof_weights_items():
    cache = LRUCache(10, sizeof=len)
    cache["a"] = "xxxx"
    cache["b"] = "yyyy"
    cache["c"] = "zzz"
    assert cache.keys() == ["b", "c"]
    assert cache.currsize == 7


def test_item_larger_than_cache_rejected():
    cache = LRUCache(3, sizeof=len)
    with pytest.raises(ValueError):
        cache["a"] = "toolong"


def test_item_exactly_maxsize_fits():
    cache = LRUCache(4, sizeof=len)
    cache["a"] = "four"
    assert cache["a"] == "four"


def test_on_evict_callback():
    evicted = []
    cache = LRUCache(1, on_evict=lambda k, v: evicted.append((k, v)))
    cache["a"] = 1
    cache["b"] = 2
    assert evicted == [("a", 1)]


def test_delete_and_pop():
    cache = LRUCache(3)
    cache["a"] = 1
    cache["b"] = 2
    del cache["a"]
    assert cache.pop("b") == 2
    assert len(cache) == 0
    assert cache.pop("zzz", "dflt") == "dflt"
    with pytest.raises(KeyError):
        cache.pop("zzz")


def test_currsize_after_pop():
    cache = LRUCache(10, sizeof=len)
    cache["a"] = "abc"
    cache.pop("a")
    assert cache.currsize == 0


def test_clear():
    cache = LRUCache(2)
    cache["a"] = 1
    cache.clear()
    assert len(cache) == 0
    assert cache.keys() == []
    cache["b"] = 2
    assert cache.keys() == ["b"]


def test_resize_shrinks():
    cache = LRUCache(4)
    for k in "abcd":
        cache[k] = k
    cache.resize(2)
    assert cache.keys() == ["c", "d"]


def test_bad_maxsize():
    with pytest.raises(ValueError):
        LRUCache(0)


def test_items_in_recency_order():
    cache = LRUCache(3)
    cache["a"] = 1
    cache["b"] = 2
    cache.get("a")
    assert cache.items() == [("b", 2), ("a", 1)]


def test_many_operations_keep_invariants():
    cache = LRUCache(5)
    for i in range(100):
        cache[i % 7] = i
        assert len(cache) <= 5
        assert len(cache.keys()) == len(cache)
