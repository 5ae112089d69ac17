"""Offsets are sacred: property tests of every ``stringIndexType`` conversion (spec §3)."""

from __future__ import annotations

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from lexicraft.domain.text import StringIndexType
from lexicraft.errors import InvalidParameterValue
from lexicraft.ml.offsets import OffsetMap

# Pieces that stress each unit: astral code points (two UTF-16 units), clusters of several
# code points (text elements), and scripts where a naive count or a slice goes wrong.
ATOMS = [
    "a", "Z", " ", ".", "7", "\n", "\r\n", "\t",
    "e\u0301", "o\u0308\u0323", "\u0915\u094d\u0937",  # combining marks, Devanagari conjunct
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",  # family: ZWJ sequence
    "\U0001f469\U0001f3fd\u200d\U0001f4bb",  # woman technologist, medium skin tone
    "\U0001f44d\U0001f3ff", "\U0001f44b",  # skin tone modifier, plain emoji
    "\u2764\ufe0f", "\u263a",  # variation selector, BMP symbol
    "\U0001f1eb\U0001f1f7", "\U0001f1ef\U0001f1f5", "\U0001f1fa",  # flags, lone indicator
    "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # tag flag
    "\u6f22\u5b57", "\u65e5\u672c\u8a9e", "\U00020b9f", "\u3002",  # CJK, astral CJK
    "\u05e9\u05dc\u05d5\u05dd", "\u05e9\u05b8\u05c1",  # Hebrew, with points
    "\u0645\u0631\u062d\u0628\u0627", "\u0628\u0650", "\u200f", "\u202b",  # Arabic, RTL marks
    "\u1100\u1161\u11a8", "\ud55c",  # Hangul jamo sequence, syllable
]  # fmt: skip

texts = st.lists(st.one_of(st.sampled_from(ATOMS), st.text(max_size=3)), max_size=25).map("".join)

UNITS = list(StringIndexType)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def cluster_starts(text: str) -> list[int]:
    """Code-point starts of each extended grapheme cluster, plus the end (independent count)."""
    return [match.start() for match in regex.finditer(r"\X", text)] + [len(text)]


@st.composite
def text_and_span(draw: st.DrawFn) -> tuple[str, int, int]:
    text = draw(texts)
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, len(text)))
    return text, start, end


@given(texts)
def test_lengths_in_every_unit(text: str) -> None:
    offsets = OffsetMap(text)
    assert offsets.length_in(StringIndexType.CODE_POINT) == len(text)
    assert offsets.length_in(StringIndexType.UTF16) == utf16_length(text)
    assert offsets.length_in(StringIndexType.TEXT_ELEMENTS) == len(cluster_starts(text)) - 1


@given(texts)
def test_every_code_point_index_round_trips_through_utf16(text: str) -> None:
    offsets = OffsetMap(text)
    for index in range(len(text) + 1):
        unit_index = offsets.to_unit(index, StringIndexType.UTF16)
        assert unit_index == utf16_length(text[:index])
        assert offsets.from_unit(unit_index, StringIndexType.UTF16) == index


@given(texts)
def test_every_cluster_boundary_round_trips_through_every_unit(text: str) -> None:
    offsets = OffsetMap(text)
    for element, start in enumerate(cluster_starts(text)):
        assert offsets.to_unit(start, StringIndexType.TEXT_ELEMENTS) == element
        assert offsets.from_unit(element, StringIndexType.TEXT_ELEMENTS) == start
        # code point -> UTF-16 -> code point -> text element and back again
        utf16 = offsets.to_unit(start, StringIndexType.UTF16)
        back = offsets.from_unit(utf16, StringIndexType.UTF16)
        assert offsets.to_unit(back, StringIndexType.TEXT_ELEMENTS) == element
        assert (
            offsets.to_unit(
                offsets.from_unit(element, StringIndexType.TEXT_ELEMENTS), StringIndexType.UTF16
            )
            == utf16
        )


@given(text_and_span())
def test_utf16_span_selects_the_same_substring(case: tuple[str, int, int]) -> None:
    text, start, end = case
    offset, length = OffsetMap(text).span_to_unit(start, end, StringIndexType.UTF16)
    encoded = text.encode("utf-16-le")
    assert encoded[2 * offset : 2 * (offset + length)].decode("utf-16-le") == text[start:end]


@given(text_and_span())
def test_code_point_span_is_the_span(case: tuple[str, int, int]) -> None:
    text, start, end = case
    offsets = OffsetMap(text)
    assert offsets.span_to_unit(start, end, StringIndexType.CODE_POINT) == (start, end - start)
    assert offsets.span_from_unit(start, end - start, StringIndexType.CODE_POINT) == (start, end)


@given(text_and_span(), st.sampled_from(UNITS))
def test_span_round_trip_covers_the_span_with_whole_units(
    case: tuple[str, int, int], unit: StringIndexType
) -> None:
    text, start, end = case
    offsets = OffsetMap(text)
    offset, length = offsets.span_to_unit(start, end, unit)
    assert offset >= 0
    assert offset + length <= offsets.length_in(unit)
    back_start, back_end = offsets.span_from_unit(offset, length, unit)
    assert (back_start <= start and end <= back_end) or start == end
    if unit is StringIndexType.TEXT_ELEMENTS:
        boundaries = set(cluster_starts(text))
        assert back_start in boundaries and back_end in boundaries
        if start in boundaries and end in boundaries:
            assert (back_start, back_end) == (start, end)
    elif start != end:
        assert (back_start, back_end) == (start, end)


@given(texts)
def test_utf16_offsets_inside_a_surrogate_pair_are_refused(text: str) -> None:
    offsets = OffsetMap(text)
    position = 0
    for char in text:
        if ord(char) > 0xFFFF:
            with pytest.raises(ValueError, match="surrogate"):
                offsets.from_unit(position + 1, StringIndexType.UTF16)
        position += 2 if ord(char) > 0xFFFF else 1


def test_known_lengths() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    text = f"Hi {family} \U0001f1eb\U0001f1f7 e\u0301!"
    offsets = OffsetMap(text)
    assert offsets.length_in(StringIndexType.CODE_POINT) == 15
    assert offsets.length_in(StringIndexType.UTF16) == 20
    assert offsets.length_in(StringIndexType.TEXT_ELEMENTS) == 9
    start = text.index("e\u0301")
    # the entity "e" without its accent still covers the whole cluster in text elements
    assert offsets.span_to_unit(start, start + 1, StringIndexType.TEXT_ELEMENTS) == (7, 1)
    assert offsets.span_to_unit(start, start + 2, StringIndexType.UTF16) == (17, 2)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, StringIndexType.TEXT_ELEMENTS),
        ("TextElements_v8", StringIndexType.TEXT_ELEMENTS),
        ("TextElement_v8", StringIndexType.TEXT_ELEMENTS),
        ("unicodecodepoint", StringIndexType.CODE_POINT),
        ("Utf16CodeUnit", StringIndexType.UTF16),
    ],
)
def test_parse_accepts_every_spelling(value: str | None, expected: StringIndexType) -> None:
    assert StringIndexType.parse(value, StringIndexType.TEXT_ELEMENTS) is expected


def test_parse_refuses_unknown_values() -> None:
    with pytest.raises(InvalidParameterValue, match="stringIndexType"):
        StringIndexType.parse("Bytes", StringIndexType.TEXT_ELEMENTS)
