"""Every format: write → read gives back the same documents, spans and classes, Unicode-exact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lexicraft.domain.projects import Document, ProjectKind
from lexicraft.domain.spans import Span
from lexicraft.formats.base import LabeledData
from lexicraft.formats.registry import FORMATS, FileFormat
from tests.datasets import shared_data_dir
from tests.unit.formats.samples import multi_label_data, ner_data, single_label_data

# Formats that keep document ids (the others number their records).
KEEPS_IDS = {"azure", "jsonl", "label-studio", "doccano", "spacy"}
# Formats that keep each document's dataset assignment (Train/Test).
KEEPS_DATASET = {"azure", "jsonl", "label-studio", "doccano", "spacy"}

NER_FORMATS = [f for f in FORMATS.values() if f.holds_kind(ProjectKind.ENTITY_RECOGNITION)]
CLASS_FORMATS = [
    f for f in FORMATS.values() if f.holds_kind(ProjectKind.MULTI_LABEL_CLASSIFICATION)
]


def content(document: Document) -> tuple[str, tuple[tuple[int, int, str], ...], tuple[str, ...]]:
    return (
        document.text,
        tuple((s.start, s.end, s.category) for s in document.spans),
        document.classes,
    )


def assert_same(original: LabeledData, read_back: LabeledData, file_format: FileFormat) -> None:
    assert read_back.kind is original.kind
    assert read_back.skipped == ()
    assert [content(d) for d in read_back.documents] == [content(d) for d in original.documents]
    assert set(read_back.labels) == set(original.labels)
    if file_format.name in KEEPS_IDS:
        assert [d.location for d in read_back.documents] == [d.location for d in original.documents]
    if file_format.name in KEEPS_DATASET:
        assert [d.dataset for d in read_back.documents] == [d.dataset for d in original.documents]
    for document in read_back.documents:
        for span in document.spans:
            assert 0 <= span.start < span.end <= len(document.text)


def round_trip(data: LabeledData, file_format: FileFormat, folder: Path) -> LabeledData:
    destination = folder / f"data{file_format.extensions[0]}"
    written = file_format.write(data, destination)
    assert written[0] == destination
    return file_format.read(destination, kind=data.kind)


@pytest.mark.parametrize("file_format", NER_FORMATS, ids=lambda f: f.name)
def test_ner_round_trip(file_format: FileFormat, tmp_path: Path) -> None:
    data = ner_data()
    assert_same(data, round_trip(data, file_format, tmp_path), file_format)


@pytest.mark.parametrize("file_format", CLASS_FORMATS, ids=lambda f: f.name)
def test_multi_label_round_trip(file_format: FileFormat, tmp_path: Path) -> None:
    data = multi_label_data()
    assert_same(data, round_trip(data, file_format, tmp_path), file_format)


@pytest.mark.parametrize("file_format", CLASS_FORMATS, ids=lambda f: f.name)
def test_single_label_round_trip(file_format: FileFormat, tmp_path: Path) -> None:
    data = single_label_data()
    assert_same(data, round_trip(data, file_format, tmp_path), file_format)


@pytest.mark.parametrize(
    "file_format", [f for f in FORMATS.values() if f.dumps is not None], ids=lambda f: f.name
)
def test_content_given_as_text_reads_like_the_file(file_format: FileFormat) -> None:
    is_ner = file_format.holds_kind(ProjectKind.ENTITY_RECOGNITION)
    data = ner_data(5) if is_ner else multi_label_data(5)
    assert file_format.dumps is not None
    read_back = file_format.read(file_format.dumps(data), kind=data.kind)
    assert_same(data, read_back, file_format)


@pytest.mark.parametrize("file_format", CLASS_FORMATS, ids=lambda f: f.name)
def test_classification_kind_is_inferred_from_the_records(
    file_format: FileFormat, tmp_path: Path
) -> None:
    multi = multi_label_data(5)
    single = single_label_data(5)
    file_format.write(multi, tmp_path / "multi.txt")
    file_format.write(single, tmp_path / "single.txt")
    assert file_format.read(tmp_path / "multi.txt").kind is ProjectKind.MULTI_LABEL_CLASSIFICATION
    assert file_format.read(tmp_path / "single.txt").kind is (
        ProjectKind.SINGLE_LABEL_CLASSIFICATION
    )


def test_shared_jsonl_slice_reads_exactly(tmp_path: Path) -> None:
    source = shared_data_dir() / "wnut17" / "dev.jsonl"
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)[:40]
    sliced = tmp_path / "wnut17-slice.jsonl"
    sliced.write_text("".join(lines), encoding="utf-8")
    data = FORMATS["jsonl"].read(sliced)
    assert data.kind is ProjectKind.ENTITY_RECOGNITION
    assert len(data.documents) == 40
    for line, document in zip(lines, data.documents, strict=True):
        record = json.loads(line)
        assert document.location == record["id"]
        assert [document.text[s.start : s.end] for s in document.spans] == [
            record["text"][e["offset"] : e["offset"] + e["length"]] for e in record["entities"]
        ]


def test_comprehend_ner_keeps_multi_line_documents(tmp_path: Path) -> None:
    text = "First line with Ada\r\nsecond 🙂 line with Grace\nend"
    document = Document(
        location="x",
        text=text,
        spans=(
            ner_span(text, "Ada", "PER"),
            ner_span(text, "Grace", "PER"),
        ),
    )
    data = LabeledData(ProjectKind.ENTITY_RECOGNITION, ("PER",), (document,))
    written = FORMATS["comprehend-ner"].write(data, tmp_path / "annotations.csv")
    assert [p.name for p in written] == ["annotations.csv", "annotations-000001.txt"]
    read_back = FORMATS["comprehend-ner"].read(tmp_path / "annotations.csv")
    assert [content(d) for d in read_back.documents] == [content(document)]


def ner_span(text: str, surface: str, category: str) -> Span:
    start = text.index(surface)
    return Span(start, start + len(surface), category)
