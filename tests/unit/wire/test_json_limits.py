"""The JSON limits read from a body's bytes: nesting depth and integer length, exactly as
Python's parser would see them, without parsing (issue 22, finding 4)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from lexicraft.wire.json_limits import JsonLimits

LIMITS = JsonLimits(max_depth=8, max_integer_digits=10)


def nested(depth: int, opener: str = "[", closer: str = "]") -> bytes:
    return (opener * depth + closer * depth).encode()


@pytest.mark.parametrize(
    ("body", "excess"),
    [
        (b"{}", None),
        (b'{"a": [1, 2, {"b": null}]}', None),
        (nested(8), None),  # exactly the limit: the outermost array is level 1
        (nested(9), "depth"),
        (b'{"a":' * 8 + b"1" + b"}" * 8, None),
        (b'{"a":' * 9 + b"1" + b"}" * 9, "depth"),
        (b'{"a": ' + nested(7) + b"}", None),
        (b'{"a": ' + nested(8) + b"}", "depth"),
        (b"[" * 100_000, "depth"),  # a parser would die of recursion on it
        # Brackets in strings are text, escaped quotes end no string, escaped backslashes do.
        (b'{"a": "' + b"[" * 50 + b'"}', None),
        (b'{"a": "\\"' + b"[" * 50 + b'"}', None),
        (b'{"a": "\\\\\\"' + b"[" * 50 + b'"}', None),
        (b'{"a": "\\\\", "b": ' + nested(9) + b"}", "depth"),
        # An unterminated string swallows the rest, as a parser reads it (which then fails).
        (b'{"a": "' + b"[" * 50, None),
        # Integers: digits counted without the sign; floats are not integers.
        (b"[" + b"9" * 10 + b"]", None),
        (b"[" + b"9" * 11 + b"]", "integer"),
        (b"[-" + b"9" * 11 + b"]", "integer"),
        (b'{"n": ' + b"1" * 5_000 + b"}", "integer"),  # over Python's 4,300 digits
        (b"[" + b"9" * 50 + b".5]", None),
        (b"[" + b"9" * 50 + b"e3]", None),
        (b"[1." + b"9" * 50 + b"]", None),
        (b"[1e" + b"9" * 50 + b"]", None),
        (b"[1E-" + b"9" * 50 + b"]", None),
        (b'["' + b"9" * 50 + b'"]', None),
        # json.loads reads UTF-16 and UTF-32 too: so does the check.
        (("[" * 9 + "]" * 9).encode("utf-16"), "depth"),
        (('["' + "\u20ac[" * 20 + '"]').encode("utf-32"), None),
    ],
)
def test_excess(body: bytes, excess: str | None) -> None:
    assert LIMITS.excess(body) == excess


def test_depth_wins_over_an_integer() -> None:
    assert LIMITS.excess(b"[" * 9 + b"1" * 20 + b"]" * 9) == "depth"


def test_escaped_quotes_cost_linear_time() -> None:
    """A text of escaped quotes after an unclosed string must not make the scan quadratic
    (a naive string pattern retried at each quote would take hours on this)."""
    body = b'["' + b'\\"' * 1_000_000 + b"[" * 20
    assert LIMITS.excess(body) is None


def depth_of(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    return 0


def longest_integer(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return len(str(abs(value)))
    if isinstance(value, list):
        return max(map(longest_integer, value), default=0)
    if isinstance(value, dict):
        return max(map(longest_integer, value.values()), default=0)
    return 0


#: Strings full of what the scan must not mistake for structure.
TRICKY = st.text(alphabet=st.sampled_from('[]{}"\\/0123456789.eE-+ aé€\U0001f600\n'))
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**15), max_value=10**15)
    | st.integers(min_value=10**9, max_value=10**11 - 1)  # 10 or 11 digits: at the limit
    | st.floats(allow_nan=False, allow_infinity=False)
    | TRICKY
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TRICKY, children, max_size=3),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(
    value=VALUES,
    wrappers=st.lists(st.sampled_from(["list", "object"]), max_size=12),
    ensure_ascii=st.booleans(),
    indent=st.sampled_from([None, 1]),
)
def test_the_scan_agrees_with_the_parsed_value(
    value: Any, wrappers: list[str], ensure_ascii: bool, indent: int | None
) -> None:
    for wrapper in wrappers:  # around the limit's depth often
        value = [value] if wrapper == "list" else {"[{": value}
    body = json.dumps(value, ensure_ascii=ensure_ascii, indent=indent).encode("utf-8")
    if depth_of(value) > LIMITS.max_depth:
        expected = "depth"
    elif longest_integer(value) > LIMITS.max_integer_digits:
        expected = "integer"
    else:
        expected = None
    event(f"excess: {expected}")
    assert LIMITS.excess(body) == expected
