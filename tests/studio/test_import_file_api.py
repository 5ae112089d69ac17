"""``POST /language/lexicraft/projects/{p}/:import-file`` over real HTTP: every format the CLI
reads (written by the formats' own writers from the format tests' samples, or the CLI tests'
CLU and LUIS files) becomes the same documents; a file with invalid records is a 400 listing
each with its line and field, and nothing is written; size and JSON limits are settings."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from lexicraft.domain.projects import Document
from lexicraft.formats.base import LabeledData
from lexicraft.formats.registry import FORMATS
from tests.cli.clu_files import luis_app, travel_project_file
from tests.integration.server import API_VERSION, LiveServer, run_server
from tests.unit.formats.samples import multi_label_data, ner_data, single_label_data

LABELING = "/language/lexicraft/projects"
CONVERSATIONS = "/language/authoring/analyze-conversations/projects"
V = {"api-version": API_VERSION}
IMPORT_LIMIT = 300_000
JSON_DEPTH = 32


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_server(
        tmp_path_factory.mktemp("import-file"),
        max_import_bytes=IMPORT_LIMIT,
        max_json_depth=JSON_DEPTH,
        import_errors_listed=3,
    ) as live:
        yield live


def send(server: LiveServer, project: str, **body: Any) -> httpx.Response:
    return server.client.post(f"{LABELING}/{project}/:import-file", json=body)


def import_ok(server: LiveServer, project: str, **body: Any) -> dict[str, Any]:
    """Send a file, wait for its import job; returns the 202's summary."""
    response = send(server, project, **body)
    assert response.status_code == 202, response.text
    job = server.wait_job(response.headers["Operation-Location"])
    assert job["status"] == "succeeded", job
    summary: dict[str, Any] = response.json()
    return summary


def stored(server: LiveServer, project: str) -> list[dict[str, Any]]:
    response = server.client.get(f"{LABELING}/{project}/documents", params={"top": 1000})
    assert response.status_code == 200, response.text
    documents: list[dict[str, Any]] = response.json()["value"]
    return documents


def labels_of(document: Document) -> tuple[Any, ...]:
    if document.classes:
        return tuple(sorted(document.classes))
    return tuple((span.start, span.end - span.start, span.category) for span in document.spans)


def labels_read(record: dict[str, Any]) -> tuple[Any, ...]:
    if record.get("classes") is not None:
        return tuple(sorted(c["category"] for c in record["classes"]))
    return tuple((e["offset"], e["length"], e["category"]) for e in record["entities"])


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["message"]
    return error


SAMPLES: dict[str, Callable[[], LabeledData]] = {
    "ner": lambda: ner_data(2),
    "single": lambda: single_label_data(3),
    "multi": lambda: multi_label_data(2),
}
# (format, sample, file name): every format of one text file that the CLI reads.
CASES = [
    ("azure", "ner", "project.json"),
    ("azure", "multi", "project.json"),
    ("jsonl", "ner", "data.jsonl"),
    ("jsonl", "single", "data.jsonl"),
    ("conll", "ner", "train.conll"),
    ("conll-bioes", "ner", "train.bioes"),
    ("label-studio", "ner", "export.json"),
    ("label-studio", "multi", "export.json"),
    ("doccano", "ner", "doccano.jsonl"),
    ("doccano", "single", "doccano.jsonl"),
    ("csv", "single", "texts.csv"),
    ("comprehend", "multi", "comprehend.csv"),
]
#: A Comprehend CSV has no header: its format must be named (as with `lexicraft import`).
DETECTED = [case for case in CASES if case[0] != "comprehend"]


@pytest.mark.parametrize(
    ("file_format", "sample", "file_name", "named"),
    [(*case, True) for case in CASES] + [(*case, False) for case in DETECTED],
)
def test_every_format_imports_the_documents_it_holds(
    server: LiveServer, file_format: str, sample: str, file_name: str, named: bool
) -> None:
    data = SAMPLES[sample]()
    writer = FORMATS[file_format].dumps
    assert writer is not None
    project = f"f-{file_format}-{sample}-{'n' if named else 'd'}"
    body: dict[str, Any] = {"content": writer(data), "fileName": file_name}
    if named:
        body["format"] = file_format
    elif file_format == "conll-bioes":
        body["fileName"] = "train.conll"  # read as conll: BIOES tags are recognised too
    summary = import_ok(server, project, **body)
    assert summary["projectKind"] == data.kind.value
    assert summary["documentCount"] == len(data.documents)
    assert summary["replaced"] is False
    assert set(summary["labels"]) == set(data.labels)
    documents = stored(server, project)
    expected = sorted((d.text, labels_of(d)) for d in data.documents)
    assert sorted((r["text"], labels_read(r)) for r in documents) == expected
    if not FORMATS[file_format].keeps_ids:
        # Numbered records are named after the file, as `lexicraft import` names them.
        stem = body["fileName"].rsplit(".", 1)[0]
        assert sorted(r["location"] for r in documents)[0] == f"{stem}-000001"
    else:
        assert {r["location"] for r in documents} == {d.location for d in data.documents}


def test_a_luis_app_becomes_a_conversation_project(server: LiveServer) -> None:
    app = luis_app()
    summary = import_ok(server, "luis-app", content=json.dumps(app), fileName="app.json")
    assert summary["projectKind"] == "Conversation"
    assert summary["format"] == "luis"
    assert summary["documentCount"] == len(app["utterances"])
    exported = server.client.get(f"{LABELING}/luis-app/conversation")
    assert exported.status_code == 200, exported.text
    intents = {intent["category"] for intent in exported.json()["intents"]}
    assert {"Greet", "Farewell", "None"} <= intents
    assert len(stored(server, "luis-app")) == len(app["utterances"])


def test_a_clu_project_file_is_imported_under_the_name_given(server: LiveServer) -> None:
    project_file = travel_project_file("somewhere-else")
    summary = import_ok(
        server, "clu-file", content=json.dumps(project_file), fileName="travel.json"
    )
    assert (summary["projectKind"], summary["format"]) == ("Conversation", "azure")
    response = server.client.get(f"{CONVERSATIONS}/clu-file", params=V)
    assert response.status_code == 200, response.text
    assert len(stored(server, "clu-file")) == len(project_file["assets"]["utterances"])


def bad_jsonl() -> str:
    """Six records; lines 2, 4, 5 and 6 are bad (with a blank line 3 kept out of the count)."""
    lines = [
        {"id": "a", "text": "Anna flew to Paris", "entities": [{"category": "City", "offset": 13, "length": 5}]},
        {"id": "b", "text": "Tom", "entities": [{"category": "Person", "offset": 0, "length": 9}]},
        None,
        {"id": "c", "text": ""},
        {"id": "a", "text": "Again", "entities": []},
        {"id": "d", "text": "Oslo", "entities": [{"category": "City", "offset": -1, "length": 2}]},
    ]  # fmt: skip
    return "\n".join("" if line is None else json.dumps(line) for line in lines) + "\n"


def test_a_file_with_invalid_records_lists_every_line_and_writes_nothing(
    server: LiveServer,
) -> None:
    response = send(server, "bad-new", content=bad_jsonl(), fileName="bad.jsonl")
    error = error_of(response, 400)
    assert error["code"] == "InvalidRequest"
    assert error["innererror"]["code"] == "InvalidParameterValue"
    assert "4 records of the file are invalid" in error["message"]
    # import_errors_listed=3: the first three, each with its line and field.
    assert [detail["line"] for detail in error["details"]] == [2, 4, 5]
    assert error["details"][0]["target"] == "entities[0].length"
    assert error["details"][0]["message"].startswith("line 2, field 'entities[0].length': ")
    assert "appears twice (first on line 1)" in error["details"][2]["message"]
    # Nothing was written: no project.
    assert server.client.get(f"{LABELING}/bad-new/documents").status_code == 404

    # Over an existing project: its documents stay as they were.
    import_ok(server, "bad-old", content=ner_jsonl(), fileName="ok.jsonl")
    before = stored(server, "bad-old")
    error_of(send(server, "bad-old", content=bad_jsonl(), fileName="bad.jsonl"), 400)
    assert stored(server, "bad-old") == before

    # skipInvalid imports the good record and reports the others the same way.
    summary = import_ok(
        server, "bad-old", content=bad_jsonl(), fileName="bad.jsonl", skipInvalid=True
    )
    assert summary["replaced"] is True
    assert summary["documentCount"] == 1
    assert [record["line"] for record in summary["skipped"]] == [2, 4, 5, 6]
    assert [d["location"] for d in stored(server, "bad-old")] == ["a"]


def ner_jsonl() -> str:
    records = [
        {"id": "one", "text": "Anna flew to Paris", "entities": [{"category": "City", "offset": 13, "length": 5}]},
        {"id": "two", "text": "Tom stayed home", "entities": [{"category": "Person", "offset": 0, "length": 3}]},
    ]  # fmt: skip
    return "".join(json.dumps(record) + "\n" for record in records)


def test_a_file_that_is_not_its_format_names_the_line(server: LiveServer) -> None:
    broken = '{"projectFileVersion": "2023-04-01",\n  "metadata": {\n  oops\n}'
    error = error_of(send(server, "broken", content=broken, format="azure"), 400)
    assert [detail["line"] for detail in error["details"]] == [3]
    assert "is not valid JSON" in error["message"]
    conll = "Anna\tB-Person\nflew\tO\nParis\tX-City\n"
    error = error_of(send(server, "broken", content=conll, fileName="x.conll"), 400)
    assert [(d["line"], d["target"]) for d in error["details"]] == [(3, "tag")]
    assert server.client.get(f"{LABELING}/broken/documents").status_code == 404


def test_appending_keeps_the_documents_of_the_first_file(server: LiveServer) -> None:
    conll = FORMATS["conll"].dumps
    assert conll is not None
    data = ner_data(2)
    import_ok(server, "two-files", content=conll(data), fileName="train.conll", dataset="Train")
    import_ok(
        server,
        "two-files",
        content=conll(data),
        fileName="test.conll",
        dataset="Test",
        append=True,
    )
    documents = stored(server, "two-files")
    assert len(documents) == 2 * len(data.documents)
    datasets = {d["location"].split("-")[0]: d["dataset"] for d in documents}
    assert datasets == {"train": "Train", "test": "Test"}


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({"format": "yaml"}, "format"),
        ({"format": "spacy"}, "format"),
        ({"format": "comprehend-ner"}, "format"),
        ({"fileName": "notes.txt"}, "format"),
        ({"format": "conll", "projectKind": "CustomSingleLabelClassification"}, "kind"),
        ({"format": "conll", "projectKind": "Sentiment"}, "projectKind"),
    ],
)
def test_what_cannot_be_read_is_a_400_naming_the_field(
    server: LiveServer, body: dict[str, Any], target: str
) -> None:
    response = send(server, "refused", content="Anna\tB-Person\n", **body)
    assert error_of(response, 400)["target"] == target
    assert server.client.get(f"{LABELING}/refused/documents").status_code == 404


def test_a_file_for_another_kind_of_project_is_refused(server: LiveServer) -> None:
    classes = FORMATS["csv"].dumps
    assert classes is not None
    import_ok(server, "topics", content=classes(single_label_data(2)), fileName="t.csv")
    response = send(server, "topics", content="Anna\tB-Person\n", fileName="x.conll")
    assert error_of(response, 400)["target"] == "kind"
    luis = send(server, "topics", content=json.dumps(luis_app()), fileName="app.json")
    assert error_of(luis, 400)["target"] == "projectName"


def test_a_body_over_the_import_limit_is_a_413(server: LiveServer) -> None:
    response = send(server, "huge", content="x" * IMPORT_LIMIT, fileName="big.csv")
    error = error_of(response, 413)
    assert error["innererror"]["code"] == "RequestEntityTooLarge"
    assert "LEXICRAFT_MAX_IMPORT_BYTES" in error["message"]
    assert server.client.get(f"{LABELING}/huge/documents").status_code == 404


def test_a_json_file_nested_too_deeply_is_a_400(server: LiveServer) -> None:
    deep = '{"id": "x", "text": "a", "meta": ' + "[" * 40 + "]" * 40 + "}\n"
    error = error_of(send(server, "deep", content=deep, fileName="deep.jsonl"), 400)
    assert "LEXICRAFT_MAX_JSON_DEPTH" in error["message"]
    assert error["message"].startswith("The file nests")
