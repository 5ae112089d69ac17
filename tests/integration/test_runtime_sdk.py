"""The official runtime clients against a real server (spec §7.1, §7.3).

``azure-ai-textanalytics`` 5.4.0 runs in this process (it is a dev dependency) with both of its
Language API versions. 6.0.0b3 cannot share our environment; it lives in
``.venv-clients/textanalytics6`` (built by ``make test``) and runs ``clients/analyze_text6.py``
as a subprocess that prints what it deserialized.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.ai.textanalytics import (
    ClassifyDocumentResult,
    MultiLabelClassifyAction,
    RecognizeCustomEntitiesAction,
    RecognizeCustomEntitiesResult,
    SingleLabelClassifyAction,
    TextAnalyticsClient,
)
from azure.core.credentials import AzureKeyCredential

from tests.integration.databases import Databases
from tests.integration.runtime_fixtures import (
    MULTI,
    MULTI_CASES,
    NER,
    NER_TEXT,
    PRODUCTION,
    SINGLE,
    classification_predictor,
    ner_predictor,
    slice_in,
)
from tests.integration.server import TEST_KEY, LiveServer

REPO_ROOT = Path(__file__).resolve().parents[2]
CLIENT_VENV = REPO_ROOT / ".venv-clients" / "textanalytics6"
CLIENT_SCRIPT = Path(__file__).resolve().parent / "clients" / "analyze_text6.py"
POLLING_INTERVAL_S = 0.1

NER_TEXTS = [
    NER_TEXT,
    "\U0001f468\u200d\U0001f469\u200d\U0001f467 Amara Diallo joined Solace Pharma in Montr\u00e9al.",
]
CLASS_TEXTS = [text for text, _classes in MULTI_CASES]


@pytest.fixture(scope="module")
def deployed(trained_data_dir: Path, databases: Databases) -> Iterator[LiveServer]:
    """A server that checks for cancellation every 4 documents (see the cancel test).

    Without ``Retry-After`` the clients poll at their ``polling_interval`` (0.1 s here), not
    once a second.
    """
    with databases.serve(trained_data_dir, predict_batch_size=4, retry_after_s=0) as live:
        yield live


@pytest.fixture(params=["2022-05-01", "2023-04-01"])
def client(deployed: LiveServer, request: pytest.FixtureRequest) -> TextAnalyticsClient:
    return TextAnalyticsClient(
        deployed.base_url, AzureKeyCredential(TEST_KEY), api_version=request.param
    )


def assert_entities(
    deployed: LiveServer, results: list[Any], texts: list[str], unit: str = "UnicodeCodePoint"
) -> None:
    expected = ner_predictor(deployed, NER, "m1").predict(texts)
    assert len(results) == len(texts)
    for result, text, spans in zip(results, texts, expected, strict=True):
        assert isinstance(result, RecognizeCustomEntitiesResult), result
        assert not result.is_error
        assert [(e.category, e.text) for e in result.entities] == [
            (span.category, text[span.start : span.end]) for span in spans
        ]
        for entity in result.entities:
            assert slice_in(text, entity.offset, entity.length, unit) == entity.text
            assert 0 <= entity.confidence_score <= 1
    people = {e.text for e in results[0].entities if e.category == "Person"}
    assert people == {"Marcus Bell", "Fran\u00e7ois Dubois"}


def test_recognize_custom_entities(deployed: LiveServer, client: TextAnalyticsClient) -> None:
    poller = client.begin_recognize_custom_entities(
        NER_TEXTS,
        project_name=NER,
        deployment_name=PRODUCTION,
        polling_interval=POLLING_INTERVAL_S,
    )
    results = list(poller.result())
    assert_entities(deployed, results, NER_TEXTS)
    assert poller.status() == "succeeded"
    assert poller.details["display_name"] is None


def test_recognize_custom_entities_in_utf16_with_statistics(
    deployed: LiveServer, client: TextAnalyticsClient
) -> None:
    poller = client.begin_recognize_custom_entities(
        [*NER_TEXTS, ""],
        project_name=NER,
        deployment_name=PRODUCTION,
        string_index_type="Utf16CodeUnit",
        show_stats=True,
        display_name="stats",
        polling_interval=POLLING_INTERVAL_S,
    )
    *results, empty = list(poller.result())
    assert_entities(deployed, results, NER_TEXTS, "Utf16CodeUnit")
    assert results[1].statistics.character_count == len(NER_TEXTS[1]) - 4  # one family emoji
    assert results[0].statistics.transaction_count == 1
    assert empty.is_error
    assert empty.error.code == "InvalidDocument"
    assert poller.details["display_name"] == "stats"


def test_single_label_classify(deployed: LiveServer, client: TextAnalyticsClient) -> None:
    texts = [*CLASS_TEXTS, "I was charged twice on my invoice, please refund."]
    poller = client.begin_single_label_classify(
        texts,
        project_name=SINGLE,
        deployment_name=PRODUCTION,
        polling_interval=POLLING_INTERVAL_S,
    )
    results = list(poller.result())
    expected = classification_predictor(deployed, SINGLE, "m1").predict(texts)
    for result, scores in zip(results, expected, strict=True):
        assert isinstance(result, ClassifyDocumentResult)
        assert [c.category for c in result.classifications] == [scores[0].category]
    assert results[-1].classifications[0].category == "Billing"


def test_multi_label_classify(deployed: LiveServer, client: TextAnalyticsClient) -> None:
    poller = client.begin_multi_label_classify(
        CLASS_TEXTS,
        project_name=MULTI,
        deployment_name=PRODUCTION,
        polling_interval=POLLING_INTERVAL_S,
    )
    found = [{c.category for c in result.classifications} for result in poller.result()]
    assert found == [classes for _text, classes in MULTI_CASES]


def test_analyze_actions_with_the_three_custom_actions(
    deployed: LiveServer, client: TextAnalyticsClient
) -> None:
    texts = [NER_TEXTS[0], CLASS_TEXTS[0]]
    poller = client.begin_analyze_actions(
        texts,
        actions=[
            RecognizeCustomEntitiesAction(NER, PRODUCTION),
            SingleLabelClassifyAction(SINGLE, PRODUCTION),
            MultiLabelClassifyAction(MULTI, PRODUCTION),
            RecognizeCustomEntitiesAction(NER, PRODUCTION, string_index_type="Utf16CodeUnit"),
        ],
        display_name="all custom actions",
        polling_interval=POLLING_INTERVAL_S,
    )
    per_document = list(poller.result())
    assert poller.status() == "succeeded"
    assert poller.details["actions_succeeded_count"] == 4
    assert len(per_document) == 2
    for text, (entities, single, multi, utf16) in zip(texts, per_document, strict=True):
        assert isinstance(entities, RecognizeCustomEntitiesResult)
        assert isinstance(single, ClassifyDocumentResult)
        assert isinstance(multi, ClassifyDocumentResult)
        assert len(single.classifications) == 1
        for entity in entities.entities:
            assert text[entity.offset : entity.offset + entity.length] == entity.text
        assert [e.text for e in utf16.entities] == [e.text for e in entities.entities]
    assert {c.category for c in per_document[1][2].classifications} == MULTI_CASES[0][1]
    assert "Marcus Bell" in {e.text for e in per_document[0][0].entities}


def test_cancel_through_the_poller(deployed: LiveServer) -> None:
    client = TextAnalyticsClient(
        deployed.base_url, AzureKeyCredential(TEST_KEY), api_version="2023-04-01"
    )
    texts = [(NER_TEXT + " ") * 80] * 25
    poller = client.begin_analyze_actions(
        texts,
        actions=[RecognizeCustomEntitiesAction(NER, PRODUCTION)] * 3,
        polling_interval=POLLING_INTERVAL_S,
    )
    poller.cancel()
    results = list(poller.result())
    assert poller.status() == "cancelled"
    assert len(results) == 25
    # Tasks that never ran report "no result" per document (spec §1.6).
    assert all(result.is_error for result in results[0][-1:])


# -- 6.0.0b3, out of process ------------------------------------------------------------------


def run_client6(deployed: LiveServer, tmp_path: Path) -> dict[str, Any]:
    python = CLIENT_VENV / "bin" / "python"
    if not python.is_file() or not (CLIENT_VENV / ".installed").is_file():
        pytest.fail(
            f"the official-client venv {CLIENT_VENV.relative_to(REPO_ROOT)} is missing or "
            "incomplete: run `make test` (it installs azure-ai-textanalytics==6.0.0b3 there)",
            pytrace=False,
        )
    request = tmp_path / "request.json"
    request.write_text(
        json.dumps(
            {
                "texts": [*NER_TEXTS, ""],
                "ner": [NER, PRODUCTION],
                "single": [SINGLE, PRODUCTION],
                "multi": [MULTI, PRODUCTION],
            }
        ),
        encoding="utf-8",
    )
    env = dict(os.environ)
    for name in ("NO_PROXY", "no_proxy"):
        env[name] = ",".join(filter(None, [env.get(name), "127.0.0.1", "localhost"]))
    completed = subprocess.run(
        [str(python), str(CLIENT_SCRIPT), deployed.base_url, TEST_KEY, str(request)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env=env,
        check=False,
    )
    assert completed.returncode == 0, (
        f"analyze_text6.py exited {completed.returncode}\n"
        f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
    )
    observed: dict[str, Any] = json.loads(completed.stdout)
    return observed


def test_textanalytics_6_client_with_its_default_version(
    deployed: LiveServer, tmp_path: Path
) -> None:
    observed = run_client6(deployed, tmp_path)
    assert observed["apiVersion"] == "2026-05-15-preview"
    submit, *polls = observed["http"]
    assert (submit["method"], submit["status"]) == ("POST", 202)
    assert submit["query"] == {"api-version": ["2026-05-15-preview"]}
    assert submit["operationLocation"].startswith(f"{deployed.base_url}/language/")
    assert all(poll["status"] == 200 for poll in polls)

    result = observed["result"]
    assert result["status"] == "succeeded"
    assert result["counts"] == [4, 0, 0, 4]
    items = result["items"]
    assert [item["taskName"] for item in items] == ["ner-default", "ner-utf16", "single", "multi"]
    assert [item["type"] for item in items] == [
        "CustomEntityRecognitionOperationResult",
        "CustomEntityRecognitionOperationResult",
        "CustomSingleLabelClassificationOperationResult",
        "CustomMultiLabelClassificationOperationResult",
    ]
    expected = ner_predictor(deployed, NER, "m1").predict(NER_TEXTS)
    # 6.x sends no stringIndexType, so the service default (text elements) applies.
    for item, unit in ((items[0], "TextElements_v8"), (items[1], "Utf16CodeUnit")):
        assert (item["projectName"], item["deploymentName"]) == (NER, PRODUCTION)
        assert [d["id"] for d in item["documents"]] == ["0", "1"]
        assert [(e["id"], e["code"]) for e in item["errors"]] == [("2", "InvalidArgument")]
        for document, text, spans in zip(item["documents"], NER_TEXTS, expected, strict=True):
            assert [e["text"] for e in document["entities"]] == [
                text[s.start : s.end] for s in spans
            ]
            for entity in document["entities"]:
                assert slice_in(text, entity["offset"], entity["length"], unit) == entity["text"]
    single_expected = classification_predictor(deployed, SINGLE, "m1").predict(NER_TEXTS)
    assert [d["classes"][0]["category"] for d in items[2]["documents"]] == [
        scores[0].category for scores in single_expected
    ]
    assert all(len(d["classes"]) == 1 for d in items[2]["documents"])
    multi_expected = classification_predictor(deployed, MULTI, "m1").predict(NER_TEXTS)
    assert [[c["category"] for c in d["classes"]] for d in items[3]["documents"]] == [
        [score.category for score in scores] for scores in multi_expected
    ]

    statistics = observed["withStatistics"]
    assert statistics["jobId"] == result["jobId"]
    assert statistics["transactionsCount"] == 2
    assert [d["charactersCount"] for d in statistics["items"][0]["documents"]] == [
        len(NER_TEXTS[0]),
        len(NER_TEXTS[1]) - 4,
    ]
