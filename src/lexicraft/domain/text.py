"""Rules of the API's text, independent of any model: which strings can be stored, and how
offsets are counted on the wire."""

from __future__ import annotations

import re
from enum import StrEnum

from lexicraft.errors import InvalidParameterValue


class StringIndexType(StrEnum):
    """How ``offset``/``length`` are counted on the wire (spec §3)."""

    TEXT_ELEMENTS = "TextElements_v8"
    CODE_POINT = "UnicodeCodePoint"
    UTF16 = "Utf16CodeUnit"

    @classmethod
    def parse(cls, value: object, default: StringIndexType) -> StringIndexType:
        """The type named by ``value`` (case-insensitive; v3.x's ``TextElement_v8`` too)."""
        if value is None:
            return default
        if isinstance(value, str):
            folded = value.lower()
            if folded in ("textelements_v8", "textelement_v8"):
                return cls.TEXT_ELEMENTS
            for member in cls:
                if member.value.lower() == folded:
                    return member
        raise InvalidParameterValue(
            f"stringIndexType {value!r} is not valid; use one of {[m.value for m in cls]}",
            target="stringIndexType",
        )


#: What no stored string may hold. NUL: PostgreSQL's ``text`` refuses it. UTF-16 surrogates
#: (U+D800-U+DFFF): JSON's ``"\ud800"`` escape decodes to a lone one, which UTF-8 cannot
#: encode, so neither a database nor a JSON response could carry the string.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def string_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored or sent back; None when it can.

    The one rule for every string a client sends: request bodies (every field, at any depth),
    path and query parameters, document texts (imported files, the Studio, file formats).
    """
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    character = found.group()
    what = "a NUL character" if character == "\x00" else "a lone surrogate"
    return (
        f"contains {what} (U+{ord(character):04X}) at character {found.start()}; "
        "send valid Unicode text without NUL characters"
    )
