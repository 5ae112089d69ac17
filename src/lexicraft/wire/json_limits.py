"""How deeply a JSON text nests and how long its integers are, read from its bytes.

A check before parsing, not during: Python's ``json`` recurses once per nesting level and
fails with a ``RecursionError`` near 1,000 levels (pydantic's validators recurse too), and it
converts an integer literal with a quadratic algorithm that refuses more than 4,300 digits.
Counting on the bytes costs a few passes of ``re``/``bytes`` methods written in C (and numpy
for the running depth), so a body over a limit is refused before any parser sees it.

The counts are exact for valid JSON: strings are blanked first (brackets and digits inside
them are text). For invalid JSON they describe the text up to where a parser would fail,
so a body that passes here cannot make the parser recurse deeper than the limit.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from lexicraft.errors import JsonLimitExceeded

#: A string, from its quote to its closing quote, or to the end of the text when it is not
#: closed (as a parser reads it: then parsing fails there). Possessive quantifiers and the
#: end-of-text alternative make every attempt succeed at once, so the scan stays linear
#: even on text full of escaped quotes.
_STRING = re.compile(rb'"[^"\\]*+(?:\\(?:.|\Z)[^"\\]*+)*+(?:"|\Z)', re.DOTALL)
#: A string once escapes are gone and only quotes and brackets are left.
_BARE_STRING = re.compile(rb'"[^"]*+(?:"|\Z)')
_KEPT_FOR_DEPTH = b'"[]{}'
_NOT_KEPT_FOR_DEPTH = bytes(byte for byte in range(256) if byte not in _KEPT_FOR_DEPTH)
#: Every digit as ``0``, everything else as a space: a run of digits is a run of zeros.
_DIGITS_AS_ZEROS = bytes(ord("0") if 0x30 <= byte <= 0x39 else ord(" ") for byte in range(256))
#: Each opening bracket one level down (1), each closing one up (0xFF: -1 as an int8).
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
#: Depths are summed this many brackets at a time (8 bytes each while summed).
_CHUNK = 1 << 20

Excess = Literal["depth", "integer"]


@dataclass(frozen=True, slots=True)
class JsonLimits:
    """The most a JSON text may nest (arrays and objects; the outermost is level 1), and the
    most digits an integer literal may have (its sign not counted)."""

    max_depth: int
    max_integer_digits: int

    def excess(self, text: bytes) -> Excess | None:
        """Which limit ``text`` (a JSON body as sent) is over; None when within both."""
        text = _as_utf8(text)
        # Few brackets cannot nest deeply (the usual analyze request has about 50).
        if text.count(b"[") + text.count(b"{") > self.max_depth and _deeper_than(
            text, self.max_depth
        ):
            return "depth"
        # Without a run of more digits than allowed anywhere (strings included), no integer
        # is too long; only with one are strings set apart.
        too_many = b"0" * (self.max_integer_digits + 1)
        if too_many in text.translate(_DIGITS_AS_ZEROS):
            structure = _STRING.sub(b'""', text)
            if _long_integer(self.max_integer_digits).search(structure) is not None:
                return "integer"
        return None


def json_limit_error(
    excess: str, limits: JsonLimits, what: str = "The request body"
) -> JsonLimitExceeded:
    """The 400 for a JSON text over one of ``limits`` (``excess`` says which): a request
    body, or a JSON file sent to an import."""
    if excess == "depth":
        return JsonLimitExceeded(
            f"{what} nests JSON arrays and objects more than {limits.max_depth} "
            "levels deep, the limit (setting LEXICRAFT_MAX_JSON_DEPTH)."
        )
    return JsonLimitExceeded(
        f"{what} has an integer of more than {limits.max_integer_digits} digits, "
        "the limit (setting LEXICRAFT_MAX_JSON_INTEGER_DIGITS)."
    )


def _as_utf8(text: bytes) -> bytes:
    """``text`` in UTF-8, as ``json.loads`` would decode it (it accepts UTF-16 and UTF-32
    too); unchanged when it cannot be decoded (the parser then fails before nesting)."""
    encoding = json.detect_encoding(text)
    if encoding == "utf-8":
        return text
    try:
        return text.decode(encoding).encode("utf-8", "surrogatepass")
    except UnicodeError:
        return b""


def _deeper_than(text: bytes, max_depth: int) -> bool:
    """Whether the arrays and objects of ``text`` nest over ``max_depth`` levels.

    Escaped backslashes and quotes go first (an escaped quote ends no string; removing
    ``\\\\`` pairs from the left reads a run of backslashes as a parser does), then everything
    but quotes and brackets, then the strings: what is left are the brackets that are structure.
    """
    if b"\\" in text:
        text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = _BARE_STRING.sub(b"", text.translate(None, _NOT_KEPT_FOR_DEPTH))
    if len(brackets) <= max_depth:
        return False
    steps = np.frombuffer(brackets.translate(_STEPS), dtype=np.int8)
    level = 0
    for start in range(0, len(steps), _CHUNK):
        levels = np.cumsum(steps[start : start + _CHUNK], dtype=np.int64) + level
        if int(levels.max()) > max_depth:
            return True
        level = int(levels[-1])
    return False


@lru_cache(maxsize=8)
def _long_integer(max_digits: int) -> re.Pattern[bytes]:
    """An integer literal of more than ``max_digits`` digits, in JSON with strings blanked.

    Not a fraction or an exponent (preceded by ``.``, ``e``, ``+`` or ``-`` after an ``e``),
    and not the integer part of a number with a fraction or an exponent: ``json`` reads those
    as floats, whose conversion has no digit limit.
    """
    return re.compile(rb"(?<![\w.+\-])-?[0-9]{%d,}+(?![.eE])" % (max_digits + 1))
