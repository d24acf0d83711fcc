"""Reading, querying and writing INI documents."""

from __future__ import annotations

from inifile.errors import MissingKeyError, MissingSectionError, ParseError
from inifile.interpolate import interpolate

__all__ = ["Document", "loads", "dumps", "DEFAULT_SECTION"]

DEFAULT_SECTION = "DEFAULT"
_COMMENT_PREFIXES = ("#", ";")
_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off"}


class Document:
    """An ordered INI document. Section names are case-sensitive; keys are not."""

    def __init__(self):
        self._sections = {DEFAULT_SECTION: {}}

    # ---- structure -----------------------------------------------------------------

    def sections(self):
        """Names of the sections, in file order, without the defaults section."""
        return [name for name in self._sections if name != DEFAULT_SECTION]

    def has_section(self, name):
        """True when the section exists."""
        return name in self._sections

    def add_section(self, name):
        """Create an empty section; adding an existing one is an error."""
        if name in self._sections:
            raise ValueError(f"section {name!r} already exists")
        self._sections[name] = {}

    def remove_section(self, name):
        """Delete a section and its keys."""
        if name not in self._sections or name == DEFAULT_SECTION:
            raise MissingSectionError(name)
        del self._sections[name]

    def keys(self, section):
        """Keys visible in ``section``: its own, then inherited defaults."""
        own = self._section(section)
        keys = list(own)
        keys.extend(k for k in self._sections[DEFAULT_SECTION] if k not in own)
        return keys

    def _section(self, name):
        if name not in self._sections:
            raise MissingSectionError(name)
        return self._sections[name]

    # ---- raw access ------------------------------------------------------------------

    def raw_get(self, section, key):
        """The uninterpolated value, falling back to the defaults; ``None`` if absent."""
        key = key.lower()
        own = self._sections.get(section)
        if own is not None and key in own:
            return own[key]
        return self._sections[DEFAULT_SECTION].get(key)

    def set(self, section, key, value):
        """Set ``key`` in ``section`` to the string form of ``value``."""
        self._section(section)[key.lower()] = _to_text(value)

    def remove(self, section, key):
        """Delete ``key`` from ``section`` (defaults are not touched)."""
        own = self._section(section)
        if key.lower() not in own:
            raise MissingKeyError(key)
        del own[key.lower()]

    # ---- typed getters ------------------------------------------------------------------

    def get(self, section, key, default=None, raw=False):
        """The value of ``key`` with references expanded, or ``default``."""
        self._section(section)
        value = self.raw_get(section, key)
        if value is None:
            return default
        return value if raw else interpolate(self, section, value)

    def require(self, section, key):
        """Like ``get`` but a missing key raises ``MissingKeyError``."""
        value = self.get(section, key)
        if value is None:
            raise MissingKeyError(key)
        return value

    def getint(self, section, key, default=None):
        """The value as an ``int`` (accepts ``0x`` hex and ``_`` separators)."""
        value = self.get(section, key)
        if value is None:
            return default
        return int(value.replace("_", ""), 0)

    def getfloat(self, section, key, default=None):
        """The value as a ``float``."""
        value = self.get(section, key)
        return default if value is None else float(value)

    def getboolean(self, section, key, default=None):
        """``yes/no``, ``true/false``, ``on/off``, ``1/0`` (any case) as a ``bool``."""
        value = self.get(section, key)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"not a boolean: {value!r}")

    def getlist(self, section, key, separator=",", default=None):
        """The value split on ``separator`` with blanks stripped and empty items dropped."""
        value = self.get(section, key)
        if value is None:
            return default if default is not None else []
        return [item.strip() for item in value.split(separator) if item.strip()]

    def as_dict(self, interpolated=True):
        """``{section: {key: value}}`` including inherited defaults."""
        result = {}
        for name in self.sections():
            if interpolated:
                result[name] = {k: self.get(name, k) for k in self.keys(name)}
            else:
                result[name] = {k: self.raw_get(name, k) for k in self.keys(name)}
        return result


def _to_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _strip_inline_comment(value):
    """Drop `` ;comment`` / `` #comment`` (a prefix preceded by whitespace)."""
    for index, char in enumerate(value):
        if char in _COMMENT_PREFIXES and index > 0 and value[index - 1].isspace():
            return value[:index].rstrip()
    return value


def loads(text):
    """Parse INI ``text`` into a ``Document``.

    Rules: ``[section]`` headers; ``key = value`` or ``key: value``; full-line comments
    start with ``#`` or ``;``; inline comments need whitespace before the prefix;
    indented lines continue the previous value (joined with a newline); keys before
    any header go to ``DEFAULT``; a repeated key in one section is an error.
    """
    document = Document()
    section = DEFAULT_SECTION
    last_key = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(_COMMENT_PREFIXES):
            continue
        if line[0].isspace() and last_key is not None:
            previous = document._sections[section][last_key]
            document._sections[section][last_key] = previous + "\n" + _strip_inline_comment(stripped)
            continue
        if stripped.startswith("["):
            if not stripped.endswith("]"):
                raise ParseError("unterminated section header", number)
            section = stripped[1:-1].strip()
            if not section:
                raise ParseError("empty section name", number)
            if section in document._sections and section != DEFAULT_SECTION:
                raise ParseError(f"duplicate section {section!r}", number)
            document._sections.setdefault(section, {})
            last_key = None
            continue
        key, value = _split_pair(stripped, number)
        if key in document._sections[section]:
            raise ParseError(f"duplicate key {key!r} in section {section!r}", number)
        document._sections[section][key] = value
        last_key = key
    return document


def _split_pair(stripped, number):
    positions = [p for p in (stripped.find("="), stripped.find(":")) if p >= 0]
    if not positions:
        raise ParseError(f"expected 'key = value', got {stripped!r}", number)
    cut = min(positions)
    key = stripped[:cut].strip().lower()
    if not key:
        raise ParseError("empty key", number)
    value = _strip_inline_comment(stripped[cut + 1 :].strip())
    return key, value


def dumps(document):
    """Write ``document`` back as INI text; ``loads(dumps(d))`` equals ``d``."""
    chunks = []
    for name, entries in document._sections.items():
        if name == DEFAULT_SECTION and not entries:
            continue
        lines = [f"[{name}]"]
        for key, value in entries.items():
            first, *rest = value.split("\n")
            lines.append(f"{key} = {first}")
            lines.extend(f"    {extra}" for extra in rest)
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks) + ("\n" if chunks else "")
