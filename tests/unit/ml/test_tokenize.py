"""Tokens and BIO alignment over code points."""

from __future__ import annotations

import regex
from hypothesis import given
from hypothesis import strategies as st

from lexicraft.ml.base import Span
from lexicraft.ml.tokenize import align_spans_to_tokens, is_per_character_script, tokenize


def words(text: str) -> list[str]:
    return [text[start:end] for start, end in tokenize(text)]


def test_splits_words_and_punctuation() -> None:
    assert words("Hello, world! It's 3pm.") == ["Hello", ",", "world", "!", "It's", "3pm", "."]


def test_apostrophe_only_joins_inside_a_word() -> None:
    assert words("'quoted' l\u2019homme rock'n'roll") == [
        "'",
        "quoted",
        "'",
        "l\u2019homme",
        "rock'n'roll",
    ]


def test_hyphens_and_dots_are_tokens_of_their_own() -> None:
    assert words("U.S. 1996-08-22") == ["U", ".", "S", ".", "1996", "-", "08", "-", "22"]


def test_german_umlauts_and_eszett_stay_inside_words() -> None:
    assert words("Jürgen Müller aß Größe-Äpfel.") == [
        "Jürgen",
        "Müller",
        "aß",
        "Größe",
        "-",
        "Äpfel",
        ".",
    ]


def test_combining_marks_stay_with_their_base() -> None:
    decomposed = "Mu\u0308ller cafe\u0301 \u0301x"

    assert words(decomposed) == ["Mu\u0308ller", "cafe\u0301", "\u0301", "x"]


def test_each_cjk_character_is_a_token() -> None:
    assert words("张伟在北京工作。") == ["张", "伟", "在", "北", "京", "工", "作", "。"]


def test_latin_inside_cjk_stays_a_word() -> None:
    assert words("我买了iPhone15吗") == ["我", "买", "了", "iPhone15", "吗"]


def test_kana_and_hangul_are_split_per_character_with_their_marks() -> None:
    assert words("か\u3099タワー") == ["か\u3099", "タ", "ワ", "ー"]
    assert words("서울에") == ["서", "울", "에"]


def test_emoji_zwj_sequence_is_one_token() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"

    assert words(f"hi{family}!") == ["hi", family, "!"]


def test_flags_skin_tones_and_keycaps_are_one_token_each() -> None:
    text = "🇩🇪 👍🏽 1️⃣"

    assert words(text) == ["🇩🇪", "👍🏽", "1️⃣"]


def test_whitespace_is_never_a_token() -> None:
    assert tokenize(" \t\n\u00a0\u3000") == []
    assert tokenize("") == []


def test_prepend_character_does_not_swallow_a_space() -> None:
    assert words("\u0600 12") == ["\u0600", "12"]


def test_per_character_script_detection() -> None:
    assert is_per_character_script("北")
    assert is_per_character_script("タ")
    assert not is_per_character_script("Berlin")
    assert not is_per_character_script("!")


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_tokens_cover_exactly_the_non_whitespace(text: str) -> None:
    tokens = tokenize(text)

    covered: set[int] = set()
    previous_end = 0
    for start, end in tokens:
        assert previous_end <= start < end <= len(text)
        assert not regex.search(r"\s", text[start:end])
        covered.update(range(start, end))
        previous_end = end
    assert covered == {index for index, char in enumerate(text) if not regex.match(r"\s", char)}


def test_alignment_tags_begin_and_inside() -> None:
    text = "Angela Merkel visited New York ."
    tokens = tokenize(text)

    tags = align_spans_to_tokens(tokens, [Span(0, 13, "PER"), Span(22, 30, "LOC")])

    assert tags == ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O"]


def test_alignment_grows_a_span_that_ends_inside_a_token() -> None:
    text = "Berliners love Berlin"
    tokens = tokenize(text)

    tags = align_spans_to_tokens(tokens, [Span(0, 6, "LOC"), Span(17, 19, "LOC")])

    assert tags == ["B-LOC", "O", "B-LOC"]


def test_alignment_on_cjk_characters() -> None:
    text = "张伟在北京"

    tags = align_spans_to_tokens(tokenize(text), [Span(0, 2, "PER"), Span(3, 5, "LOC")])

    assert tags == ["B-PER", "I-PER", "O", "B-LOC", "I-LOC"]


def test_alignment_keeps_the_first_of_overlapping_spans() -> None:
    text = "New York City"
    tokens = tokenize(text)

    tags = align_spans_to_tokens(tokens, [Span(4, 13, "ORG"), Span(0, 8, "LOC")])

    assert tags == ["B-LOC", "I-LOC", "O"]


def test_alignment_drops_spans_that_cover_no_token() -> None:
    text = "a   b"

    tags = align_spans_to_tokens(tokenize(text), [Span(1, 4, "X"), Span(2, 2, "Y")])

    assert tags == ["O", "O"]
