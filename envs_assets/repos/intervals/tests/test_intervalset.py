import pytest

from intervals import Interval, IntervalSet


def test_add_merges_overlapping():
    s = IntervalSet([Interval(0, 2), Interval(1, 5)])
    assert list(s) == [Interval(0, 5)]


def test_add_merges_adjacent():
    s = IntervalSet([Interval(0, 1), Interval(1, 2)])
    assert list(s) == [Interval(0, 2)]


def test_add_keeps_disjoint_sorted():
    s = IntervalSet([Interval(5, 6), Interval(0, 1), Interval(2, 3)])
    assert [iv.lo for iv in s] == [0, 2, 5]


def test_add_bridging_interval_merges_three():
    s = IntervalSet([Interval(0, 1), Interval(2, 3), Interval(4, 5)])
    s.add(Interval(0.5, 4.5))
    assert list(s) == [Interval(0, 5)]


def test_empty_interval_is_ignored():
    s = IntervalSet([Interval(1, 1)])
    assert not s
    assert len(s) == 0


def test_contains_uses_bounds():
    s = IntervalSet([Interval(0, 1), Interval.closed(3, 4)])
    assert 0 in s and 0.5 in s and 4 in s
    assert 1 not in s and 2 not in s and 5 not in s


def test_contains_many_members():
    s = IntervalSet(Interval(2 * k, 2 * k + 1) for k in range(50))
    assert all((2 * k + 0.5) in s for k in range(50))
    assert not any((2 * k + 1.5) in s for k in range(50))


def test_remove_splits_member():
    s = IntervalSet([Interval(0, 10)])
    s.remove(Interval(4, 6))
    assert list(s) == [Interval(0, 4), Interval(6, 10)]


def test_measure():
    s = IntervalSet([Interval(0, 2), Interval(5, 6)])
    assert s.measure() == 3


def test_bounds_and_gaps():
    s = IntervalSet([Interval(0, 2), Interval(5, 6), Interval(8, 9)])
    assert s.bounds() == Interval(0, 9)
    assert s.gaps() == [Interval(2, 5), Interval(6, 8)]
    assert IntervalSet().bounds() is None


def test_union_operator():
    a = IntervalSet([Interval(0, 2)])
    b = IntervalSet([Interval(1, 3), Interval(5, 6)])
    assert str(a | b) == "{[0, 3) | [5, 6)}"


def test_intersection_operator():
    a = IntervalSet([Interval(0, 5), Interval(10, 15)])
    b = IntervalSet([Interval(3, 12)])
    assert list(a & b) == [Interval(3, 5), Interval(10, 12)]


def test_difference_operator():
    a = IntervalSet([Interval(0, 10)])
    b = IntervalSet([Interval(2, 3), Interval(5, 7)])
    assert list(a - b) == [Interval(0, 2), Interval(3, 5), Interval(7, 10)]


def test_symmetric_difference():
    a = IntervalSet([Interval(0, 5)])
    b = IntervalSet([Interval(3, 8)])
    assert list(a ^ b) == [Interval(0, 3), Interval(5, 8)]


def test_complement_within():
    s = IntervalSet([Interval(2, 4)])
    assert list(s.complement(Interval(0, 10))) == [Interval(0, 2), Interval(4, 10)]


def test_issubset():
    small = IntervalSet([Interval(1, 2)])
    big = IntervalSet([Interval(0, 5)])
    assert small.issubset(big)
    assert not big.issubset(small)


def test_find_member():
    s = IntervalSet([Interval(0, 1), Interval(4, 6)])
    assert s.find(5) == Interval(4, 6)
    assert s.find(3) is None


def test_parse_set():
    s = IntervalSet.parse("{[0, 1) | [2, 3]}")
    assert list(s) == [Interval(0, 1), Interval.closed(2, 3)]
    assert IntervalSet.parse("{}") == IntervalSet()


def test_copy_is_independent():
    a = IntervalSet([Interval(0, 1)])
    b = a.copy()
    b.add(Interval(5, 6))
    assert len(a) == 1 and len(b) == 2


def test_clear():
    s = IntervalSet([Interval(0, 1)])
    s.clear()
    assert not s


@pytest.mark.parametrize("n", [1, 3, 10])
def test_union_with_self_is_identity(n):
    s = IntervalSet(Interval(3 * k, 3 * k + 1) for k in range(n))
    assert (s | s) == s
    assert (s & s) == s
    assert not (s - s)
