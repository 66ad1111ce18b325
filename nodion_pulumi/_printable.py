"""Text from Nodion made safe to print on a terminal.

Registry names, hostnames and Nodion's messages come from the API, and whoever controls
them controls what our messages contain. Printed raw, an ESC byte can recolour or clear a
terminal, a newline can forge a line of Pulumi's output, and a bidi override (U+202E) or a
zero-width character can make text read differently from what it is. :func:`printable`
shows every such character as a visible escape instead, so a message reads as what it
holds, wherever it ends up (a terminal, a CI log, a bug report).
"""

from __future__ import annotations

import unicodedata

__all__ = ["printable"]

# Besides the control characters (C0, DEL, C1), the categories that change how the text
# around them is shown: format characters (Cf: bidi controls, zero-width characters, tag
# characters), the Unicode line and paragraph separators (Zl, Zp: line breaks to a
# terminal), and lone surrogates (Cs), which cannot be encoded and would make printing fail.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# The escapes everyone reads at a glance.
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """``text`` with control and format characters shown as escapes: ``\\n``, ``\\x1b``,
    ``\\u202e``.

    Everything else, including letters of any script and ordinary spaces, is kept.
    """
    if text.isascii() and text.isprintable():
        return text  # the common case, checked at C speed
    return "".join(_escape(char) for char in text)


def _escape(char: str) -> str:
    if unicodedata.category(char) not in _HIDDEN_CATEGORIES:
        return char
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
