import math

import pytest

from intervals import EMPTY, Interval, parse_interval


def test_default_is_half_open():
    iv = Interval(0, 5)
    assert 0 in iv
    assert 5 not in iv
    assert 4.999 in iv


def test_closed_contains_both_ends():
    iv = Interval.closed(1, 3)
    assert 1 in iv and 3 in iv
    assert 0.5 not in iv and 3.5 not in iv


def test_open_excludes_both_ends():
    iv = Interval.open(1, 3)
    assert 1 not in iv and 3 not in iv
    assert 2 in iv


def test_point_interval():
    iv = Interval.point(7)
    assert 7 in iv
    assert not iv.is_empty()
    assert iv.length() == 0


def test_reversed_bounds_rejected():
    with pytest.raises(ValueError):
        Interval(3, 1)


def test_empty_intervals_compare_equal():
    assert Interval(2, 2) == Interval.open(5, 5) == EMPTY
    assert Interval(2, 2).is_empty()


def test_infinite_ends_are_open():
    iv = Interval(-math.inf, math.inf, True, True)
    assert not iv.closed_lo and not iv.closed_hi
    assert 10**9 in iv


def test_length():
    assert Interval(1, 4).length() == 3
    assert EMPTY.length() == 0


def test_intersection_of_overlapping():
    assert Interval(0, 5).intersection(Interval(3, 8)) == Interval(3, 5)


def test_intersection_keeps_open_end():
    a = Interval.closed(0, 5)
    b = Interval.open(0, 5)
    assert a.intersection(b) == Interval.open(0, 5)


def test_intersection_of_disjoint_is_empty():
    assert Interval(0, 1).intersection(Interval(2, 3)).is_empty()


def test_touching_half_open_intervals_do_not_overlap():
    assert not Interval(0, 1).overlaps(Interval(1, 2))
    assert Interval(0, 1).is_adjacent(Interval(1, 2))


def test_touching_closed_intervals_overlap():
    assert Interval.closed(0, 1).overlaps(Interval.closed(1, 2))
    assert not Interval.closed(0, 1).is_adjacent(Interval.closed(1, 2))


def test_open_ends_at_same_point_are_not_adjacent():
    assert not Interval.open(0, 1).is_adjacent(Interval.open(1, 2))


def test_union_of_adjacent():
    assert Interval(0, 1).union(Interval(1, 2)) == Interval(0, 2)


def test_union_with_gap_raises():
    with pytest.raises(ValueError):
        Interval(0, 1).union(Interval(2, 3))


def test_hull_spans_gap():
    assert Interval(0, 1).hull(Interval(4, 6)) == Interval(0, 6)


def test_difference_splits_in_two():
    parts = Interval.closed(0, 10).difference(Interval(3, 5))
    assert parts == [Interval(0, 3, True, False), Interval(5, 10, True, True)]


def test_difference_removing_everything():
    assert Interval(2, 3).difference(Interval.closed(0, 10)) == []


def test_difference_disjoint_returns_self():
    iv = Interval(0, 1)
    assert iv.difference(Interval(5, 6)) == [iv]


def test_contains_interval():
    outer = Interval.closed(0, 10)
    assert outer.contains_interval(Interval.open(0, 10))
    assert not Interval.open(0, 10).contains_interval(outer)
    assert outer.contains_interval(EMPTY)


def test_shift_and_scale():
    assert Interval(1, 2).shift(3) == Interval(4, 5)
    assert Interval(1, 2).scale(2) == Interval(2, 4)


def test_negative_scale_swaps_ends():
    scaled = Interval(1, 2, True, False).scale(-1)
    assert scaled == Interval(-2, -1, False, True)


def test_clamp():
    iv = Interval.closed(0, 10)
    assert iv.clamp(-5) == 0
    assert iv.clamp(15) == 10
    assert iv.clamp(4) == 4


def test_clamp_empty_raises():
    with pytest.raises(ValueError):
        EMPTY.clamp(1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1, 5)", Interval(1, 5, True, False)),
        ("(0,2]", Interval(0, 2, False, True)),
        ("(-inf, 3]", Interval(-math.inf, 3, False, True)),
        ("[0.5, 1.5]", Interval.closed(0.5, 1.5)),
    ],
)
def test_parse(text, expected):
    assert parse_interval(text) == expected


def test_parse_rejects_garbage():
    with pytest.raises(ValueError):
        parse_interval("1..5")


def test_str_round_trip():
    iv = Interval(1, 5, False, True)
    assert parse_interval(str(iv)) == iv


def test_sorting_by_lower_bound():
    items = sorted([Interval(3, 4), Interval(1, 2), Interval.open(1, 2)])
    assert items[0] == Interval(1, 2)
    assert items[-1] == Interval(3, 4)


def test_hash_consistent_with_eq():
    assert hash(Interval(1, 2)) == hash(Interval(1, 2))
    assert len({Interval(0, 0), Interval.open(3, 3)}) == 1
