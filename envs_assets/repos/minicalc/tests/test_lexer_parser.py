import pytest

from minicalc import CalcSyntaxError, parse, tokenize


def kinds(text):
    return [(t.kind, t.text) for t in tokenize(text)]


def test_tokenize_numbers_and_ops():
    assert kinds("1 + 2.5") == [("num", "1"), ("op", "+"), ("num", "2.5"), ("end", "")]


def test_tokenize_number_values():
    tokens = tokenize("42 3.0 .5 1e3 2E-2")
    assert [t.value for t in tokens[:-1]] == [42, 3.0, 0.5, 1000.0, 0.02]
    assert isinstance(tokens[0].value, int)


def test_tokenize_two_char_ops():
    assert [t.text for t in tokenize("a<=b**c!=d")][:-1] == ["a", "<=", "b", "**", "c", "!=", "d"]


def test_tokenize_names_with_underscore():
    assert kinds("_x1 y_2")[:2] == [("name", "_x1"), ("name", "y_2")]


def test_tokenize_bad_character():
    with pytest.raises(CalcSyntaxError) as err:
        tokenize("1 + $")
    assert err.value.position == 4


def test_token_positions():
    assert [t.position for t in tokenize(" ab + 1")] == [1, 4, 6, 7]


def test_parse_precedence():
    assert parse("1 + 2 * 3") == ("bin", "+", ("num", 1), ("bin", "*", ("num", 2), ("num", 3)))


def test_parse_left_associative_minus():
    assert parse("8 - 3 - 2") == ("bin", "-", ("bin", "-", ("num", 8), ("num", 3)), ("num", 2))


def test_parse_right_associative_power():
    assert parse("2 ^ 3 ^ 2") == ("bin", "^", ("num", 2), ("bin", "^", ("num", 3), ("num", 2)))


def test_parse_double_star_is_power():
    assert parse("2 ** 3") == parse("2 ^ 3")


def test_parse_unary_minus_looser_than_power():
    assert parse("-2 ^ 2") == ("neg", ("bin", "^", ("num", 2), ("num", 2)))


def test_parse_parentheses():
    assert parse("(1 + 2) * 3")[1] == "*"


def test_parse_call():
    assert parse("max(1, x, 3)") == ("call", "max", [("num", 1), ("var", "x"), ("num", 3)])
    assert parse("f()") == ("call", "f", [])


def test_parse_ternary():
    assert parse("a ? 1 : 2") == ("if", ("var", "a"), ("num", 1), ("num", 2))


def test_parse_let():
    assert parse("let x = 1 + 1") == ("let", "x", ("bin", "+", ("num", 1), ("num", 1)))


@pytest.mark.parametrize("text", ["1 +", "(1", "1 2", ")", "max(1,", "a ? 1", "let = 3", ""])
def test_parse_errors(text):
    with pytest.raises(CalcSyntaxError):
        parse(text)


def test_error_position_points_at_token():
    with pytest.raises(CalcSyntaxError) as err:
        parse("1 + * 2")
    assert err.value.position == 4
