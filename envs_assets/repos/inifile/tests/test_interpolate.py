import pytest

import inifile
from inifile import InterpolationError


def test_same_section_reference():
    doc = inifile.loads("[db]\nhost = h\nport = 1\nurl = ${host}:${port}\n")
    assert doc.get("db", "url") == "h:1"


def test_cross_section_reference():
    doc = inifile.loads("[a]\nx = 5\n[b]\ny = ${a:x}0\n")
    assert doc.get("b", "y") == "50"


def test_reference_to_default():
    doc = inifile.loads("root = /srv\n[app]\nlogs = ${root}/logs\n")
    assert doc.get("app", "logs") == "/srv/logs"


def test_nested_references():
    doc = inifile.loads("[p]\na = 1\nb = ${a}2\nc = ${b}3\n")
    assert doc.get("p", "c") == "123"


def test_escaped_dollar():
    doc = inifile.loads("[p]\nprice = $$5 and ${cur}\ncur = EUR\n")
    assert doc.get("p", "price") == "$5 and EUR"


def test_raw_get_skips_interpolation():
    doc = inifile.loads("[p]\na = ${b}\nb = 1\n")
    assert doc.get("p", "a", raw=True) == "${b}"


def test_unknown_reference_raises():
    doc = inifile.loads("[p]\na = ${nope}\n")
    with pytest.raises(InterpolationError):
        doc.get("p", "a")


def test_cycle_is_detected():
    doc = inifile.loads("[p]\na = ${b}\nb = ${a}\n")
    with pytest.raises(InterpolationError):
        doc.get("p", "a")


def test_reference_resolves_in_target_section():
    doc = inifile.loads("[a]\nv = A\nw = ${v}\n[b]\nv = B\nx = ${a:w}\n")
    assert doc.get("b", "x") == "A"


def test_typed_getter_sees_interpolated_value():
    doc = inifile.loads("[p]\nbase = 40\nn = ${base}2\n")
    assert doc.getint("p", "n") == 402


def test_depth_limit_allows_ten_levels():
    lines = ["[p]", "k0 = end"] + [f"k{i} = ${{k{i - 1}}}" for i in range(1, 11)]
    doc = inifile.loads("\n".join(lines) + "\n")
    assert doc.get("p", "k10") == "end"
