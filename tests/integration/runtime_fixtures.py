"""Deployed models and request helpers shared by the runtime test modules.

The runtime projects are trained once per test session and database kind into a template data
dir; each module runs its servers on a copy of it (the storage folder and the database, a
SQLite file or a PostgreSQL database, are copied, so every module owns its jobs and
deployments). The multi-label project is built here from invented sentences.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
import regex
from sqlalchemy import select

from lexicraft.ml import registry
from lexicraft.ml.base import ClassificationPredictor, NerPredictor
from lexicraft.settings import Settings
from lexicraft.storage.artifacts.local import LocalModelStore
from lexicraft.storage.sql.engine import make_engine
from lexicraft.storage.sql.tables import ProjectRow, TrainedModelRow
from tests.integration.databases import Databases
from tests.integration.server import API_VERSION, LiveServer, demo_project_file

JOBS = "/language/analyze-text/jobs"
NER = "rt-ner"
SINGLE = "rt-single"
MULTI = "rt-multi"
PRODUCTION = "production"
STAGING = "staging"

# A sentence the demo NER model gets right: names and a city from its training vocabulary.
NER_TEXT = "Marcus Bell met Fran\u00e7ois Dubois in Vienna on 2024-06-01."

_TOPICS: dict[str, list[str]] = {
    "Food": [
        "The chef served a spicy curry with fresh bread.",
        "We baked a chocolate cake for dessert.",
        "This restaurant has the best pasta and pizza.",
        "She ordered grilled salmon and a green salad.",
        "The soup needed more salt and pepper.",
        "Breakfast was pancakes with maple syrup.",
        "Our dinner menu includes roasted vegetables.",
        "He cooked noodles with garlic and ginger.",
    ],
    "Travel": [
        "Our flight to Lisbon was delayed by two hours.",
        "The hotel room had a view of the harbour.",
        "Remember to pack your passport and luggage.",
        "We took the night train across the border.",
        "The airport shuttle leaves every twenty minutes.",
        "They booked a cabin on the ferry to the island.",
        "Our tour guide showed us the old town.",
        "Check-in at the hostel opens at noon.",
    ],
    "Sports": [
        "The striker scored a goal in the final minute.",
        "She finished the marathon in under four hours.",
        "The tennis match went to a fifth set.",
        "Our coach planned extra training before the league game.",
        "The team won the championship after a penalty shootout.",
        "He swims laps in the pool every morning.",
        "The cyclists climbed the mountain stage in heavy rain.",
        "Fans cheered as the referee blew the whistle.",
    ],
}
_COMBINATIONS = [
    ("Food",), ("Travel",), ("Sports",),
    ("Food", "Travel"), ("Food", "Sports"), ("Travel", "Sports"),
]  # fmt: skip

#: Texts whose classes the multi-label model must find, with those classes.
MULTI_CASES = [
    ("The chef cooked noodles with garlic before our flight to Lisbon.", {"Food", "Travel"}),
    ("The tennis match went to a fifth set and the referee blew the whistle.", {"Sports"}),
    (
        "The cyclists climbed the mountain stage; later we ate pasta and pizza at a restaurant.",
        {"Food", "Sports"},
    ),
]


def multi_label_project_file(project_name: str) -> dict[str, Any]:
    """A small multi-label project (Food / Travel / Sports) of invented sentences."""
    rng = random.Random(7)
    documents = []
    for index in range(72):
        classes = _COMBINATIONS[index % len(_COMBINATIONS)]
        sentences = [rng.choice(_TOPICS[name]) for name in classes]
        rng.shuffle(sentences)
        documents.append(
            {
                "location": f"doc-{index:03d}.txt",
                "language": "en-us",
                "dataset": "Test" if index % 12 == 11 else "Train",
                "text": " ".join(sentences),
                "classes": [{"category": name} for name in classes],
            }
        )
    return {
        "projectFileVersion": "2022-05-01",
        "stringIndexType": "Utf16CodeUnit",
        "metadata": {
            "projectKind": "CustomMultiLabelClassification",
            "storageInputContainerName": project_name,
            "projectName": project_name,
            "multilingual": False,
            "description": "Invented multi-label test project.",
            "language": "en-us",
        },
        "assets": {
            "projectKind": "CustomMultiLabelClassification",
            "classes": [{"category": name} for name in _TOPICS],
            "documents": documents,
        },
    }


def deploy_runtime_projects(server: LiveServer, *, staging: bool = True) -> None:
    """NER (production, and staging with another model), single- and multi-label projects."""
    server.import_project(NER, demo_project_file("demo-ner", NER))
    server.train(NER, "m1")
    server.deploy(NER, PRODUCTION, "m1")
    if staging:
        server.train(NER, "m2", manual=False)
        server.deploy(NER, STAGING, "m2")
    server.import_project(SINGLE, demo_project_file("demo-classify", SINGLE))
    server.train(SINGLE, "m1")
    server.deploy(SINGLE, PRODUCTION, "m1")
    server.import_project(MULTI, multi_label_project_file(MULTI))
    server.train(MULTI, "m1")
    server.deploy(MULTI, PRODUCTION, "m1")


class RuntimeTemplates:
    """The runtime projects, trained on first use into a template data dir and database.

    A copy's ``models`` folder is a link to the template's, which lives as long as the
    session: copies share the trained files (model rows name them by key) and nothing else.
    """

    def __init__(self, factory: pytest.TempPathFactory, databases: Databases) -> None:
        self._factory = factory
        self._databases = databases
        self._template: Path | None = None

    def copy_to(self, databases: Databases, target: Path) -> Path:
        """Copy the trained data dir, with its database, to ``target`` in ``databases``."""
        assert databases.kind == self._databases.kind
        if self._template is None:
            template = self._factory.mktemp(f"runtime-template-{databases.kind}")
            with self._databases.serve(template) as server:
                deploy_runtime_projects(server)
            self._template = template
        databases.copy(
            self._template,
            target,
            source_databases=self._databases,
            ignore=shutil.ignore_patterns("models"),
        )
        (target / "models").symlink_to(self._template / "models", target_is_directory=True)
        return target

    def __enter__(self) -> RuntimeTemplates:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._databases.close()


def artifact_dir(settings: Settings, project: str, label: str) -> Path:
    """The folder of trained model ``label`` of ``project``, where its model row says."""
    engine = make_engine(settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                select(TrainedModelRow.artifact_dir)
                .join(ProjectRow, ProjectRow.id == TrainedModelRow.project_id)
                .where(ProjectRow.name == project, TrainedModelRow.label == label)
            ).scalar_one()
    finally:
        engine.dispose()
    return LocalModelStore(settings.models_dir).local_dir(found)


def model_dir(server: LiveServer, project: str, label: str) -> Path:
    """The artifact folder of trained model ``label`` that ``server`` serves."""
    return artifact_dir(server.settings, project, label)


def ner_predictor(server: LiveServer, project: str, label: str) -> NerPredictor:
    """The same model the server serves, loaded in the test process."""
    return registry.load_ner_predictor(model_dir(server, project, label))


def classification_predictor(
    server: LiveServer, project: str, label: str
) -> ClassificationPredictor:
    """The same classification model the server serves, loaded in the test process."""
    return registry.load_classification_predictor(model_dir(server, project, label))


def task(
    kind: str, project: str, deployment: str, name: str | None = None, **parameters: Any
) -> dict[str, Any]:
    """A Language API task."""
    body: dict[str, Any] = {
        "kind": kind,
        "parameters": {"projectName": project, "deploymentName": deployment, **parameters},
    }
    if name is not None:
        body["taskName"] = name
    return body


def documents(*texts: str) -> dict[str, Any]:
    """``analysisInput`` with ids "1", "2", …"""
    return {
        "documents": [
            {"id": str(index), "language": "en", "text": text}
            for index, text in enumerate(texts, start=1)
        ]
    }


def submit(
    server: LiveServer, body: Any, version: str = API_VERSION, **kwargs: Any
) -> httpx.Response:
    """POST an analyze job (raw JSON body when ``body`` is bytes)."""
    if isinstance(body, bytes):
        kwargs["content"] = body
        kwargs.setdefault("headers", {"Content-Type": "application/json"})
    else:
        kwargs["json"] = body
    return server.client.post(JOBS, params={"api-version": version}, **kwargs)


def run_analysis(server: LiveServer, body: Any, version: str = API_VERSION) -> dict[str, Any]:
    """Submit a job, wait for it and return its final state."""
    response = submit(server, body, version)
    assert response.status_code == 202, response.text
    return server.wait_job(response.headers["Operation-Location"])


def text_elements(text: str) -> list[str]:
    """``text`` split into extended grapheme clusters (an independent count)."""
    return regex.findall(r"\X", text)


def slice_in(text: str, offset: int, length: int, unit: str) -> str:
    """The substring ``offset``/``length`` select, counted in ``unit``."""
    if unit == "UnicodeCodePoint":
        return text[offset : offset + length]
    if unit == "Utf16CodeUnit":
        return text.encode("utf-16-le")[2 * offset : 2 * (offset + length)].decode("utf-16-le")
    return "".join(text_elements(text)[offset : offset + length])


def error_of(response: httpx.Response) -> tuple[int, str, str | None]:
    """(status, error.code, innererror.code) of an error response."""
    error = response.json()["error"]
    inner = error.get("innererror") or {}
    return response.status_code, error["code"], inner.get("code")
