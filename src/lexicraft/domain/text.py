"""How offsets are counted on the wire: a rule of the API, independent of any model."""

from __future__ import annotations

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
