import pytest

from durations import Duration, parse, parse_iso


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1h30m", 5400),
        ("2 days, 3 hours", 2 * 86400 + 3 * 3600),
        ("45s", 45),
        ("1.5h", 5400),
        ("1w", 7 * 86400),
        ("3 minutes and 4 seconds", 184),
        ("250ms", 0.25),
        ("1m 1m", 120),
    ],
)
def test_parse_human(text, seconds):
    assert parse(text).seconds == seconds


def test_parse_negative():
    assert parse("-1h").seconds == -3600


def test_parse_rejects_unknown_unit():
    with pytest.raises(ValueError):
        parse("3 fortnights")


def test_parse_rejects_empty_and_junk():
    for text in ["", "hello", "5", "1h x"]:
        with pytest.raises(ValueError):
            parse(text)


def test_of_parts():
    assert Duration.of(hours=1, minutes=30) == Duration(5400)
    assert Duration.of(weeks=1, days=1).seconds == 8 * 86400


def test_parts_decomposition():
    d = Duration.of(weeks=1, days=2, hours=3, minutes=4, seconds=5) + Duration(0.006)
    assert d.parts() == {"w": 1, "d": 2, "h": 3, "m": 4, "s": 5, "ms": 6}


def test_seconds_int_when_whole():
    assert Duration(90).seconds == 90
    assert isinstance(Duration(90).seconds, int)
    assert Duration(1.5).seconds == 1.5


def test_format_compact():
    assert Duration.of(hours=1, minutes=30).format() == "1h30m"
    assert Duration(0).format() == "0s"
    assert Duration(0.5).format() == "500ms"


def test_format_negative():
    assert (-Duration.of(days=2, hours=4)).format() == "-2d4h"


def test_format_max_units():
    d = Duration.of(days=1, hours=2, minutes=3)
    assert d.format(max_units=2) == "1d2h"
    assert d.format(max_units=1) == "1d"


def test_format_parse_round_trip():
    for seconds in [1, 59, 60, 61, 3599, 3600, 86399, 86400 * 9 + 7]:
        d = Duration(seconds)
        assert parse(d.format()) == d


def test_arithmetic():
    a, b = Duration(90), Duration(30)
    assert (a + b).seconds == 120
    assert (a - b).seconds == 60
    assert (a * 2).seconds == 180
    assert (3 * b).seconds == 90
    assert (a / 3).seconds == 30
    assert a / b == 3
    assert a // Duration(40) == 2


def test_abs_neg_bool():
    assert abs(Duration(-5)) == Duration(5)
    assert -Duration(5) == Duration(-5)
    assert not Duration(0)
    assert Duration(1)


def test_ordering():
    assert Duration(1) < Duration(2) <= Duration(2)
    assert sorted([Duration(3), Duration(1), Duration(2)]) == [Duration(1), Duration(2), Duration(3)]


def test_hash():
    assert len({Duration(60), parse("1m"), Duration(61)}) == 2


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT1H30M", 5400),
        ("P1D", 86400),
        ("P1W2D", 9 * 86400),
        ("PT0.5S", 0.5),
        ("P1DT2H3M4S", 86400 + 7384),
        ("pt10m", 600),
    ],
)
def test_parse_iso(text, seconds):
    assert parse_iso(text).seconds == seconds


@pytest.mark.parametrize("text", ["P", "PT", "P1DT", "1H", "P1Y", "PT1H1D"])
def test_parse_iso_rejects(text):
    with pytest.raises(ValueError):
        parse_iso(text)


def test_isoformat():
    assert Duration.of(days=1, hours=2).isoformat() == "P1DT2H"
    assert Duration.of(weeks=1).isoformat() == "P7D"
    assert Duration(0).isoformat() == "PT0S"
    assert Duration(1.5).isoformat() == "PT1.5S"


def test_isoformat_round_trip():
    d = Duration.of(days=3, hours=4, minutes=5, seconds=6)
    assert parse_iso(d.isoformat()) == d


def test_isoformat_negative_rejected():
    with pytest.raises(ValueError):
        Duration(-1).isoformat()
