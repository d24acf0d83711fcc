"""A tiny expression language: numbers, variables, operators, functions, ``let``."""

from minicalc.evaluator import FUNCTIONS, CalcError, Calculator, evaluate
from minicalc.lexer import CalcSyntaxError, Token, tokenize
from minicalc.parser import parse

__all__ = [
    "FUNCTIONS",
    "CalcError",
    "CalcSyntaxError",
    "Calculator",
    "Token",
    "evaluate",
    "parse",
    "tokenize",
]
__version__ = "0.5.0"
