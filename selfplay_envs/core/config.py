"""Declared configuration: each parameter of a game once, checked, listed and documented.

A game declares its constructor's keyword parameters as a class attribute::

    class KuhnPokerGame(Game):
        parameters = Params(
            Param("num_hands", Int(1, MAX_HANDS), 1, "hands in the match"),
            Param("reward", Choice("chips", "match"), "chips", "what the return counts"),
            game="kuhn_poker_v0",
        )

From that one declaration:

* the constructor, and so ``make``, refuses every keyword argument the declaration does
  not accept before the game's own ``__init__`` runs (``Game.__init_subclass__`` wraps
  it), so nothing is allocated, read or created for a bad configuration: an unknown
  name (with the closest valid one), a wrong type (``"5"`` is not an int, ``True`` is
  not an int, ``1.5`` is not an int: nothing is coerced), a value out of range, or a
  broken rule between parameters (``Rule``). The error is a ``ConfigError`` (a
  ``ValueError``; ``ConfigTypeError`` is a ``TypeError`` too) whose message names the
  parameter, what it accepts and the value given;
* ``selfplay list`` prints every parameter;
* the ``## Parameters`` table of every page in ``docs/games`` is generated from it
  (``selfplay_envs.core.config_docs``: ``python -m selfplay_envs.core.config_docs
  --docs`` prints the tables, ``--write`` updates the pages, ``--check`` compares),
  and a test checks that the pages hold the generated tables.

The options ``make`` itself takes (``view``, ``invalid_move``, ``render_mode``,
``max_attempts``) are declared the same way (``core.adapter.ENV_OPTIONS``).

A kind is a small check of one value that also says in words what it accepts:
``Int``, ``Float``, ``Bool``, ``Str``, ``Choice``, ``PathArg``, ``Url``, ``Seq``,
``Pair``, ``Dict``, ``Instance``, ``Func``, ``OneOf`` and ``Where`` (a kind plus one
test of the game's own). Checks only look: a path check calls ``stat``, never creates
anything, and no check opens a network connection.
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from selfplay_envs.core.errors import ConfigError, ConfigTypeError

__all__ = [
    "Kind",
    "Reject",
    "Int",
    "Float",
    "Bool",
    "Str",
    "Choice",
    "PathArg",
    "Url",
    "Seq",
    "Pair",
    "Dict",
    "Instance",
    "Func",
    "Anything",
    "OneOf",
    "Where",
    "Param",
    "Rule",
    "Params",
    "show",
]


def show(value: Any, limit: int = 200) -> str:
    """``repr(value)``, cut to ``limit`` characters."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real error
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _a_type(value: Any) -> str:
    """``"a str"``, ``"an int"``: the value's type with its article."""
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


class Reject(Exception):
    """Raised by a kind's ``check``: the value is not accepted.

    Args:
        detail: What in particular is wrong (``"item 2: 'x' is a str"``), if anything
            beyond "it is not what the parameter accepts".
        type_error: The value is of the wrong type (``ConfigTypeError``).
    """

    def __init__(self, detail: str = "", *, type_error: bool = False):
        super().__init__(detail)
        self.detail = detail
        self.type_error = type_error


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


class Kind:
    """What a parameter accepts: ``check`` raises ``Reject``, ``describe`` says it.

    Args:
        desc: Words that replace the generated description.
    """

    def __init__(self, *, desc: str | None = None):
        self._desc = desc

    def describe(self) -> str:
        """What the kind accepts, as a noun phrase (``"an int in [1, 10]"``)."""
        return self._desc or self._describe()

    def _describe(self) -> str:
        raise NotImplementedError

    def check(self, value: Any) -> None:
        """Raise ``Reject`` unless ``value`` is accepted; never changes it."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()!r})"


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{value:.1f}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _bounds(
    low: float | None,
    high: float | None,
    low_open: bool = False,
    high_open: bool = False,
) -> str:
    if low is not None and high is not None:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        return f" in {left}{_number(low)}, {_number(high)}{right}"
    if low is not None:
        return f" {'>' if low_open else '>='} {_number(low)}"
    if high is not None:
        return f" {'<' if high_open else '<='} {_number(high)}"
    return ""


def is_int(value: Any) -> bool:
    """An integer that is not a bool (``numpy`` integers count)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A real number that is not a bool (ints count)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class Int(Kind):
    """An int (never a bool, a float or a numeric string) in ``[min, max]``.

    Args:
        min: Smallest accepted value, or ``None``.
        max: Largest accepted value, or ``None``.
        even: Accept only even values.
    """

    def __init__(
        self,
        min: int | None = None,
        max: int | None = None,
        *,
        even: bool = False,
        desc: str | None = None,
    ):
        super().__init__(desc=desc)
        self.min, self.max, self.even = min, max, even

    def _describe(self) -> str:
        return ("an even int" if self.even else "an int") + _bounds(self.min, self.max)

    def check(self, value: Any) -> None:
        """Refuse non-ints, out-of-range and (if ``even``) odd values."""
        if not is_int(value):
            raise Reject(type_error=True)
        if self.min is not None and value < self.min:
            raise Reject()
        if self.max is not None and value > self.max:
            raise Reject()
        if self.even and value % 2:
            raise Reject()


class Float(Kind):
    """A finite real number (an int counts, a bool or a string does not).

    Args:
        min: Lower bound, or ``None``.
        max: Upper bound, or ``None``.
        min_open: Exclude ``min`` itself.
        max_open: Exclude ``max`` itself.
    """

    def __init__(
        self,
        min: float | None = None,
        max: float | None = None,
        *,
        min_open: bool = False,
        max_open: bool = False,
        desc: str | None = None,
    ):
        super().__init__(desc=desc)
        self.min, self.max = min, max
        self.min_open, self.max_open = min_open, max_open

    def _describe(self) -> str:
        return "a number" + _bounds(self.min, self.max, self.min_open, self.max_open)

    def check(self, value: Any) -> None:
        """Refuse non-numbers, NaN and infinities, and values out of the bounds."""
        if not is_number(value):
            raise Reject(type_error=True)
        if not math.isfinite(value):
            raise Reject("not finite")
        if self.min is not None and (
            value < self.min or (self.min_open and value == self.min)
        ):
            raise Reject()
        if self.max is not None and (
            value > self.max or (self.max_open and value == self.max)
        ):
            raise Reject()


class Bool(Kind):
    """``True`` or ``False`` (not 0, 1 or a string)."""

    def _describe(self) -> str:
        return "True or False"

    def check(self, value: Any) -> None:
        """Refuse anything but a bool."""
        if not isinstance(value, bool):
            raise Reject(type_error=True)


class Str(Kind):
    """A str of ``min_len`` to ``max_len`` characters, optionally matching a pattern.

    Args:
        min_len: Fewest characters (1: not empty).
        max_len: Most characters, or ``None``.
        pattern: A regular expression the whole string must match.
        what: What the pattern means, for the description (``"a name of letters"``).
    """

    def __init__(
        self,
        *,
        min_len: int = 1,
        max_len: int | None = None,
        pattern: str | None = None,
        what: str | None = None,
        desc: str | None = None,
    ):
        super().__init__(desc=desc)
        self.min_len, self.max_len = min_len, max_len
        self.pattern = re.compile(pattern) if pattern else None
        self.what = what

    def _describe(self) -> str:
        if self.what:
            return self.what
        text = "a non-empty str" if self.min_len >= 1 else "a str"
        if self.max_len is not None:
            text += f" of at most {self.max_len} characters"
        return text

    def check(self, value: Any) -> None:
        """Refuse non-strings, the wrong length and a failed pattern."""
        if not isinstance(value, str):
            raise Reject(type_error=True)
        if len(value) < self.min_len:
            raise Reject("empty" if not value else "too short")
        if self.max_len is not None and len(value) > self.max_len:
            raise Reject(f"{len(value)} characters")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise Reject()


class Choice(Kind):
    """One of a few strings (a ``str`` enum member counts as its value)."""

    def __init__(self, *choices: str, desc: str | None = None):
        super().__init__(desc=desc)
        self.choices = tuple(choices)

    def _describe(self) -> str:
        return "one of " + ", ".join(repr(c) for c in self.choices)

    def check(self, value: Any) -> None:
        """Refuse anything that is not one of the choices."""
        if not isinstance(value, str):
            raise Reject(type_error=True)
        if value not in self.choices:
            close = difflib.get_close_matches(str(value), self.choices, n=1)
            raise Reject(f"did you mean {close[0]!r}?" if close else "")


class PathArg(Kind):
    """A file-system path (``str`` or ``os.PathLike``), checked with ``stat`` only.

    Args:
        kind: ``"file"`` (an existing file), ``"dir"`` (an existing directory) or
            ``None`` (anything, or nothing yet).
        nonempty: A file must not be empty.
        parent_exists: The path's parent must be an existing directory and the path
            itself, if it exists, a directory: one level may be created later, never
            a tree.
    """

    def __init__(
        self,
        kind: str | None = None,
        *,
        nonempty: bool = False,
        parent_exists: bool = False,
        desc: str | None = None,
    ):
        super().__init__(desc=desc)
        if kind not in (None, "file", "dir"):
            raise ValueError(f"expected kind 'file', 'dir' or None, got {kind!r}")
        self.kind, self.nonempty, self.parent_exists = kind, nonempty, parent_exists

    def _describe(self) -> str:
        if self.kind == "file":
            return (
                f"the path of an existing{' non-empty' if self.nonempty else ''} file"
            )
        if self.kind == "dir":
            return "the path of an existing directory"
        if self.parent_exists:
            return "a directory path whose parent directory exists"
        return "a path"

    def check(self, value: Any) -> None:
        """Refuse non-paths, and paths the file system does not have as asked."""
        if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
            raise Reject(type_error=True)
        text = os.fspath(value)
        if not isinstance(text, str):
            raise Reject(type_error=True)
        if not text:
            raise Reject("an empty path")
        if "\0" in text:
            raise Reject("a NUL character in the path")
        path = Path(text).expanduser()
        try:
            if self.kind == "file":
                if path.is_dir():
                    raise Reject("it is a directory")
                if not path.is_file():
                    raise Reject("no such file")
                if self.nonempty and path.stat().st_size == 0:
                    raise Reject("the file is empty")
            elif self.kind == "dir":
                if not path.is_dir():
                    raise Reject(
                        "it is a file" if path.exists() else "no such directory"
                    )
            elif self.parent_exists:
                if path.exists() and not path.is_dir():
                    raise Reject("it exists and is not a directory")
                if not path.parent.is_dir():
                    raise Reject(f"no directory {str(path.parent)!r}")
        except OSError as err:  # a path too long, a permission error
            raise Reject(f"cannot stat it: {err.strerror or err}") from None


class Url(Kind):
    """An absolute URL with a host, of one of ``schemes`` (no connection is made)."""

    def __init__(self, schemes: Sequence[str] = ("http", "https"), **kw: Any):
        super().__init__(**kw)
        self.schemes = tuple(schemes)

    def _describe(self) -> str:
        schemes = " or ".join(self.schemes)
        article = "an" if schemes[:1] in "aehiou" else "a"
        return f"{article} {schemes} URL such as '{self.schemes[0]}://127.0.0.1:8000'"

    def check(self, value: Any) -> None:
        """Refuse non-strings and strings that are not such a URL."""
        if not isinstance(value, str):
            raise Reject(type_error=True)
        if any(ch.isspace() for ch in value) or "\0" in value:
            raise Reject("it holds blanks")
        try:
            parts = urllib.parse.urlsplit(value)
            port = parts.port  # raises on a port that is not a number in 0-65535
        except ValueError as err:
            raise Reject(str(err)) from None
        if parts.scheme not in self.schemes:
            raise Reject(f"scheme {parts.scheme!r}" if parts.scheme else "no scheme")
        if not parts.hostname:
            raise Reject("no host")
        del port


class Seq(Kind):
    """A list or tuple (not a string) whose every item is of ``item``.

    Args:
        item: The kind of each item.
        min_len: Fewest items.
        max_len: Most items, or ``None``.
        unique: Items must differ.
        length: Exactly this many items (sets both bounds).
    """

    def __init__(
        self,
        item: Kind,
        *,
        min_len: int = 0,
        max_len: int | None = None,
        unique: bool = False,
        length: int | None = None,
        desc: str | None = None,
    ):
        super().__init__(desc=desc)
        self.item = item
        if length is not None:
            min_len = max_len = length
        self.min_len, self.max_len, self.unique = min_len, max_len, unique

    def _describe(self) -> str:
        unique = " distinct" if self.unique else ""
        items = f"{unique} items, each {self.item.describe()}"
        if self.min_len == self.max_len:
            return f"a list of {self.min_len}{items}"
        if self.max_len is not None:
            return f"a list of {self.min_len}-{self.max_len}{items}"
        if self.min_len == 1:
            return f"a non-empty list of{items}"
        count = f"{self.min_len} or more" if self.min_len else "any number of"
        return f"a list of {count}{items}"

    def check(self, value: Any) -> None:
        """Refuse non-sequences, the wrong length, repeats and any bad item."""
        if not isinstance(value, (list, tuple)):
            raise Reject(type_error=True)
        if len(value) < self.min_len or (
            self.max_len is not None and len(value) > self.max_len
        ):
            raise Reject(_count(len(value), "item"))
        for index, item in enumerate(value):
            try:
                self.item.check(item)
            except Reject as err:
                why = f"item {index} is {show(item, 40)}"
                if err.type_error:
                    why += f" ({_a_type(item)})"
                elif err.detail:
                    why += f": {err.detail}"
                raise Reject(why, type_error=err.type_error) from None
        if self.unique:
            seen: list[Any] = []
            for item in value:
                if item in seen:
                    raise Reject(f"{show(item, 40)} is repeated")
                seen.append(item)


class Pair(Kind):
    """A ``(first, second)`` list or tuple of two items of the given kinds."""

    def __init__(self, first: Kind, second: Kind | None = None, **kw: Any):
        super().__init__(**kw)
        self.first, self.second = first, second or first

    def _describe(self) -> str:
        if self.first is self.second:
            return f"a pair (low, high), each {self.first.describe()}"
        return f"a pair of {self.first.describe()} and {self.second.describe()}"

    def check(self, value: Any) -> None:
        """Refuse non-sequences, other lengths and bad items."""
        if not isinstance(value, (list, tuple)):
            raise Reject(type_error=True)
        if len(value) != 2:
            raise Reject(_count(len(value), "item"))
        for index, (kind, item) in enumerate(
            zip((self.first, self.second), value, strict=True)
        ):
            try:
                kind.check(item)
            except Reject as err:
                why = f"item {index} is {show(item, 40)}"
                if err.type_error:
                    why += f" ({_a_type(item)})"
                raise Reject(why, type_error=err.type_error) from None


class Dict(Kind):
    """A mapping whose keys are of ``key`` and values of ``value``."""

    def __init__(
        self, key: Kind, value: Kind, *, max_len: int | None = None, **kw: Any
    ):
        super().__init__(**kw)
        self.key, self.value, self.max_len = key, value, max_len

    def _describe(self) -> str:
        return f"a dict of {self.key.describe()} to {self.value.describe()}" + (
            f", at most {self.max_len} entries" if self.max_len else ""
        )

    def check(self, value: Any) -> None:
        """Refuse non-mappings and any bad key or value."""
        if not isinstance(value, Mapping):
            raise Reject(type_error=True)
        if self.max_len is not None and len(value) > self.max_len:
            raise Reject(_count(len(value), "entry", "entries"))
        for key, item in value.items():
            for kind, what, part in (
                (self.key, "key", key),
                (self.value, "value", item),
            ):
                try:
                    kind.check(part)
                except Reject as err:
                    why = f"{what} {show(part, 40)}"
                    if what == "value":
                        why = f"the value of {show(key, 40)} is {show(part, 40)}"
                    if err.type_error:
                        why += f" ({_a_type(part)})"
                    raise Reject(why, type_error=err.type_error) from None


class Instance(Kind):
    """An instance of one of ``classes``."""

    def __init__(self, *classes: type, desc: str | None = None):
        super().__init__(desc=desc)
        self.classes = classes

    def _describe(self) -> str:
        return " or ".join(f"a {c.__name__}" for c in self.classes)

    def check(self, value: Any) -> None:
        """Refuse anything else."""
        if not isinstance(value, self.classes):
            raise Reject(type_error=True)


class Func(Kind):
    """A callable."""

    def _describe(self) -> str:
        return "a callable"

    def check(self, value: Any) -> None:
        """Refuse what cannot be called."""
        if not callable(value):
            raise Reject(type_error=True)


class Anything(Kind):
    """Any value (for parameters a later check of the game's own judges)."""

    def _describe(self) -> str:
        return "any value"

    def check(self, value: Any) -> None:
        """Accept everything."""
        del value


class OneOf(Kind):
    """Any one of several kinds (the first that accepts the value)."""

    def __init__(self, *kinds: Kind, desc: str | None = None):
        super().__init__(desc=desc)
        self.kinds = kinds

    def _describe(self) -> str:
        return " or ".join(k.describe() for k in self.kinds)

    def check(self, value: Any) -> None:
        """Refuse what no kind accepts; a type error only if every kind's is."""
        rejects = []
        for kind in self.kinds:
            try:
                kind.check(value)
                return
            except Reject as err:
                rejects.append(err)
        details = [r.detail for r in rejects if r.detail and not r.type_error]
        raise Reject(
            details[0] if len(details) == 1 else "",
            type_error=all(r.type_error for r in rejects),
        )


class Where(Kind):
    """A kind plus one test of the game's own.

    Args:
        kind: Checked first.
        test: ``value -> None`` when accepted, else the reason in words.
        desc: What the whole accepts (the base kind's description by default).
    """

    def __init__(
        self, kind: Kind, test: Callable[[Any], str | None], *, desc: str | None = None
    ):
        super().__init__(desc=desc)
        self.kind, self.test = kind, test

    def _describe(self) -> str:
        return self.kind.describe()

    def check(self, value: Any) -> None:
        """The base kind, then the test."""
        self.kind.check(value)
        reason = self.test(value)
        if reason:
            raise Reject(reason)


class Param:
    """One keyword parameter: its name, what it accepts, its default and a doc line.

    Args:
        name: The keyword.
        kind: What it accepts.
        default: The constructor's default (``None`` is then always accepted).
        doc: One line for the docs and ``selfplay list``.
        nullable: ``None`` is accepted too (always so when the default is ``None``).
        shown_default: How the docs show the default, instead of its ``repr``.
    """

    __slots__ = ("name", "kind", "default", "doc", "nullable", "shown_default")

    def __init__(
        self,
        name: str,
        kind: Kind,
        default: Any,
        doc: str,
        *,
        nullable: bool = False,
        shown_default: str | None = None,
    ):
        self.name, self.kind, self.default, self.doc = name, kind, default, doc
        self.nullable = nullable or default is None
        self.shown_default = shown_default

    def accepts(self) -> str:
        """What the parameter accepts, in words."""
        text = self.kind.describe()
        return f"{text}, or None" if self.nullable else text

    def default_text(self) -> str:
        """The default as the docs show it."""
        if self.shown_default is not None:
            return self.shown_default
        return show(self.default, 60)

    def __repr__(self) -> str:
        return f"Param({self.name!r}, {self.accepts()!r}, default={self.default!r})"


class Rule:
    """A rule between parameters (``value_bounds`` low <= high, ``image_folder`` only
    with ``items="folder"``).

    Args:
        params: The parameters it is about; the first is named in the error.
        test: ``(config, given) -> None`` when the configuration is fine, else a
            reason in the form "expected ..., got ...". ``config`` holds every
            parameter (defaults filled in), ``given`` only those passed.
        doc: The rule in words, for the docs.
    """

    __slots__ = ("params", "test", "doc")

    def __init__(
        self,
        params: Sequence[str],
        test: Callable[[Mapping[str, Any], Mapping[str, Any]], str | None],
        doc: str,
    ):
        self.params, self.test, self.doc = tuple(params), test, doc

    @classmethod
    def at_most(cls, low: str, high: str) -> Rule:
        """``low <= high`` between two parameters (``min_objects``, ``max_objects``)."""

        def test(config: Mapping[str, Any], given: Mapping[str, Any]) -> str | None:
            del given
            a, b = config[low], config[high]
            return f"expected {low} <= {high}, got {a} and {b}" if a > b else None

        return cls((low, high), test, f"`{low} <= {high}`")

    @classmethod
    def low_high(cls, name: str, doc: str) -> Rule:
        """A ``(low, high)`` pair parameter has ``low <= high`` (an int passes)."""

        def test(config: Mapping[str, Any], given: Mapping[str, Any]) -> str | None:
            del given
            pair = config[name]
            if isinstance(pair, (list, tuple)) and pair[0] > pair[1]:
                return (
                    f"expected {name} (low, high) with low <= high, got {tuple(pair)}"
                )
            return None

        return cls((name,), test, doc)


class Params:
    """The declared parameters of one game (or of ``make``'s own options).

    Args:
        *params: Every keyword parameter, in the order the docs list them.
        rules: Rules between parameters, checked after each value passed.
        game: The name errors start with (the env id).
    """

    def __init__(self, *params: Param, rules: Sequence[Rule] = (), game: str = ""):
        self.params = {p.name: p for p in params}
        if len(self.params) != len(params):
            raise ValueError(f"expected distinct parameter names, got {list(params)}")
        self.rules = tuple(rules)
        for rule in self.rules:
            unknown = [n for n in rule.params if n not in self.params]
            if unknown:
                raise ValueError(
                    f"expected rules about declared parameters, got {unknown}"
                )
        self.game = game

    def __iter__(self) -> Iterator[Param]:
        return iter(self.params.values())

    def __len__(self) -> int:
        return len(self.params)

    def __contains__(self, name: object) -> bool:
        return name in self.params

    def __getitem__(self, name: str) -> Param:
        return self.params[name]

    def defaults(self) -> dict[str, Any]:
        """Every parameter's default."""
        return {p.name: p.default for p in self}

    def check(
        self, config: Mapping[str, Any], *, owner: str | None = None, prefix: str = ""
    ) -> None:
        """Raise ``ConfigError`` unless every entry of ``config`` is accepted.

        Args:
            config: The keyword arguments given.
            owner: Who takes them, for the message (``self.game`` by default).
            prefix: Put before each name in messages (``"invalid_move."``).

        Raises:
            ConfigTypeError: An unknown name or a value of the wrong type.
            ConfigError: A value out of range, or a broken rule.
        """
        owner = owner if owner is not None else self.game or "the game"
        for name, value in config.items():
            param = self.params.get(name)
            if param is None:
                raise self._unknown(owner, prefix, name)
            if value is None and param.nullable:
                continue
            try:
                param.kind.check(value)
            except Reject as err:
                raise _error(
                    owner, prefix + name, param.accepts(), value, err
                ) from None
        if self.rules:
            full = {**self.defaults(), **config}
            for rule in self.rules:
                reason = rule.test(full, config)
                if reason:
                    name, value = prefix + rule.params[0], full.get(rule.params[0])
                    if show(value) not in reason:
                        reason += f" (with {name}={show(value)})"
                    raise ConfigError(
                        f"{owner} parameter {name}: {reason}",
                        param=name,
                        value=value,
                        expected=rule.doc,
                    )

    def _unknown(self, owner: str, prefix: str, name: Any) -> ConfigTypeError:
        names = list(self.params)
        close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
        hint = f"; did you mean {prefix + close[0]!r}?" if close else ""
        if names:
            listed = ", ".join(prefix + n for n in names)
            expected = f"expected a parameter among {listed}"
        else:
            expected = "expected no parameters"
        return ConfigTypeError(
            f"{owner}: {expected}, got {prefix + str(name)!r}{hint}",
            param=f"{prefix}{name}",
            value=name,
            expected=expected,
        )

    # ---- docs -----------------------------------------------------------------------

    def table(self) -> str:
        """The Markdown table of the parameters (and a list of the rules)."""
        if not self.params:
            return "This game takes no parameters of its own.\n"
        lines = ["| name | accepts | default | meaning |", "|---|---|---|---|"]
        for p in self:
            accepts = _cell(p.accepts())
            lines.append(
                f"| `{p.name}` | {accepts} | `{_cell(p.default_text())}` | {_cell(p.doc)} |"
            )
        text = "\n".join(lines) + "\n"
        if self.rules:
            text += "\nAlso checked at `make()`:\n\n"
            text += "".join(f"* {rule.doc}\n" for rule in self.rules)
        return text

    def lines(self, indent: str = "    ") -> list[str]:
        """One line per parameter, for ``selfplay list``."""
        return [
            f"{indent}{p.name}={p.default_text()}: {p.accepts()}; {p.doc}" for p in self
        ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _error(
    owner: str, name: str, expected: str, value: Any, reject: Reject
) -> ConfigError:
    got = show(value)
    if reject.type_error and not reject.detail:
        got += f" ({_a_type(value)})"
    if reject.detail:
        got += f": {reject.detail}"
    cls = ConfigTypeError if reject.type_error else ConfigError
    return cls(
        f"{owner} parameter {name}: expected {expected}, got {got}",
        param=name,
        value=value,
        expected=expected,
    )
