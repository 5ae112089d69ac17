"""spaCy DocBin (.spacy): spaCy's hashes and symbols, a file made by real spaCy, exact round
trips of any text and spans, and bad files named by document and field.

The tests do not need spaCy: the reference file and the expected values were made with spaCy
3.8.18 (fixtures/make_docbin_reference.py) and are checked in.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lexicraft.domain.projects import Dataset, Document, ProjectKind
from lexicraft.domain.spans import Span
from lexicraft.errors import InvalidFileRecord, InvalidParameterValue, UnrepresentableDocument
from lexicraft.formats import docbin
from lexicraft.formats.base import LabeledData
from lexicraft.formats.registry import FORMATS, detect_format

REFERENCE = Path(__file__).parent / "fixtures" / "spacy-reference.spacy"
NER = ProjectKind.ENTITY_RECOGNITION
MULTI = ProjectKind.MULTI_LABEL_CLASSIFICATION


def ner(*documents: Document) -> LabeledData:
    labels = dict.fromkeys(span.category for d in documents for span in d.spans)
    return LabeledData(NER, tuple(labels), documents)


def spans_of(document: Document) -> list[tuple[str, str]]:
    return [(document.text[s.start : s.end], s.category) for s in document.spans]


def unpack(content: bytes) -> dict[str, Any]:
    message: dict[str, Any] = msgpack.unpackb(zlib.decompress(content), raw=False)
    return message


def pack(message: object) -> bytes:
    return zlib.compress(msgpack.packb(message, use_bin_type=True))


def token_rows(message: dict[str, Any]) -> np.ndarray[Any, np.dtype[np.uint64]]:
    flat = np.frombuffer(message["tokens"], dtype="<u8")
    return flat.reshape(-1, len(message["attrs"])).copy()


# --- spaCy's ids ---------------------------------------------------------------------------


# Values printed by spaCy 3.8.18: spacy.strings.hash_string(text).
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 14313749767032693980),
        ("a", 11901859001352538922),
        ("PER", 4317129024397789502),
        ("Zoë", 16948573035762911534),
        ("Köln", 17690917044763056997),
        ("🎉", 2495747590276730877),
        ("東京", 9360021637096476946),
        ("北京大学", 5412589383033356045),
        ("abcdefgh", 17751780907874141760),  # exactly one 8-byte block
        ("abcdefghi", 13885881106499164936),  # a block and a 1-byte tail
        ("Ada Lovelace", 12872694605482507627),
        (" ", 8532415787641010193),
        ("\n\n", 908432558851201422),
    ],
)
def test_hash_string_matches_spacy(text: str, expected: int) -> None:
    assert docbin.hash_string(text) == expected


# Values printed by spaCy 3.8.18: nlp.vocab.strings[text], and the spacy.attrs ids.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("PERSON", 380),
        ("ORG", 383),
        ("LOC", 385),
        ("number", 432),
        ("root", 449),
        ("PER", 4317129024397789502),
        ("Zoë", 16948573035762911534),
    ],
)
def test_string_ids_use_spacy_symbols_before_hashes(text: str, expected: int) -> None:
    assert docbin.string_id(text) == expected


def test_symbol_table_and_attribute_ids_match_spacy() -> None:
    assert len(docbin.SYMBOLS) == 457
    assert docbin.SYMBOLS[:3] == ("", "IS_ALPHA", "IS_ASCII")
    assert docbin.SYMBOLS[-3:] == ("ENT_ID", "IDX", "_")
    assert (docbin.ORTH, docbin.ENT_IOB, docbin.ENT_TYPE) == (65, 77, 78)
    assert [docbin.SYMBOLS[i] for i in (65, 77, 78)] == ["ORTH", "ENT_IOB", "ENT_TYPE"]


# --- the file made by spaCy ----------------------------------------------------------------

# What spaCy 3.8.18 itself reads from the reference file (doc.text, doc.ents, doc.cats), as
# printed by make_docbin_reference.py. Document 4's spaces are unknown (spaCy: a space after
# every token, "EU rejects German call "); Lexicraft joins such tokens with single spaces.
REFERENCE_TEXTS = [
    "Zoë in Köln 🎉",
    "Ada Lovelace visited 東京 and 北京大学\n\nwith  two spaces, 안녕하세요!",
    "I love 🍣 and ラーメン , truly",
    "EU rejects German call",
    "nothing to see here ✨",
]
REFERENCE_ENTITIES = [
    [(0, 3, "PER"), (7, 11, "LOC")],
    [(0, 12, "PERSON"), (21, 23, "GPE"), (28, 32, "ORG_NAME")],
    [],
    [(0, 2, "ORG"), (11, 17, "MISC")],
    [],
]


def test_reference_file_made_by_spacy_reads_its_entities() -> None:
    data = FORMATS["spacy"].read(REFERENCE, kind=NER)
    assert data.kind is NER
    assert data.skipped == ()
    assert [d.text for d in data.documents] == REFERENCE_TEXTS
    assert [[(s.start, s.end, s.category) for s in d.spans] for d in data.documents] == (
        REFERENCE_ENTITIES
    )
    assert spans_of(data.documents[1]) == [
        ("Ada Lovelace", "PERSON"),
        ("東京", "GPE"),
        ("北京大学", "ORG_NAME"),
    ]
    assert [d.location for d in data.documents] == [f"doc-{n:06d}" for n in range(1, 6)]
    assert set(data.labels) == {"PER", "LOC", "PERSON", "GPE", "ORG_NAME", "ORG", "MISC"}


def test_reference_file_made_by_spacy_reads_its_cats() -> None:
    data = FORMATS["spacy"].read(REFERENCE, kind=MULTI)
    assert [d.text for d in data.documents] == REFERENCE_TEXTS
    assert [d.classes for d in data.documents] == [(), (), ("joy", "surprise"), (), ()]
    # spaCy lists every label in each doc's cats; 0.0 ones are labels too.
    assert data.labels == ("joy", "anger", "surprise")
    with pytest.raises(InvalidFileRecord) as caught:
        FORMATS["spacy"].read(REFERENCE, kind=ProjectKind.SINGLE_LABEL_CLASSIFICATION)
    assert caught.value.field == "docs[2].cats"
    assert "single-label" in caught.value.message


def test_a_file_with_entities_and_cats_needs_a_kind() -> None:
    with pytest.raises(InvalidFileRecord) as caught:
        FORMATS["spacy"].read(REFERENCE)
    assert (caught.value.line, caught.value.field) == (None, "docs[2].cats")
    assert "docs[0] has entity tags" in caught.value.message
    assert "--kind" in caught.value.message
    data = FORMATS["spacy"].read(REFERENCE, skip_invalid=True)
    assert data.kind is NER
    assert len(data.documents) == 4
    assert [(s.line, s.field) for s in data.skipped] == [(None, "docs[2].cats")]


# --- writing and round trips ---------------------------------------------------------------


def test_whitespace_becomes_spaces_flags_or_whitespace_tokens() -> None:
    text = "Ada  met\nBob in LOC"
    document = Document(
        "d", text, spans=(Span(0, 3, "PER"), Span(9, 12, "PER"), Span(16, 19, "LOC"))
    )
    message = unpack(docbin.encode(ner(document)))
    assert message["attrs"] == [docbin.ORTH, docbin.ENT_IOB, docbin.ENT_TYPE]
    assert message["version"] == "0.1"
    rows = token_rows(message)
    by_id = {docbin.string_id(s): s for s in message["strings"]}
    assert [by_id[int(orth)] for orth in rows[:, 0]] == [
        "Ada",
        " ",
        "met",
        "\n",
        "Bob",
        "in",
        "LOC",
    ]
    assert np.frombuffer(message["spaces"], dtype=np.uint8).tolist() == [1, 0, 0, 0, 1, 1, 0]
    assert rows[:, 1].tolist() == [3, 2, 2, 2, 3, 2, 3]  # B O O O B O B
    # LOC is a spaCy symbol (its index); PER is hashed; the word "LOC" is a symbol too.
    person = docbin.hash_string("PER")
    assert rows[:, 2].tolist() == [person, 0, 0, 0, person, 0, 385]
    assert np.frombuffer(message["lengths"], dtype="<i4").tolist() == [7]
    assert message["flags"] == [{"has_unknown_spaces": False}]
    assert message["span_groups"] == [b"\x90"]


def test_entities_inside_words_and_on_whitespace_are_kept_exactly(tmp_path: Path) -> None:
    texts_and_entities = [
        # Edges inside tokenizer tokens: the token is split (CoNLL must refuse these).
        ("U.S.-based firm", [(0, 4, "LOC")]),
        ("Zoë's café", [(0, 3, "PER"), (6, 9, "ORG")]),
        ("東京大学で", [(0, 2, "LOC")]),
        # An entity ending after a space, one starting on a space, a space-only entity.
        ("Ada met Bob", [(0, 4, "PER"), (7, 11, "PER")]),
        ("a   b", [(2, 3, "X")]),
        # Leading / trailing / mixed whitespace and CRLF.
        ("  \tZoë in Köln 🎉\r\n\r\n  ", [(3, 6, "PER"), (10, 14, "LOC"), (15, 16, "MISC")]),
        ("\u00a0non\u2009breaking\u3000spaces ", [(1, 14, "MISC")]),
        ("Zoe\u0308\u200dx 👩\u200d👩\u200d👧", [(0, 3, "PER"), (8, 9, "MISC")]),
    ]
    documents = tuple(
        Document(f"t-{n}", text, spans=tuple(Span(s, e, c) for s, e, c in entities))
        for n, (text, entities) in enumerate(texts_and_entities)
    )
    data = ner(*documents)
    written = FORMATS["spacy"].write(data, tmp_path / "sub" / "out.spacy")
    assert written == [tmp_path / "sub" / "out.spacy"]
    back = FORMATS["spacy"].read(written[0])
    assert back.kind is NER
    assert [(d.location, d.text, d.spans) for d in back.documents] == [
        (d.location, d.text, d.spans) for d in documents
    ]


def test_classes_keep_their_order_and_every_label() -> None:
    documents = (
        Document("a", "first 🍣", classes=("surprise", "joy"), dataset=Dataset.TRAIN),
        Document("b", "second\n", classes=(), language="de"),
    )
    data = LabeledData(MULTI, ("joy", "anger", "surprise"), documents)
    message = unpack(docbin.encode(data))
    assert message["cats"] == [
        {"surprise": 1.0, "joy": 1.0, "anger": 0.0},
        {"joy": 0.0, "anger": 0.0, "surprise": 0.0},
    ]
    assert set(token_rows(message)[:, 1].tolist()) == {0}  # no entity annotation
    back = docbin.read(docbin.encode(data))
    assert back.kind is MULTI
    assert back.documents == documents
    assert set(back.labels) == {"joy", "anger", "surprise"}


def test_single_label_kind_is_inferred_from_cats() -> None:
    documents = (Document("a", "x", classes=("A",)), Document("b", "y", classes=("B",)))
    data = LabeledData(ProjectKind.SINGLE_LABEL_CLASSIFICATION, ("A", "B"), documents)
    assert docbin.read(docbin.encode(data)).kind is ProjectKind.SINGLE_LABEL_CLASSIFICATION


def test_a_file_without_annotations_needs_a_kind() -> None:
    content = docbin.encode(LabeledData(MULTI, (), (Document("a", "no labels"),)))
    with pytest.raises(InvalidParameterValue, match="pass --kind"):
        docbin.read(content)
    assert docbin.read(content, kind=NER).documents == (Document("a", "no labels"),)


def test_a_ner_file_without_entities_is_still_ner() -> None:
    content = docbin.encode(ner(Document("a", "nothing here")))
    assert docbin.read(content).kind is NER


def test_overlapping_entities_cannot_be_written() -> None:
    document = Document("a", "New York City", spans=(Span(0, 8, "LOC"), Span(4, 13, "LOC")))
    with pytest.raises(UnrepresentableDocument, match="overlaps"):
        docbin.encode(ner(document))


def test_detect_format_by_suffix() -> None:
    assert detect_format(Path("train.spacy"), "\ufffd\ufffd").name == "spacy"


LABELS = st.sampled_from(["PER", "LOC", "ORG", "Misc-1", "東京", "root"])
TEXT = st.lists(
    # Control characters, but not NUL: no text holding one can be stored (domain.text).
    st.characters(categories=("L", "M", "N", "P", "S", "Z", "Cc"), exclude_characters="\x00")
    | st.sampled_from([" ", "  ", "\n", "\r\n", "\t", "😀", "👩\u200d💻", "🇩🇪", "東", "\u0301"]),
    min_size=1,
    max_size=30,
).map("".join)


@st.composite
def documents(draw: st.DrawFn) -> Document:
    text = draw(TEXT)
    edges = sorted(draw(st.sets(st.integers(0, len(text)), max_size=8)))
    spans = tuple(
        Span(start, end, draw(LABELS))
        for start, end in zip(edges[::2], edges[1::2], strict=False)
        if start < end
    )
    return Document("d", text, spans=spans)


@settings(max_examples=200, deadline=None)
@given(st.lists(documents(), min_size=1, max_size=4))
def test_any_text_and_spans_survive_a_round_trip(drawn: list[Document]) -> None:
    data = ner(*(Document(f"d-{n}", d.text, spans=d.spans) for n, d in enumerate(drawn)))
    back = docbin.read(docbin.encode(data), kind=NER)
    assert [(d.text, d.spans) for d in back.documents] == [
        (d.text, d.spans) for d in data.documents
    ]


# --- bad files -----------------------------------------------------------------------------


def good_message() -> dict[str, Any]:
    documents = (
        Document("a", "Ada met Bob", spans=(Span(0, 3, "PER"),)),
        Document("b", "Cy 😀 Dee", spans=(Span(5, 8, "PER"),)),
        Document("c", "Eve", spans=()),
    )
    return unpack(docbin.encode(ner(*documents)))


def good_classes_message() -> dict[str, Any]:
    documents = tuple(Document(name, "text", classes=("A",)) for name in "abc")
    return unpack(docbin.encode(LabeledData(MULTI, ("A", "B"), documents)))


def with_tokens(
    row: int, column: int, value: int, message: dict[str, Any] | None = None
) -> dict[str, Any]:
    message = message or good_message()
    rows = token_rows(message)
    rows[row, column] = value
    return {**message, "tokens": rows.tobytes()}


def with_cats(cats: object) -> dict[str, Any]:
    message = good_classes_message()
    return {**message, "cats": [message["cats"][0], cats, message["cats"][2]]}


def with_user_data(user_data: object) -> dict[str, Any]:
    message = good_message()
    return {**message, "user_data": [message["user_data"][0], user_data, message["user_data"][2]]}


# Token rows: doc 0 = Ada met Bob (0-2), doc 1 = Cy 😀 Dee (3-5), doc 2 = Eve (6).
DOCUMENT_CASES = [
    # (the file with docs[1] broken, field, message fragment)
    (with_tokens(3, 0, 12345), "docs[1].tokens[0].ORTH", "string id 12345"),
    (with_tokens(5, 1, 1), "docs[1].tokens[2].ENT_IOB", "no B token"),
    (with_tokens(4, 1, 7), "docs[1].tokens[1].ENT_IOB", "is 7"),
    (with_tokens(5, 2, 999), "docs[1].tokens[2].ENT_TYPE", "string id 999"),
    ({**good_message(), "cats": [{}, {"A": 1.0}, {}]}, "docs[1].cats", "both entity tags and cats"),
    (with_cats({"A": "yes"}), "docs[1].cats", "must be a number"),
    (with_cats({" A": 1.0}), "docs[1].cats", "without surrounding spaces"),
    (with_cats([]), "docs[1].cats", "not list"),
    (with_tokens(1, 1, 2, with_cats({})), "docs[1].tokens", "docs[0] has cats"),
    (with_user_data(b"\xc1"), "docs[1].user_data", "not valid msgpack"),
    (with_user_data(msgpack.packb([1])), "docs[1].user_data", "must be a map, not list"),
    (
        with_user_data(msgpack.packb({"lexicraft": {"id": "b", "dataset": "Dev"}})),
        "docs[1].user_data.lexicraft.dataset",
        "'Train' or 'Test'",
    ),
    (
        with_user_data(msgpack.packb({"lexicraft": {"id": "a"}})),
        "docs[1].user_data.lexicraft.id",
        "appears twice",
    ),
]


@pytest.mark.parametrize(("message", "field", "fragment"), DOCUMENT_CASES)
def test_a_bad_document_is_named_and_can_be_skipped(
    message: dict[str, Any], field: str, fragment: str
) -> None:
    content = pack(message)
    with pytest.raises(InvalidFileRecord) as caught:
        docbin.read(content)
    assert (caught.value.line, caught.value.field) == (None, field), caught.value.message
    assert fragment in caught.value.message
    data = docbin.read(content, skip_invalid=True)
    assert [d.location for d in data.documents] == ["a", "c"]
    assert [(s.line, s.field) for s in data.skipped] == [(None, field)]
    assert fragment in data.skipped[0].describe()


FILE_CASES = [
    # (file content, field, message fragment)
    (b"", None, "the file is empty"),
    (b"PK\x03\x04 not zlib", None, "not zlib-compressed"),
    (zlib.compress(msgpack.packb(good_message()))[:-10], None, "truncated"),
    (zlib.compress(b"\xc1"), None, "not valid msgpack"),
    (pack([1, 2]), None, "holds a list, not a map"),
    (pack({**good_message(), "lengths": None}), "lengths", "must be bytes"),
    (pack({k: v for k, v in good_message().items() if k != "strings"}), "strings", "is missing"),
    (pack({**good_message(), "attrs": [77, 78]}), "attrs", "must include ORTH"),
    (pack({**good_message(), "tokens": good_message()["tokens"][:-24]}), "tokens", "take 168"),
    (pack({**good_message(), "spaces": b"\x01"}), "spaces", "7 tokens"),
    (
        pack({**good_message(), "lengths": np.asarray([3, 3], "<i4").tobytes()}),
        "tokens",
        "6 tokens",
    ),
    (pack({**good_message(), "cats": [{}]}), "cats", "has 1 entries, but 'lengths' lists 3"),
    (pack({**good_message(), "strings": ["ok", 5]}), "strings[1]", "must be a string"),
]


@pytest.mark.parametrize(("content", "field", "fragment"), FILE_CASES)
def test_a_bad_file_is_refused_whole(content: bytes, field: str | None, fragment: str) -> None:
    for skip_invalid in (False, True):
        with pytest.raises(InvalidFileRecord) as caught:
            docbin.read(content, skip_invalid=skip_invalid)
        assert (caught.value.line, caught.value.field) == (None, field), caught.value.message
        assert fragment in caught.value.message


def test_a_zip_bomb_is_refused_before_it_is_inflated() -> None:
    bomb = zlib.compress(b"\x00" * 5_000_000, 9)
    assert len(bomb) < 10_000
    with pytest.raises(InvalidFileRecord, match="decompresses to more than 1,000,000 bytes"):
        docbin.read(bomb, max_bytes=1_000_000)
    fine = docbin.encode(ner(Document("a", "Ada", spans=(Span(0, 3, "PER"),))))
    assert len(docbin.read(fine, max_bytes=len(zlib.decompress(fine))).documents) == 1


def test_text_content_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="binary"):
        FORMATS["spacy"].read("not a path but content")
    with pytest.raises(InvalidParameterValue, match="cannot read"):
        FORMATS["spacy"].read(tmp_path / "missing.spacy")
