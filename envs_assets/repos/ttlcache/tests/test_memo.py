import pytest

from ttlcache import make_key, memoize


def test_results_are_cached():
    calls = []

    @memoize(maxsize=4)
    def square(x):
        calls.append(x)
        return x * x

    assert square(3) == 9
    assert square(3) == 9
    assert calls == [3]
    assert square.cache_info()["hits"] == 1


def test_kwargs_order_does_not_matter():
    assert make_key((1,), {"a": 1, "b": 2}) == make_key((1,), {"b": 2, "a": 1})


def test_kwargs_differ_from_positional():
    assert make_key((1, 2), {}) != make_key((1,), {"b": 2})


def test_typed_keys():
    assert make_key((1,), {}) == make_key((1.0,), {})
    assert make_key((1,), {}, typed=True) != make_key((1.0,), {}, typed=True)


def test_eviction_recomputes():
    calls = []

    @memoize(maxsize=1)
    def ident(x):
        calls.append(x)
        return x

    ident(1)
    ident(2)
    ident(1)
    assert calls == [1, 2, 1]


def test_exceptions_not_cached():
    calls = []

    @memoize()
    def flaky(x):
        calls.append(x)
        if len(calls) == 1:
            raise RuntimeError("first call fails")
        return x

    with pytest.raises(RuntimeError):
        flaky(1)
    assert flaky(1) == 1
    assert len(calls) == 2


def test_ttl_memoize_expires(clock):
    calls = []

    @memoize(maxsize=4, ttl=10, clock=clock)
    def now_value(x):
        calls.append(x)
        return len(calls)

    assert now_value("a") == 1
    clock.advance(5)
    assert now_value("a") == 1
    clock.advance(6)
    assert now_value("a") == 2


def test_cache_clear():
    @memoize()
    def double(x):
        return 2 * x

    double(1)
    double.cache_clear()
    assert double.cache_info()["size"] == 0


def test_wraps_metadata():
    @memoize()
    def documented(x):
        """Doc."""
        return x

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Doc."
