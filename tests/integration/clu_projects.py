"""A small conversation (CLU) project built in code, and helpers for its authoring API."""

from __future__ import annotations

import copy
from typing import Any

from tests.integration.projects import labelled
from tests.integration.server import API_VERSION, FAST, LiveServer

CLU = "/language/authoring/analyze-conversations/projects"
V = {"api-version": API_VERSION}

#: (intent, text, [(surface, entity)]): 14 utterances per intent; every 5th is Test.
_UTTERANCES: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {
    "SendEmail": [
        ("email Carol about the budget", [("Carol", "Contact")]),
        ("send an email to Bob", [("Bob", "Contact")]),
        ("write a mail to Alice saying hi", [("Alice", "Contact")]),
        ("📧 email Dave right now", [("Dave", "Contact")]),
        ("compose an email for Erin", [("Erin", "Contact")]),
        ("mail Frank the report", [("Frank", "Contact")]),
        ("send Grace an email about lunch", [("Grace", "Contact")]),
        ("email Heidi the minutes 😀", [("Heidi", "Contact")]),
        ("please email Ivan", [("Ivan", "Contact")]),
        ("shoot Judy an email", [("Judy", "Contact")]),
        ("draft an email to Carol", [("Carol", "Contact")]),
        ("send a quick email to Bob", [("Bob", "Contact")]),
        ("email Alice and say thanks", [("Alice", "Contact")]),
        ("new email to Dave", [("Dave", "Contact")]),
    ],
    "BookFlight": [
        ("book a flight to Paris", [("Paris", "City")]),
        ("I need a flight to Zürich tomorrow", [("Zürich", "City")]),
        ("fly me to Tokyo", [("Tokyo", "City")]),
        ("find flights to Berlin on Friday", [("Berlin", "City")]),
        ("book me on a plane to Oslo", [("Oslo", "City")]),
        ("✈️ flight to Rome please", [("Rome", "City")]),
        ("get a ticket to Madrid", [("Madrid", "City")]),
        ("reserve a flight to Lisbon", [("Lisbon", "City")]),
        ("I want to fly to Vienna", [("Vienna", "City")]),
        ("flights to Prague next week", [("Prague", "City")]),
        ("book a flight to Dublin", [("Dublin", "City")]),
        ("plane tickets to Paris for two", [("Paris", "City")]),
        ("fly to Tokyo on Monday", [("Tokyo", "City")]),
        ("a flight to Berlin tonight", [("Berlin", "City")]),
    ],
    "CheckWeather": [
        ("what is the weather in Paris", [("Paris", "City")]),
        ("will it rain tomorrow", []),
        ("weather forecast for Oslo", [("Oslo", "City")]),
        ("is it sunny outside", []),
        ("how cold is it in Vienna", [("Vienna", "City")]),
        ("temperature in Rome today", [("Rome", "City")]),
        ("do I need an umbrella", []),
        ("weather this weekend", []),
        ("is it snowing in Prague", [("Prague", "City")]),
        ("forecast for tomorrow morning", []),
        ("how hot will it be", []),
        ("weather report please ☔", []),
        ("will it be windy in Dublin", [("Dublin", "City")]),
        ("is the weather nice today", []),
    ],
}


def _utterance(intent: str, text: str, labels: list[tuple[str, str]], test: bool) -> dict[str, Any]:
    return {
        "text": text,
        "intent": intent,
        "language": "en-us",
        "dataset": "Test" if test else "Train",
        "entities": labelled(text, labels)["labels"],
    }


def clu_project_file(name: str) -> dict[str, Any]:
    """42 utterances of 3 intents (``None`` listed too), 2 entities with components."""
    utterances = [
        _utterance(intent, text, labels, index % 5 == 4)
        for intent, items in _UTTERANCES.items()
        for index, (text, labels) in enumerate(items)
    ]
    return {
        "projectFileVersion": "2023-04-01",
        "stringIndexType": "Utf16CodeUnit",
        "metadata": {
            "projectKind": "Conversation",
            "projectName": name,
            "multilingual": False,
            "description": "email, flights and weather",
            "language": "en-us",
            "settings": {"confidenceThreshold": 0.2},
        },
        "assets": {
            "projectKind": "Conversation",
            "intents": [{"category": intent} for intent in ("None", *_UTTERANCES)],
            "entities": [
                {
                    "category": "Contact",
                    "compositionSetting": "combineComponents",
                    "list": {
                        "sublists": [
                            {
                                "listKey": "carol",
                                "synonyms": [{"language": "en-us", "values": ["Carol", "Caz"]}],
                            }
                        ]
                    },
                    "prebuilts": [{"category": "Person.Name"}],
                },
                {
                    "category": "City",
                    "compositionSetting": "returnLongestOverlap",
                    "regex": {
                        "expressions": [
                            {"regexKey": "zip", "language": "en-us", "regexPattern": "[0-9]{4}"}
                        ]
                    },
                    "requiredComponents": ["learned"],
                },
            ],
            "utterances": utterances,
        },
    }


def changed(project_file: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``project_file`` with the value at dotted ``path`` (``a.b[2].c``) replaced;
    ``value`` is a function of the old value when callable."""
    copied = copy.deepcopy(project_file)
    parts: list[str | int] = []
    for part in path.split("."):
        name, _, rest = part.partition("[")
        parts.append(name)
        for index in rest.rstrip("]").split("]["):
            if index:
                parts.append(int(index))
    holder: Any = copied
    for part in parts[:-1]:
        holder = holder[part]
    holder[parts[-1]] = value(holder[parts[-1]]) if callable(value) else value
    return copied


def clu_import(server: LiveServer, name: str, body: Any, **params: str) -> dict[str, Any]:
    """Import ``body`` as conversation project ``name`` and wait; asserts success."""
    return server.run_job("POST", f"{CLU}/{name}/:import", params={**V, **params}, json=body)


def clu_train(server: LiveServer, name: str, label: str, **body: Any) -> dict[str, Any]:
    """Train ``label`` with the fast config on the manual split and wait; asserts success."""
    return server.run_job(
        "POST",
        f"{CLU}/{name}/:train",
        params=V,
        json={
            "modelLabel": label,
            "trainingMode": "standard",
            "trainingConfigVersion": FAST,
            "evaluationOptions": {"kind": "manual"},
            **body,
        },
    )


def clu_export(server: LiveServer, name: str) -> dict[str, Any]:
    """The project file an export job of ``name`` produces."""
    job = server.run_job(
        "POST", f"{CLU}/{name}/:export", params={**V, "stringIndexType": "Utf16CodeUnit"}
    )
    response = server.client.get(job["resultUrl"])
    assert response.status_code == 200, response.text
    exported: dict[str, Any] = response.json()
    return exported
