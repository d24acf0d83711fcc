import pytest

from ttlcache import TTLCache


def test_value_alive_before_ttl(clock):
    cache = TTLCache(10, ttl=5, clock=clock)
    cache["a"] = 1
    clock.advance(4.9)
    assert cache["a"] == 1


def test_value_expires_at_ttl(clock):
    cache = TTLCache(10, ttl=5, clock=clock)
    cache["a"] = 1
    clock.advance(5)
    assert cache.get("a") is None
    assert "a" not in cache


def test_expired_get_counts_miss(clock):
    cache = TTLCache(10, ttl=1, clock=clock)
    cache["a"] = 1
    clock.advance(2)
    cache.get("a")
    assert cache.stats.misses == 1
    assert cache.stats.hits == 0


def test_per_entry_ttl(clock):
    cache = TTLCache(10, ttl=5, clock=clock)
    cache.set("short", 1, ttl=1)
    cache.set("long", 2)
    clock.advance(2)
    assert cache.keys() == ["long"]


def test_ttl_left(clock):
    cache = TTLCache(10, ttl=5, clock=clock)
    cache["a"] = 1
    clock.advance(2)
    assert cache.ttl_left("a") == pytest.approx(3)
    assert cache.ttl_left("missing") is None


def test_touch_extends_life(clock):
    cache = TTLCache(10, ttl=5, clock=clock)
    cache["a"] = 1
    clock.advance(4)
    assert cache.touch("a")
    clock.advance(4)
    assert cache["a"] == 1


def test_touch_expired_fails(clock):
    cache = TTLCache(10, ttl=5, clock=clock)
    cache["a"] = 1
    clock.advance(6)
    assert not cache.touch("a")


def test_expire_drops_dead_entries(clock):
    cache = TTLCache(10, ttl=5, clock=clock)
    cache["a"] = 1
    clock.advance(3)
    cache["b"] = 2
    clock.advance(3)
    assert cache.expire() == 1
    assert len(cache) == 1


def test_len_ignores_expired(clock):
    cache = TTLCache(10, ttl=1, clock=clock)
    cache["a"] = 1
    cache["b"] = 2
    clock.advance(1)
    assert len(cache) == 0


def test_capacity_still_applies(clock):
    cache = TTLCache(2, ttl=100, clock=clock)
    cache["a"] = 1
    cache["b"] = 2
    cache["c"] = 3
    assert cache.keys() == ["b", "c"]


def test_bad_ttl():
    with pytest.raises(ValueError):
        TTLCache(1, ttl=0)
    cache = TTLCache(1, ttl=1)
    with pytest.raises(ValueError):
        cache.set("a", 1, ttl=-1)


def test_missing_raises_keyerror(clock):
    cache = TTLCache(1, ttl=1, clock=clock)
    with pytest.raises(KeyError):
        cache["nope"]


def test_clear(clock):
    cache = TTLCache(3, ttl=1, clock=clock)
    cache["a"] = 1
    cache.clear()
    assert cache.keys() == []
