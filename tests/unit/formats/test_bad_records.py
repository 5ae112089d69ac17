"""A bad record stops the read with its line and field named; ``skip_invalid`` leaves it out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lexicraft.domain.projects import ProjectKind
from lexicraft.errors import InvalidFileRecord, InvalidParameterValue, UnrepresentableDocument
from lexicraft.formats.base import LabeledData
from lexicraft.formats.registry import FORMATS, detect_format, get_format
from tests.unit.formats.samples import ner_data


def dumps(format_name: str, data: LabeledData) -> str:
    write = FORMATS[format_name].dumps
    assert write is not None
    return write(data)


def jsonl(*records: object) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


GOOD = {
    "id": "a",
    "text": "Ada met Bob",
    "entities": [{"category": "PER", "offset": 0, "length": 3}],
}
GOOD2 = {"id": "c", "text": "Carl 😀", "entities": []}

AZURE = {
    "projectFileVersion": "2022-05-01",
    "stringIndexType": "Utf16CodeUnit",
    "metadata": {
        "projectKind": "CustomEntityRecognition",
        "storageInputContainerName": "c",
        "projectName": "p",
        "language": "en",
    },
    "assets": {
        "projectKind": "CustomEntityRecognition",
        "entities": [{"category": "PER"}],
        "documents": [
            {
                "location": "a.txt",
                "text": "😀 Ada",
                "entities": [{"labels": [{"category": "PER", "offset": 3, "length": 3}]}],
            },
            {
                "location": "b.txt",
                "text": "Bob",
                "entities": [{"labels": [{"category": "ORG", "offset": 0, "length": 3}]}],
            },
            {"location": "c.txt", "text": "Cy", "entities": []},
        ],
    },
}

LABEL_STUDIO_UTF16 = json.dumps(
    [
        {
            "id": 1,
            "data": {"text": "Ada"},
            "annotations": [
                {
                    "result": [
                        {
                            "type": "labels",
                            "value": {"start": 0, "end": 3, "text": "Ada", "labels": ["PER"]},
                        }
                    ]
                }
            ],
        },
        # Offsets counted in UTF-16 (as old Label Studio did): 😀 counts twice.
        {
            "id": 2,
            "data": {"text": "😀 Bob"},
            "annotations": [
                {
                    "result": [
                        {
                            "type": "labels",
                            "value": {"start": 3, "end": 6, "text": "Bob", "labels": ["PER"]},
                        }
                    ]
                }
            ],
        },
        {"id": 3, "data": {"text": "Cy"}, "annotations": []},
    ],
    ensure_ascii=False,
    indent=1,
)

CASES = [
    # (format, content, kind, line, field, message fragment, documents kept by skip_invalid)
    (
        "jsonl",
        jsonl(
            GOOD,
            {"id": "b", "text": "Bob", "entities": [{"category": "PER", "offset": 1, "length": 5}]},
            GOOD2,
        ),
        None,
        2,
        "entities[0].length",
        "outside the text",
        2,
    ),
    (
        "jsonl",
        jsonl(GOOD, {"id": "a", "text": "again", "entities": []}, GOOD2),
        None,
        2,
        "id",
        "appears twice (first on line 1)",
        2,
    ),
    ("jsonl", jsonl(GOOD, GOOD2) + "{not json\n", None, 3, None, "not valid JSON", 2),
    (
        "jsonl",
        jsonl(GOOD, {"id": "s", "text": "x\ud83dy", "entities": []}).replace("\\ud83d", "\\ud83d"),
        None,
        2,
        "text",
        "lone surrogate",
        1,
    ),
    (
        "jsonl",
        jsonl(
            {"id": "x", "text": "t", "classes": ["A"]},
            {"id": "y", "text": "u", "classes": ["A", "B"]},
        ),
        ProjectKind.SINGLE_LABEL_CLASSIFICATION,
        2,
        "classes",
        "single-label",
        1,
    ),
    (
        "jsonl",
        jsonl(GOOD, {"id": "y", "text": "u", "classes": ["A"]}),
        None,
        2,
        "classes",
        "line 1 holds entities",
        1,
    ),
    (
        "jsonl",
        jsonl(GOOD, {"id": "../up", "text": "u", "entities": []}),
        None,
        2,
        "id",
        "cannot be used as a document location",
        1,
    ),
    (
        "conll",
        "Ada B-PER\nmet O\n\nBob X-PER\n\nCy B-PER\n",
        None,
        4,
        "tag",
        "is not 'O' or B-/I-/E-/S-",
        2,
    ),
    (
        "conll-iob2",
        "Ada B-PER\n\nmet O\nBob I-PER\n\nCy B-PER\n",
        None,
        4,
        "tag",
        "IOB2 starts every entity",
        2,
    ),
    ("conll-bioes", "Ada S-PER\n\nBob B-PER\nmet O\n\nCy S-PER\n", None, 4, "tag", "not closed", 2),
    ("conll", "Ada B-PER\n\nlonely\n\nCy O\n", None, 3, "tag", "a token and a tag", 2),
    (
        "label-studio",
        LABEL_STUDIO_UTF16,
        None,
        25,
        "annotations[0].result[0].value.start",
        "offsets must count code points",
        2,
    ),
    (
        "doccano",
        jsonl(
            {"text": "Ada", "label": [[0, 3, "PER"]]},
            {"text": "Bob", "label": [[2, 1, "PER"]]},
            {"text": "Cy", "label": []},
        ),
        None,
        2,
        "label[0]",
        "outside the text",
        2,
    ),
    (
        "comprehend",
        "A,first text\nB,second,text\nC,third\n",
        None,
        2,
        "text",
        "quote texts that contain commas",
        2,
    ),
    ("csv", 'text,label\nfine,A\n"",B\nalso fine,C\n', None, 3, "text", "is empty", 2),
    (
        "azure",
        json.dumps(AZURE, ensure_ascii=False),
        None,
        None,
        "assets.documents[1]",
        "not in the project's entity list",
        2,
    ),
]


@pytest.mark.parametrize(
    ("format_name", "content", "kind", "line", "field", "fragment", "kept"),
    CASES,
    ids=[f"{case[0]}-{index}" for index, case in enumerate(CASES)],
)
def test_a_bad_record_stops_the_read_naming_line_and_field(
    format_name: str,
    content: str,
    kind: ProjectKind | None,
    line: int | None,
    field: str | None,
    fragment: str,
    kept: int,
) -> None:
    file_format = get_format(format_name)
    with pytest.raises(InvalidFileRecord) as caught:
        file_format.read(content, kind=kind)
    error = caught.value
    assert (error.line, error.field) == (line, field), error.message
    assert fragment in error.message
    if line is not None:
        assert error.message.startswith(f"line {line}")


@pytest.mark.parametrize(
    ("format_name", "content", "kind", "line", "field", "fragment", "kept"),
    CASES,
    ids=[f"{case[0]}-{index}" for index, case in enumerate(CASES)],
)
def test_skip_invalid_leaves_the_bad_record_out_and_reports_it(
    format_name: str,
    content: str,
    kind: ProjectKind | None,
    line: int | None,
    field: str | None,
    fragment: str,
    kept: int,
) -> None:
    data = get_format(format_name).read(content, kind=kind, skip_invalid=True)
    assert len(data.documents) == kept
    assert [(s.line, s.field) for s in data.skipped] == [(line, field)]
    assert fragment in data.skipped[0].describe()


def test_comprehend_ner_names_the_annotation_row(tmp_path: Path) -> None:
    (tmp_path / "docs.txt").write_text("Ada met Bob\nCy 😀 Dee\n", encoding="utf-8")
    annotations = tmp_path / "annotations.csv"
    annotations.write_text(
        "File,Line,Begin Offset,End Offset,Type\n"
        "docs.txt,0,0,3,PER\n"
        "docs.txt,1,5,40,PER\n"
        "docs.txt,0,8,11,PER\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidFileRecord) as caught:
        FORMATS["comprehend-ner"].read(annotations)
    assert (caught.value.line, caught.value.field) == (3, "End Offset")
    data = FORMATS["comprehend-ner"].read(annotations, skip_invalid=True)
    assert [d.text for d in data.documents] == ["Ada met Bob"]
    assert [(s.start, s.end) for s in data.documents[0].spans] == [(0, 3), (8, 11)]
    assert [s.line for s in data.skipped] == [3]


def test_comprehend_ner_missing_documents_file_is_a_record_error(tmp_path: Path) -> None:
    annotations = tmp_path / "annotations.csv"
    annotations.write_text(
        "File,Line,Begin Offset,End Offset,Type\nmissing.txt,0,0,3,PER\n", encoding="utf-8"
    )
    with pytest.raises(InvalidFileRecord) as caught:
        FORMATS["comprehend-ner"].read(annotations)
    assert caught.value.line == 2
    assert "missing.txt" in caught.value.message


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(jsonl(GOOD).encode() + '{"id": "b", "text": "caf\xe9"}\n'.encode("latin-1"))
    with pytest.raises(InvalidFileRecord) as caught:
        FORMATS["jsonl"].read(path)
    assert caught.value.line == 2
    assert "UTF-8" in caught.value.message


def test_kind_that_the_format_cannot_hold_is_refused() -> None:
    with pytest.raises(InvalidParameterValue, match="hold entities, not classes"):
        FORMATS["conll"].read("Ada B-PER\n", kind=ProjectKind.SINGLE_LABEL_CLASSIFICATION)
    with pytest.raises(InvalidParameterValue, match="hold classes only"):
        dumps("csv", ner_data(2))


def test_a_file_without_labels_needs_a_kind() -> None:
    with pytest.raises(InvalidParameterValue, match="pass --kind"):
        FORMATS["jsonl"].read(jsonl({"id": "a", "text": "no labels"}))
    data = FORMATS["jsonl"].read(
        jsonl({"id": "a", "text": "no labels"}), kind=ProjectKind.ENTITY_RECOGNITION
    )
    assert data.kind is ProjectKind.ENTITY_RECOGNITION


def test_conll_refuses_texts_it_cannot_hold_exactly() -> None:
    data = FORMATS["jsonl"].read(
        jsonl(
            {"id": "a", "text": "two  spaces", "entities": []},
        )
    )
    with pytest.raises(UnrepresentableDocument, match="two spaces in a row"):
        dumps("conll", data)
    inside = FORMATS["jsonl"].read(
        jsonl(
            {
                "id": "b",
                "text": "U.S.-based firm",
                "entities": [{"category": "LOC", "offset": 0, "length": 4}],
            }
        )
    )
    with pytest.raises(UnrepresentableDocument, match="token boundaries"):
        dumps("conll", inside)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("p.json", json.dumps(AZURE), "azure"),
        ("p.json", "[]", "label-studio"),
        ("p.jsonl", jsonl(GOOD), "jsonl"),
        ("p.jsonl", jsonl({"text": "Ada", "label": [[0, 3, "PER"]]}), "doccano"),
        ("p.conll", "Ada B-PER\n", "conll"),
        ("p.bio", "Ada B-PER\n", "conll"),
        ("p.csv", "text,label\nx,A\n", "csv"),
        ("p.csv", "File,Line,Begin Offset,End Offset,Type\n", "comprehend-ner"),
        ("train.spacy", "x\ufffd\ufffd", "spacy"),
    ],
)
def test_detect_format(name: str, content: str, expected: str) -> None:
    assert detect_format(Path(name), content).name == expected


def test_detect_format_asks_for_format_when_unsure() -> None:
    with pytest.raises(InvalidParameterValue, match="pass --format"):
        detect_format(Path("data.csv"), "A,some text\n")
    with pytest.raises(InvalidParameterValue, match="not supported; use one of"):
        get_format("xml")


def test_conll_reads_classic_iob1_and_skips_docstart() -> None:
    content = (
        "-DOCSTART- -X- -X- O\n\n"
        "EU NNP B-NP I-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP I-MISC\n\n"
        "Peter NNP B-NP I-PER\nBlackburn NNP I-NP I-PER\nParis NNP I-NP B-PER\n"
    )
    data = FORMATS["conll"].read(content)
    assert [d.text for d in data.documents] == ["EU rejects German", "Peter Blackburn Paris"]
    assert [[(s.start, s.end, s.category) for s in d.spans] for d in data.documents] == [
        [(0, 2, "ORG"), (11, 17, "MISC")],
        [(0, 15, "PER"), (16, 21, "PER")],
    ]
    written = dumps("conll-iob1", data)
    assert "Peter I-PER\nBlackburn I-PER\nParis B-PER\n" in written
    assert FORMATS["conll-iob1"].read(written).documents == data.documents


def test_conll_tab_separated_tokens_may_hold_spaces() -> None:
    data = FORMATS["conll"].read("New York\tB-LOC\nis\tO\nbig\tO\n")
    (document,) = data.documents
    assert document.text == "New York is big"
    assert [(s.start, s.end, s.category) for s in document.spans] == [(0, 8, "LOC")]
