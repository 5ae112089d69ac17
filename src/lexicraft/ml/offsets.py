"""The one place that converts offsets between code points, UTF-16 code units and text elements.

Lexicraft stores every span as a half-open ``[start, end)`` range of code points into the
original text. Wire formats count differently (spec §3): the authoring project file in UTF-16
code units, runtime results in whatever ``stringIndexType`` the caller asked for.
"""

from __future__ import annotations

import bisect
from functools import cached_property

import regex

from lexicraft.domain.text import StringIndexType

_GRAPHEME = regex.compile(r"\X")


class OffsetMap:
    """Converts indexes into one text between code points and another unit.

    Built once per text; each conversion is a lookup or a binary search, so converting every
    entity of a long document stays cheap.
    """

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def _utf16_starts(self) -> list[int]:
        """UTF-16 index of every code point, plus the total length at the end."""
        starts = [0] * (len(self.text) + 1)
        position = 0
        for index, char in enumerate(self.text):
            starts[index] = position
            position += 2 if ord(char) > 0xFFFF else 1
        starts[len(self.text)] = position
        return starts

    @cached_property
    def _grapheme_starts(self) -> list[int]:
        """Code-point index where each grapheme cluster starts, plus the text length."""
        starts = [match.start() for match in _GRAPHEME.finditer(self.text)]
        starts.append(len(self.text))
        return starts

    def length_in(self, unit: StringIndexType) -> int:
        """The text's length counted in ``unit``."""
        return self.to_unit(len(self.text), unit)

    def to_unit(self, index: int, unit: StringIndexType) -> int:
        """Code-point ``index`` counted in ``unit``.

        For text elements an index inside a cluster maps to the cluster that contains it.
        """
        if not 0 <= index <= len(self.text):
            raise ValueError(f"index {index} is outside the text (0…{len(self.text)})")
        if unit is StringIndexType.CODE_POINT:
            return index
        if unit is StringIndexType.UTF16:
            return self._utf16_starts[index]
        return bisect.bisect_right(self._grapheme_starts, index) - 1

    def from_unit(self, index: int, unit: StringIndexType) -> int:
        """The code-point index of ``index`` counted in ``unit``.

        Raises ValueError when ``index`` is out of range or falls inside a surrogate pair.
        """
        if unit is StringIndexType.CODE_POINT:
            if not 0 <= index <= len(self.text):
                raise ValueError(f"offset {index} is outside the text (0…{len(self.text)})")
            return index
        starts = self._utf16_starts if unit is StringIndexType.UTF16 else self._grapheme_starts
        if unit is StringIndexType.TEXT_ELEMENTS:
            if not 0 <= index < len(starts):
                raise ValueError(f"offset {index} is outside the text (0…{len(starts) - 1})")
            return starts[index]
        position = bisect.bisect_left(starts, index)
        if position >= len(starts) or starts[position] != index:
            raise ValueError(
                f"UTF-16 offset {index} is outside the text (0…{starts[-1]}) "
                "or splits a surrogate pair"
            )
        return position

    def span_to_unit(self, start: int, end: int, unit: StringIndexType) -> tuple[int, int]:
        """Code-point span ``[start, end)`` as ``(offset, length)`` in ``unit``.

        Text elements: the span widens to whole clusters, so an entity that ends inside a
        cluster (a base letter before its combining mark) still covers that cluster.
        """
        offset = self.to_unit(start, unit)
        if unit is StringIndexType.TEXT_ELEMENTS and end > start:
            last = self.to_unit(end - 1, unit)
            return offset, last + 1 - offset
        return offset, self.to_unit(end, unit) - offset

    def span_from_unit(self, offset: int, length: int, unit: StringIndexType) -> tuple[int, int]:
        """``(offset, length)`` in ``unit`` as a code-point span ``[start, end)``."""
        if length < 0:
            raise ValueError(f"length {length} is negative")
        return self.from_unit(offset, unit), self.from_unit(offset + length, unit)
