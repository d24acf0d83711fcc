import pytest

from textkit import center, dedent, fill, indent, justify, shorten, wrap

TEXT = "The quick brown fox jumps over the lazy dog"


def test_wrap_respects_width():
    lines = wrap(TEXT, 10)
    assert all(len(line) <= 10 for line in lines)
    assert " ".join(lines) == TEXT


def test_wrap_exact_lines():
    assert wrap(TEXT, 15) == ["The quick brown", "fox jumps over", "the lazy dog"]


def test_wrap_line_exactly_width():
    assert wrap("abc def", 7) == ["abc def"]
    assert wrap("abc def", 6) == ["abc", "def"]


def test_wrap_collapses_whitespace():
    assert wrap("a   b\n\tc", 80) == ["a b c"]


def test_wrap_breaks_long_words():
    assert wrap("abcdefghij", 4) == ["abcd", "efgh", "ij"]


def test_wrap_keeps_long_words_when_asked():
    assert wrap("hi abcdefghij yo", 4, break_long_words=False) == ["hi", "abcdefghij", "yo"]


def test_wrap_long_word_after_text():
    assert wrap("ab abcdefgh", 4) == ["ab", "abcd", "efgh"]


def test_wrap_empty():
    assert wrap("", 10) == []
    assert wrap("   ", 10) == []


def test_wrap_bad_width():
    with pytest.raises(ValueError):
        wrap("x", 0)


def test_fill():
    assert fill("aa bb cc", 5) == "aa bb\ncc"


def test_justify_pads_to_width():
    lines = justify(TEXT, 16)
    assert all(len(line) == 16 for line in lines[:-1])
    assert lines[-1] == "the lazy dog"


def test_justify_extra_spaces_go_left():
    assert justify("a b c dd", 6) == ["a  b c", "dd"]


def test_justify_single_word_line_unpadded():
    assert justify("abcdef gh", 6) == ["abcdef", "gh"]


def test_shorten_fits():
    assert shorten("Hello  world!", 12) == "Hello world!"


def test_shorten_cuts_at_word():
    assert shorten("Hello world, how are you", 16) == "Hello world, ..."
    assert shorten("Hello world, how are you", 15) == "Hello ..."


def test_shorten_result_within_width():
    for width in range(3, 30):
        assert len(shorten(TEXT, width)) <= width


def test_shorten_only_placeholder():
    assert shorten("Supercalifragilistic", 5) == "..."


def test_shorten_placeholder_too_long():
    with pytest.raises(ValueError):
        shorten("some text here", 2)


def test_indent_skips_blank_lines():
    assert indent("a\n\nb\n", "> ") == "> a\n\n> b\n"


def test_indent_all_lines():
    assert indent("a\n\n", "# ", skip_blank=False) == "# a\n# \n"


def test_dedent_common_margin():
    assert dedent("    a\n      b\n    c\n") == "a\n  b\nc\n"


def test_dedent_ignores_blank_lines():
    assert dedent("  a\n\n  b\n") == "a\n\nb\n"


def test_dedent_no_margin():
    assert dedent("a\n  b\n") == "a\n  b\n"


def test_center_odd_leftover_goes_right():
    assert center("ab", 5) == " ab  "
    assert center("ab", 6, "*") == "**ab**"


def test_center_too_long_unchanged():
    assert center("abcdef", 3) == "abcdef"
