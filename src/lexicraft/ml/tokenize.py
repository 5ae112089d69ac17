"""Split text into code-point token spans without assuming that words are separated by spaces.

Rules, applied left to right at each position (whitespace is skipped, never a token):

1. A *word*: letters and digits, each followed by any combining marks (so ``e`` + U+0301 stays
   one token), joined by single inner apostrophes (``don't``; U+2019 too). ZWNJ / ZWJ inside a
   word are kept because Persian and Indic scripts use them between letters.
2. A *per-character script* letter — Han ideographs, Hiragana, Katakana, Hangul, and the Southeast
   Asian scripts written without spaces (Thai, Lao, Khmer, Myanmar) — is a token on its own,
   together with its grapheme cluster (combining marks, voicing marks). We do not segment words
   in these scripts: that needs a dictionary, and one token per character guarantees that any
   entity boundary an annotator draws falls on a token boundary, which is what BIO tagging needs.
3. Anything else that is not whitespace — punctuation, symbols, and each emoji including ZWJ
   sequences, flags and skin-tone modifiers — is one token per extended grapheme cluster
   (``regex``'s ``\\X``).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import regex

from lexicraft.ml.base import Span

#: A token as a half-open ``(start, end)`` range of code points.
Token = tuple[int, int]

_PER_CHARACTER_SCRIPTS = (
    r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
)
_WORD_CHARACTER = rf"(?:[[\p{{L}}\p{{N}}]--[{_PER_CHARACTER_SCRIPTS}]][\p{{M}}\u200c\u200d]*)"
_TOKEN_PATTERN = regex.compile(
    rf"""
    {_WORD_CHARACTER}+(?:['\u2019]{_WORD_CHARACTER}+)*   # a word, maybe with inner apostrophes
    | (?=[{_PER_CHARACTER_SCRIPTS}])\X            # one CJK / kana / hangul / Thai … character
    | (?!\s)\X                                    # any other visible grapheme cluster
    """,
    regex.VERSION1 | regex.VERBOSE,
)


_WHITESPACE = regex.compile(r"\s")
_NON_WHITESPACE_RUN = regex.compile(r"\S+")


def tokenize(text: str) -> list[Token]:
    """The ``(start, end)`` code-point spans of the tokens of ``text``, in order."""
    tokens: list[Token] = []
    for match in _TOKEN_PATTERN.finditer(text):
        start, end = match.span()
        if end - start > 1 and _WHITESPACE.search(text, start, end):
            # A grapheme cluster can swallow a space after a "prepend" character (e.g. U+0600
            # ARABIC NUMBER SIGN); tokens must never hold whitespace, so split such a cluster.
            tokens.extend(run.span() for run in _NON_WHITESPACE_RUN.finditer(text, start, end))
        else:
            tokens.append((start, end))
    return tokens


_PER_CHARACTER_START = regex.compile(rf"[{_PER_CHARACTER_SCRIPTS}]")


def is_per_character_script(token: str) -> bool:
    """Whether ``token`` comes from a script that :func:`tokenize` splits into single characters."""
    return _PER_CHARACTER_START.match(token) is not None


def align_spans_to_tokens(tokens: Sequence[Token], spans: Sequence[Span]) -> list[str]:
    """BIO tags (``O``, ``B-<category>``, ``I-<category>``), one per token, for ``spans``.

    A span whose edges fall inside a token tags every token it overlaps, so the span grows to
    token edges. A span that overlaps no token (whitespace only) is dropped. Where two spans
    would claim the same token, the one that starts first (then the longer) wins and the other
    is dropped whole, so the tags always decode back to non-overlapping entities.
    """
    tags = ["O"] * len(tokens)
    ends = [token_end for _, token_end in tokens]
    starts = [token_start for token_start, _ in tokens]
    for span in sorted(spans, key=lambda span: (span.start, -span.end)):
        if span.end <= span.start:
            continue
        first = bisect.bisect_right(ends, span.start)
        last = bisect.bisect_left(starts, span.end)
        indices = range(first, last)
        if not indices or any(tags[index] != "O" for index in indices):
            continue
        tags[first] = f"B-{span.category}"
        for index in indices[1:]:
            tags[index] = f"I-{span.category}"
    return tags
