"""Labeled data for format tests: small slices of ../shared/data plus hard Unicode cases."""

from __future__ import annotations

from typing import Any

from lexicraft.domain.projects import Dataset, Document, ProjectKind
from lexicraft.domain.spans import Span
from lexicraft.formats.base import LabeledData
from tests.datasets import read_jsonl

# Astral-plane letters and digits (written as escapes: they look like ASCII).
FRAKTUR = "\U0001d518\U0001d52b\U0001d526\U0001d520\U0001d52c\U0001d521\U0001d522"
DOUBLE_STRUCK = "\U0001d7d9\U0001d7da\U0001d7db"

# Texts are tokens joined by single spaces (so CoNLL can hold them exactly); they mix
# combining marks, astral-plane letters, ZWJ emoji sequences, flags, CJK and right-to-left text.
UNICODE_NER: tuple[tuple[str, list[tuple[str, str]]], ...] = (
    (
        "Zoe\u0308 A\u030angstro\u0308m flew to 東京 with 👩\u200d👩\u200d👧 today .",
        [("Zoe\u0308 A\u030angstro\u0308m", "PER"), ("東京", "LOC")],
    ),
    (
        "שלום from Jose\u0301 at Cafe\u0301 Mu\u0308ller 🇩🇪 !",
        [("Jose\u0301", "PER"), ("Cafe\u0301 Mu\u0308ller", "ORG"), ("🇩🇪", "MISC")],
    ),
    (f"{FRAKTUR} math {DOUBLE_STRUCK} and 😀 emoji", [(FRAKTUR, "MISC"), ("😀", "MISC")]),
    ("nothing to see here ✨", []),
    ("北京大学 は 日本 に ない", [("北京大学", "ORG"), ("日本", "LOC")]),
)

UNICODE_CLASSES: tuple[tuple[str, list[str]], ...] = (
    ("I love 🍣 and ラーメン , truly", ["joy"]),
    ("Stra\u00dfe na\u0308ive 👩\u200d💻 rocks", ["joy", "surprise"]),
    ("مرحبا بالعالم 🇯🇵", ["neutral"]),
    (f'{FRAKTUR} , "quoted" and comma', ["surprise"]),
)


def _span_of(text: str, surface: str, category: str, after: int = 0) -> Span:
    start = text.index(surface, after)
    return Span(start, start + len(surface), category)


def unicode_ner_documents() -> list[Document]:
    """The hand-made NER documents (ids ``uni-<n>``)."""
    documents = []
    for number, (text, entities) in enumerate(UNICODE_NER, start=1):
        spans = tuple(_span_of(text, surface, category) for surface, category in entities)
        documents.append(Document(location=f"uni-{number}", text=text, spans=spans))
    return documents


def _shared_ner(name: str, limit: int) -> list[Document]:
    return [
        Document(
            location=record["id"],
            text=record["text"],
            spans=tuple(
                Span(e["offset"], e["offset"] + e["length"], e["category"])
                for e in record["entities"]
            ),
        )
        for record in read_jsonl(name, "train", limit)
    ]


def _shared_classes(name: str, limit: int, single: bool) -> list[Document]:
    records: list[dict[str, Any]] = read_jsonl(name, "train", limit)
    return [
        Document(
            location=r["id"],
            text=r["text"],
            classes=tuple(r["classes"][:1] if single else r["classes"]),
        )
        for r in records
    ]


def _labeled(kind: ProjectKind, documents: list[Document]) -> LabeledData:
    labels: dict[str, None] = {}
    for document in documents:
        for span in document.spans:
            labels.setdefault(span.category, None)
        for category in document.classes:
            labels.setdefault(category, None)
    return LabeledData(kind=kind, labels=tuple(labels), documents=tuple(documents))


def ner_data(limit: int = 25) -> LabeledData:
    """conll2003 and wnut17 slices plus the Unicode documents."""
    documents = _shared_ner("conll2003", limit) + _shared_ner("wnut17", limit)
    return _labeled(ProjectKind.ENTITY_RECOGNITION, documents + unicode_ner_documents())


def single_label_data(limit: int = 25) -> LabeledData:
    """An ag_news slice plus single-class Unicode documents."""
    unicode_documents = [
        Document(location=f"uni-{n}", text=text, classes=(classes[0],), dataset=Dataset.TEST)
        for n, (text, classes) in enumerate(UNICODE_CLASSES, start=1)
    ]
    documents = _shared_classes("ag_news", limit, single=True) + unicode_documents
    return _labeled(ProjectKind.SINGLE_LABEL_CLASSIFICATION, documents)


def multi_label_data(limit: int = 25) -> LabeledData:
    """goemotions and atis slices plus multi-class Unicode documents."""
    unicode_documents = [
        Document(location=f"uni-{n}", text=text, classes=tuple(classes))
        for n, (text, classes) in enumerate(UNICODE_CLASSES, start=1)
    ]
    documents = (
        _shared_classes("goemotions", limit, single=False)
        + _shared_classes("atis", limit, single=False)
        + unicode_documents
    )
    return _labeled(ProjectKind.MULTI_LABEL_CLASSIFICATION, documents)
