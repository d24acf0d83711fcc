"""Wrapping, filling, justifying and shortening plain text."""

from __future__ import annotations

__all__ = ["wrap", "fill", "justify", "shorten", "indent", "dedent", "center"]


def _words(text):
    return text.split()


def wrap(text, width=70, break_long_words=True):
    """Split ``text`` into lines of at most ``width`` characters.

    Whitespace runs collapse to one space. Words longer than ``width`` are split
    across lines when ``break_long_words`` is true, and put alone on a line otherwise.
    """
    if width < 1:
        raise ValueError(f"width must be at least 1, got {width}")
    lines = []
    current = ""
    for word in _words(text):
        while break_long_words and len(word) > width:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:width])
            word = word[width:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current = current + " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def fill(text, width=70):
    """``wrap`` joined with newlines."""
    return "\n".join(wrap(text, width))


def justify(text, width=70):
    """Wrap and pad every line but the last to exactly ``width`` with extra spaces.

    Extra spaces go to the leftmost gaps first. Lines of one word stay unpadded.
    """
    lines = wrap(text, width)
    result = []
    for index, line in enumerate(lines):
        words = line.split(" ")
        if index == len(lines) - 1 or len(words) == 1:
            result.append(line)
            continue
        gaps = len(words) - 1
        spaces = width - sum(len(w) for w in words)
        base, extra = divmod(spaces, gaps)
        parts = []
        for i, word in enumerate(words[:-1]):
            parts.append(word + " " * (base + (1 if i < extra else 0)))
        parts.append(words[-1])
        result.append("".join(parts))
    return result


def shorten(text, width, placeholder="..."):
    """Collapse whitespace and cut at a word boundary so the result fits ``width``.

    When words are dropped, ``placeholder`` follows the kept words after one space.
    """
    collapsed = " ".join(_words(text))
    if len(collapsed) <= width:
        return collapsed
    if len(placeholder) > width:
        raise ValueError("placeholder is longer than width")
    kept = []
    for word in collapsed.split(" "):
        candidate = " ".join(kept + [word]) + " " + placeholder
        if len(candidate) > width:
            break
        kept.append(word)
    if not kept:
        return placeholder
    return " ".join(kept) + " " + placeholder


def indent(text, prefix, skip_blank=True):
    """Add ``prefix`` to the start of each line (blank lines too unless ``skip_blank``)."""
    lines = text.splitlines(keepends=True)
    return "".join(
        line if skip_blank and not line.strip() else prefix + line for line in lines
    )


def dedent(text):
    """Remove the longest common leading whitespace of the non-blank lines."""
    lines = text.splitlines(keepends=True)
    margins = [len(line) - len(line.lstrip(" \t")) for line in lines if line.strip()]
    if not margins:
        return text
    cut = min(margins)
    return "".join(line[cut:] if line.strip() else line.lstrip(" \t") for line in lines)


def center(line, width, fill_char=" "):
    """Center ``line`` in ``width``; an odd leftover space goes to the right."""
    if len(fill_char) != 1:
        raise ValueError("fill_char must be one character")
    if len(line) >= width:
        return line
    total = width - len(line)
    left = total // 2
    return fill_char * left + line + fill_char * (total - left)
