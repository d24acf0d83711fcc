"""Text wrapping and line diffs."""

from textkit.diff import apply_opcodes, lcs_table, opcodes, similarity, unified_diff
from textkit.wrap import center, dedent, fill, indent, justify, shorten, wrap

__all__ = [
    "apply_opcodes",
    "center",
    "dedent",
    "fill",
    "indent",
    "justify",
    "lcs_table",
    "opcodes",
    "shorten",
    "similarity",
    "unified_diff",
    "wrap",
]
__version__ = "0.2.0"
