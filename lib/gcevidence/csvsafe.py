"""CSV cells that a spreadsheet never evaluates, losslessly reversible for our own reads.

OWASP CSV-injection guidance: a cell beginning with = + - @ TAB or CR is prefixed with a
single quote. A cell that already begins with a quote gets one more, so `unguard` restores
every value exactly.
"""

from __future__ import annotations

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")


def guard(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_TRIGGERS) else text


def unguard(text: str) -> str:
    return text[1:] if text.startswith("'") else text
