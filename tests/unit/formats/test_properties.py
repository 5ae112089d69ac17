"""Property: any space-joined Unicode tokens with any non-overlapping entities survive every
NER format, and any classes survive every classification format."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lexicraft.domain.projects import Document, ProjectKind
from lexicraft.domain.spans import Span
from lexicraft.formats.base import LabeledData
from lexicraft.formats.registry import FORMATS

# Letters and marks from many scripts, astral emoji, ZWJ and variation selectors; no separators.
TOKEN_CHARACTERS = st.characters(
    categories=("L", "M", "N", "P", "S"),
    exclude_characters=' \t\r\n\x85\u2028\u2029\x1c\x1d\x1e\x1f\x0b\x0c,"|',
) | st.sampled_from(["😀", "👩", "💻", "\u200d", "\ufe0f", "🇩", "🇪", "東", "\u0301"])
TOKENS = st.lists(st.text(TOKEN_CHARACTERS, min_size=1, max_size=6), min_size=1, max_size=8)
LABELS = st.sampled_from(["PER", "LOC", "ORG_NAME", "Misc-1"])


@st.composite
def ner_documents(draw: st.DrawFn) -> Document:
    tokens = draw(TOKENS)
    text = " ".join(tokens)
    starts = [sum(len(t) + 1 for t in tokens[:i]) for i in range(len(tokens))]
    spans: list[Span] = []
    index = 0
    while index < len(tokens):
        if draw(st.booleans()):
            width = draw(st.integers(1, len(tokens) - index))
            last = index + width - 1
            spans.append(Span(starts[index], starts[last] + len(tokens[last]), draw(LABELS)))
            index += width + draw(st.integers(0, 1))
        else:
            index += 1
    if text.split(" ", 1)[0] == "-DOCSTART-":
        text = "x" + text
    return Document(location="d", text=text, spans=tuple(spans))


def numbered(documents: list[Document]) -> tuple[Document, ...]:
    return tuple(
        Document(location=f"doc-{n:06d}", text=d.text, spans=d.spans, classes=d.classes)
        for n, d in enumerate(documents, start=1)
    )


def labeled(kind: ProjectKind, documents: tuple[Document, ...]) -> LabeledData:
    labels = {s.category for d in documents for s in d.spans} | {
        c for d in documents for c in d.classes
    }
    return LabeledData(kind=kind, labels=tuple(sorted(labels)), documents=documents)


NER_TEXT_FORMATS = [
    f
    for f in FORMATS.values()
    if f.dumps is not None and f.holds_kind(ProjectKind.ENTITY_RECOGNITION)
]
CLASS_TEXT_FORMATS = [
    f
    for f in FORMATS.values()
    if f.dumps is not None and f.holds_kind(ProjectKind.MULTI_LABEL_CLASSIFICATION)
]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ner_documents(), min_size=1, max_size=4))
def test_ner_formats_keep_texts_and_spans(documents: list[Document]) -> None:
    data = labeled(ProjectKind.ENTITY_RECOGNITION, numbered(documents))
    for file_format in NER_TEXT_FORMATS:
        assert file_format.dumps is not None
        back = file_format.read(file_format.dumps(data), kind=ProjectKind.ENTITY_RECOGNITION)
        assert [(d.text, d.spans) for d in back.documents] == [
            (d.text, d.spans) for d in data.documents
        ], file_format.name


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(
                TOKEN_CHARACTERS | st.sampled_from([" ", ",", '"', "\n"]), min_size=1, max_size=20
            ).filter(lambda t: t.strip() != "" and t.strip().lower() != "text"),
            st.lists(LABELS, min_size=1, max_size=3, unique=True),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_classification_formats_keep_texts_and_classes(rows: list[tuple[str, list[str]]]) -> None:
    documents = numbered([Document(location="d", text=t, classes=tuple(c)) for t, c in rows])
    data = labeled(ProjectKind.MULTI_LABEL_CLASSIFICATION, documents)
    for file_format in CLASS_TEXT_FORMATS:
        assert file_format.dumps is not None
        back = file_format.read(
            file_format.dumps(data), kind=ProjectKind.MULTI_LABEL_CLASSIFICATION
        )
        assert [(d.text, d.classes) for d in back.documents] == [
            (d.text, d.classes) for d in data.documents
        ], file_format.name
