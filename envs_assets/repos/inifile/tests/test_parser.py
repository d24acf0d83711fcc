import pytest

import inifile
from inifile import MissingKeyError, MissingSectionError, ParseError

SAMPLE = """\
; global settings
name = demo
debug = off

[server]
host = example.org
port: 8080   ; the public port
timeout = 2.5
tags = a, b , ,c

[paths]
root = /srv
banner = first line
    second line
"""


@pytest.fixture
def doc():
    return inifile.loads(SAMPLE)


def test_sections_in_order(doc):
    assert doc.sections() == ["server", "paths"]


def test_equals_and_colon_separators(doc):
    assert doc.get("server", "host") == "example.org"
    assert doc.get("server", "port") == "8080"


def test_inline_comment_stripped(doc):
    assert doc.raw_get("server", "port") == "8080"


def test_hash_without_space_is_kept():
    doc = inifile.loads("[a]\ncolor = #ff0000\nurl = http://x/#frag\n")
    assert doc.get("a", "color") == "#ff0000"
    assert doc.get("a", "url") == "http://x/#frag"


def test_keys_are_case_insensitive(doc):
    assert doc.get("server", "HOST") == "example.org"


def test_section_names_are_case_sensitive(doc):
    with pytest.raises(MissingSectionError):
        doc.get("Server", "host")


def test_defaults_are_inherited(doc):
    assert doc.get("server", "name") == "demo"
    assert "debug" in doc.keys("paths")


def test_own_value_overrides_default():
    doc = inifile.loads("name = base\n[x]\nname = own\n")
    assert doc.get("x", "name") == "own"


def test_continuation_lines(doc):
    assert doc.get("paths", "banner") == "first line\nsecond line"


def test_getint_and_hex():
    doc = inifile.loads("[n]\na = 42\nb = 0x1F\nc = 1_000\n")
    assert doc.getint("n", "a") == 42
    assert doc.getint("n", "b") == 31
    assert doc.getint("n", "c") == 1000


def test_getfloat(doc):
    assert doc.getfloat("server", "timeout") == 2.5


@pytest.mark.parametrize(
    ("text", "expected"),
    [("yes", True), ("On", True), ("1", True), ("false", False), ("NO", False), ("0", False)],
)
def test_getboolean(text, expected):
    doc = inifile.loads(f"[b]\nflag = {text}\n")
    assert doc.getboolean("b", "flag") is expected


def test_getboolean_rejects_other_words():
    doc = inifile.loads("[b]\nflag = maybe\n")
    with pytest.raises(ValueError):
        doc.getboolean("b", "flag")


def test_getlist_drops_empty_items(doc):
    assert doc.getlist("server", "tags") == ["a", "b", "c"]


def test_missing_key_default(doc):
    assert doc.get("server", "nope") is None
    assert doc.getint("server", "nope", default=7) == 7
    assert doc.getlist("server", "nope") == []


def test_require_missing_key(doc):
    with pytest.raises(MissingKeyError):
        doc.require("server", "nope")


def test_missing_section(doc):
    with pytest.raises(MissingSectionError):
        doc.get("nope", "key")


def test_duplicate_key_is_error():
    with pytest.raises(ParseError) as err:
        inifile.loads("[a]\nx = 1\nx = 2\n")
    assert err.value.line == 3


def test_duplicate_section_is_error():
    with pytest.raises(ParseError):
        inifile.loads("[a]\n[b]\n[a]\n")


def test_line_without_separator_is_error():
    with pytest.raises(ParseError) as err:
        inifile.loads("[a]\njust words\n")
    assert err.value.line == 2


def test_unterminated_header_is_error():
    with pytest.raises(ParseError):
        inifile.loads("[a\nx = 1\n")


def test_empty_value_allowed():
    doc = inifile.loads("[a]\nx =\n")
    assert doc.get("a", "x") == ""


def test_set_and_remove():
    doc = inifile.loads("[a]\nx = 1\n")
    doc.set("a", "Y", True)
    assert doc.get("a", "y") == "true"
    doc.remove("a", "x")
    assert doc.get("a", "x") is None
    with pytest.raises(MissingKeyError):
        doc.remove("a", "x")


def test_add_and_remove_section():
    doc = inifile.Document()
    doc.add_section("s")
    assert doc.has_section("s")
    with pytest.raises(ValueError):
        doc.add_section("s")
    doc.remove_section("s")
    assert doc.sections() == []


def test_dumps_round_trip(doc):
    again = inifile.loads(inifile.dumps(doc))
    assert again.as_dict(interpolated=False) == doc.as_dict(interpolated=False)


def test_dumps_format():
    doc = inifile.Document()
    doc.add_section("s")
    doc.set("s", "k", "v")
    assert inifile.dumps(doc) == "[s]\nk = v\n"


def test_as_dict_includes_defaults(doc):
    data = doc.as_dict()
    assert data["paths"]["root"] == "/srv"
    assert data["paths"]["name"] == "demo"
