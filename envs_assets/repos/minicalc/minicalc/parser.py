"""A Pratt parser from tokens to a small tuple AST.

Nodes: ``("num", value)``, ``("var", name)``, ``("neg", x)``, ``("not", x)``,
``("bin", op, left, right)``, ``("call", name, [args])``, ``("if", cond, a, b)``,
``("let", name, value)``.
"""

from __future__ import annotations

from minicalc.lexer import CalcSyntaxError, tokenize

__all__ = ["parse", "BINDING_POWER"]

# Left binding power of infix operators; higher binds tighter.
BINDING_POWER = {
    "?": 10,
    "||": 20,
    "&&": 30,
    "==": 40, "!=": 40,
    "<": 50, "<=": 50, ">": 50, ">=": 50,
    "+": 60, "-": 60,
    "*": 70, "/": 70, "%": 70,
    "^": 80, "**": 80,
}
_RIGHT_ASSOC = {"^", "**"}
_PREFIX_POWER = 75  # unary minus binds looser than ^: -2^2 == -4


class _Parser:
    def __init__(self, text):
        self.tokens = tokenize(text)
        self.index = 0

    def peek(self):
        return self.tokens[self.index]

    def advance(self):
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text):
        token = self.advance()
        if token.text != text:
            found = token.text or "end of input"
            raise CalcSyntaxError(f"expected {text!r}, found {found!r}", token.position)
        return token

    def expression(self, min_power=0):
        left = self.prefix()
        while True:
            token = self.peek()
            power = BINDING_POWER.get(token.text) if token.kind == "op" else None
            if power is None or power <= min_power:
                return left
            self.advance()
            if token.text == "?":
                then = self.expression(0)
                self.expect(":")
                otherwise = self.expression(power - 1)
                left = ("if", left, then, otherwise)
                continue
            next_min = power - 1 if token.text in _RIGHT_ASSOC else power
            right = self.expression(next_min)
            left = ("bin", "^" if token.text == "**" else token.text, left, right)

    def prefix(self):
        token = self.advance()
        if token.kind == "num":
            return ("num", token.value)
        if token.kind == "name":
            if self.peek().text == "(":
                return self.call(token.text)
            return ("var", token.text)
        if token.text == "-":
            return ("neg", self.expression(_PREFIX_POWER))
        if token.text == "+":
            return self.expression(_PREFIX_POWER)
        if token.text == "!":
            return ("not", self.expression(_PREFIX_POWER))
        if token.text == "(":
            inner = self.expression(0)
            self.expect(")")
            return inner
        found = token.text or "end of input"
        raise CalcSyntaxError(f"unexpected {found!r}", token.position)

    def call(self, name):
        self.expect("(")
        args = []
        if self.peek().text != ")":
            args.append(self.expression(0))
            while self.peek().text == ",":
                self.advance()
                args.append(self.expression(0))
        self.expect(")")
        return ("call", name, args)

    def statement(self):
        first = self.tokens[0]
        second = self.tokens[1] if len(self.tokens) > 1 else first
        if first.kind == "name" and first.text == "let" and second.kind == "name":
            self.index = 2
            self.expect("=")
            node = ("let", second.text, self.expression(0))
        else:
            node = self.expression(0)
        end = self.peek()
        if end.kind != "end":
            raise CalcSyntaxError(f"unexpected {end.text!r}", end.position)
        return node


def parse(text):
    """Parse one expression, or a ``let name = expr`` statement, into an AST."""
    return _Parser(text).statement()
