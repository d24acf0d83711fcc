import math

import pytest

from minicalc import CalcError, Calculator, evaluate


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("2 ^ 3 ^ 2", 512),
        ("-2 ^ 2", -4),
        ("7 % 3", 1),
        ("8 / 2", 4),
        ("7 / 2", 3.5),
        ("--3", 3),
        ("+5", 5),
    ],
)
def test_arithmetic(text, value):
    assert evaluate(text) == value


def test_integer_division_result_stays_int():
    assert isinstance(evaluate("8 / 2"), int)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 < 2", 1),
        ("2 <= 2", 1),
        ("3 > 4", 0),
        ("3 >= 4", 0),
        ("1 == 1", 1),
        ("1 != 1", 0),
        ("1 + 1 == 2", 1),
    ],
)
def test_comparisons(text, value):
    assert evaluate(text) == value


def test_boolean_ops():
    assert evaluate("1 && 0") == 0
    assert evaluate("1 || 0") == 1
    assert evaluate("!0") == 1
    assert evaluate("1 < 2 && 2 < 3") == 1


def test_short_circuit_skips_errors():
    assert evaluate("0 && 1 / 0") == 0
    assert evaluate("1 || 1 / 0") == 1


def test_ternary():
    assert evaluate("x > 0 ? 1 : -1", x=5) == 1
    assert evaluate("x > 0 ? 1 : -1", x=-5) == -1


def test_ternary_is_lazy():
    assert evaluate("1 ? 2 : 1 / 0") == 2


def test_nested_ternary_is_right_associative():
    assert evaluate("a ? 1 : b ? 2 : 3", a=0, b=1) == 2


def test_variables_and_constants():
    assert evaluate("x * y", x=3, y=4) == 12
    assert evaluate("pi") == pytest.approx(math.pi)
    assert evaluate("true + true") == 2


def test_variable_shadows_constant():
    assert evaluate("e", e=5) == 5


def test_unknown_variable():
    with pytest.raises(CalcError):
        evaluate("nope + 1")


def test_functions():
    assert evaluate("max(1, 5, 3)") == 5
    assert evaluate("min(4, 2)") == 2
    assert evaluate("abs(-3)") == 3
    assert evaluate("sqrt(16)") == 4
    assert evaluate("round(2.567, 2)") == 2.57
    assert evaluate("floor(2.7) + ceil(2.1)") == 5
    assert evaluate("avg(1, 2, 3, 4)") == 2.5
    assert evaluate("clamp(15, 0, 10)") == 10


def test_function_arity_checked():
    with pytest.raises(CalcError):
        evaluate("abs(1, 2)")
    with pytest.raises(CalcError):
        evaluate("clamp(1)")


def test_unknown_function():
    with pytest.raises(CalcError):
        evaluate("frobnicate(1)")


def test_math_domain_error_is_calc_error():
    with pytest.raises(CalcError):
        evaluate("sqrt(-1)")


def test_division_by_zero():
    with pytest.raises(CalcError):
        evaluate("1 / 0")
    with pytest.raises(CalcError):
        evaluate("1 % 0")


def test_let_persists():
    calc = Calculator()
    assert calc.evaluate("let r = 2") == 2
    assert calc.evaluate("r ^ 3 - 1") == 7
    calc.evaluate("let r = r + 1")
    assert calc.variables["r"] == 3


def test_calculator_initial_variables_copied():
    variables = {"a": 1}
    calc = Calculator(variables)
    calc.evaluate("let a = 5")
    assert variables["a"] == 1
