"""Evaluating ASTs with variables and built-in functions."""

from __future__ import annotations

import math

from minicalc.parser import parse

__all__ = ["Calculator", "evaluate", "CalcError", "FUNCTIONS"]


class CalcError(ValueError):
    """Evaluation failed: unknown name, bad arity, division by zero."""


def _avg(*xs):
    if not xs:
        raise CalcError("avg() needs at least one argument")
    return sum(xs) / len(xs)


# name -> (function, min args, max args or None for any)
FUNCTIONS = {
    "abs": (abs, 1, 1),
    "min": (min, 1, None),
    "max": (max, 1, None),
    "sqrt": (math.sqrt, 1, 1),
    "round": (round, 1, 2),
    "floor": (math.floor, 1, 1),
    "ceil": (math.ceil, 1, 1),
    "avg": (_avg, 1, None),
    "clamp": (lambda x, lo, hi: max(lo, min(x, hi)), 3, 3),
}
CONSTANTS = {"pi": math.pi, "e": math.e, "true": 1, "false": 0}


def _divide(a, b):
    if b == 0:
        raise CalcError("division by zero")
    result = a / b
    return int(result) if isinstance(a, int) and isinstance(b, int) and a % b == 0 else result


def _modulo(a, b):
    if b == 0:
        raise CalcError("modulo by zero")
    return a % b


_BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _divide,
    "%": _modulo,
    "^": lambda a, b: a**b,
    "<": lambda a, b: int(a < b),
    "<=": lambda a, b: int(a <= b),
    ">": lambda a, b: int(a > b),
    ">=": lambda a, b: int(a >= b),
    "==": lambda a, b: int(a == b),
    "!=": lambda a, b: int(a != b),
}


class Calculator:
    """Evaluates expressions; ``let`` statements store variables between calls."""

    def __init__(self, variables=None):
        self.variables = dict(variables or {})

    def evaluate(self, text):
        """Parse and evaluate ``text``; ``let x = ...`` returns the stored value."""
        return self.eval_node(parse(text))

    def eval_node(self, node):
        """Evaluate one AST node."""
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "var":
            return self._lookup(node[1])
        if kind == "neg":
            return -self.eval_node(node[1])
        if kind == "not":
            return int(not self.eval_node(node[1]))
        if kind == "bin":
            return self._binary(node[1], node[2], node[3])
        if kind == "if":
            branch = node[2] if self.eval_node(node[1]) else node[3]
            return self.eval_node(branch)
        if kind == "call":
            return self._call(node[1], node[2])
        if kind == "let":
            value = self.eval_node(node[2])
            self.variables[node[1]] = value
            return value
        raise CalcError(f"unknown node {kind!r}")

    def _lookup(self, name):
        if name in self.variables:
            return self.variables[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        raise CalcError(f"unknown variable {name!r}")

    def _binary(self, op, left, right):
        # && and || short-circuit: the right side is not evaluated when not needed.
        if op == "&&":
            return int(bool(self.eval_node(left)) and bool(self.eval_node(right)))
        if op == "||":
            return int(bool(self.eval_node(left)) or bool(self.eval_node(right)))
        return _BINARY[op](self.eval_node(left), self.eval_node(right))

    def _call(self, name, arg_nodes):
        if name not in FUNCTIONS:
            raise CalcError(f"unknown function {name!r}")
        function, low, high = FUNCTIONS[name]
        if len(arg_nodes) < low or (high is not None and len(arg_nodes) > high):
            raise CalcError(f"{name}() takes {low}..{high or 'any'} arguments, got {len(arg_nodes)}")
        args = [self.eval_node(arg) for arg in arg_nodes]
        try:
            return function(*args)
        except ValueError as err:
            raise CalcError(f"{name}(): {err}") from err


def evaluate(text, **variables):
    """Evaluate one expression with ``variables``."""
    return Calculator(variables).evaluate(text)
