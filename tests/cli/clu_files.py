"""Small conversation (CLU) files for the CLI tests: a CLU project file and a LUIS app.

``travel_project_file`` has 30 utterances of 3 intents (every 5th in the Test set), ``City``
learned from labels and ``Airline`` a list entity only (its sublists' ``listKey`` is what
``predict`` reports). Label offsets count UTF-16 code units, as project files do; one
utterance holds an emoji so that the count differs from code points.
"""

from __future__ import annotations

from typing import Any

#: (intent, text, cities labelled in it)
_UTTERANCES: dict[str, list[tuple[str, list[str]]]] = {
    "BookFlight": [
        ("book a flight to Paris", ["Paris"]),
        ("fly me to Tokyo with KLM", ["Tokyo"]),
        ("I need a plane ticket to Oslo", ["Oslo"]),
        ("✈️ book me on a flight to Rome", ["Rome"]),
        ("reserve a seat to Madrid on Lufthansa", ["Madrid"]),
        ("get me a flight to Berlin", ["Berlin"]),
        ("book two tickets to Vienna", ["Vienna"]),
        ("find a flight to Dublin with LH", ["Dublin"]),
        ("book the cheapest flight to Prague", ["Prague"]),
        ("I want to fly to Lisbon", ["Lisbon"]),
    ],
    "CheckWeather": [
        ("what is the weather in Paris", ["Paris"]),
        ("will it rain in Tokyo tomorrow", ["Tokyo"]),
        ("weather forecast for Oslo", ["Oslo"]),
        ("how cold is it in Rome", ["Rome"]),
        ("is it sunny in Madrid today", ["Madrid"]),
        ("do I need an umbrella in Berlin", ["Berlin"]),
        ("is it snowing in Vienna", ["Vienna"]),
        ("temperature in Dublin tonight", ["Dublin"]),
        ("how windy is it in Prague", ["Prague"]),
        ("what's the forecast for Lisbon", ["Lisbon"]),
    ],
    "SendEmail": [
        ("send an email to Carol", []),
        ("email Bob about the budget", []),
        ("write a mail to Alice saying hi", []),
        ("compose an email for Erin", []),
        ("mail Frank the report", []),
        ("send Grace an email about lunch", []),
        ("please email Ivan the minutes", []),
        ("shoot Judy a quick email", []),
        ("draft an email to Dave", []),
        ("new email to Heidi", []),
    ],
}

AIRLINE_LIST = {
    "sublists": [
        {
            "listKey": "lufthansa",
            "synonyms": [{"language": "en-us", "values": ["Lufthansa", "LH"]}],
        },
        {"listKey": "klm", "synonyms": [{"language": "en-us", "values": ["KLM", "Royal Dutch"]}]},
    ]
}


def utf16_length(text: str) -> int:
    """``text``'s length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _utterance(intent: str, text: str, cities: list[str], test: bool) -> dict[str, Any]:
    entities = []
    for city in cities:
        start = text.index(city)
        entities.append(
            {"category": "City", "offset": utf16_length(text[:start]), "length": len(city)}
        )
    return {
        "text": text,
        "language": "en-us",
        "intent": intent,
        "entities": entities,
        "dataset": "Test" if test else "Train",
    }


def travel_project_file(name: str = "travel") -> dict[str, Any]:
    """The CLU project file: 30 utterances, intents None + 3, entities City and Airline."""
    return {
        "projectFileVersion": "2023-04-01",
        "stringIndexType": "Utf16CodeUnit",
        "metadata": {
            "projectKind": "Conversation",
            "projectName": name,
            "multilingual": False,
            "description": "flights, weather and email",
            "language": "en-us",
            "settings": {"confidenceThreshold": 0.0},
        },
        "assets": {
            "projectKind": "Conversation",
            "intents": [{"category": intent} for intent in ("None", *_UTTERANCES)],
            "entities": [
                {"category": "City", "compositionSetting": "combineComponents"},
                {
                    "category": "Airline",
                    "compositionSetting": "combineComponents",
                    "list": AIRLINE_LIST,
                },
            ],
            "utterances": [
                _utterance(intent, text, cities, index % 5 == 4)
                for intent, items in _UTTERANCES.items()
                for index, (text, cities) in enumerate(items)
            ],
        },
    }


def luis_app(schema_version: str = "7.0.0") -> dict[str, Any]:
    """A small LUIS app export: two intents besides None, a machine-learned entity, a closed
    list, a phrase list and a pattern (the last two have no CLU equivalent)."""
    greetings = ["hi ann", "hello bob", "hey carol", "good morning dave", "hi there erin"]
    farewells = ["bye ann", "goodbye bob", "see you carol", "bye for now dave", "later erin"]
    utterances = []
    for intent, texts in (("Greet", greetings), ("Farewell", farewells)):
        for text in texts:
            name = text.split()[-1]
            start = text.index(name)
            utterances.append(
                {
                    "text": text,
                    "intent": intent,
                    "entities": [
                        {"entity": "Person", "startPos": start, "endPos": start + len(name) - 1}
                    ],
                }
            )
    utterances += [
        {"text": text, "intent": "None", "entities": []}
        for text in ("what time is it", "order a pizza", "play some music")
    ]
    return {
        "luis_schema_version": schema_version,
        "versionId": "0.1",
        "name": "Greetings",
        "desc": "greetings and farewells",
        "culture": "en-us",
        "intents": [{"name": "None"}, {"name": "Greet"}, {"name": "Farewell"}],
        "entities": [{"name": "Person", "roles": [], "children": [], "features": []}],
        "closedLists": [
            {
                "name": "Mood",
                "subLists": [
                    {"canonicalForm": "happy", "list": ["glad", "cheerful"]},
                    {"canonicalForm": "sad", "list": ["down"]},
                ],
                "roles": [],
            }
        ],
        "regex_entities": [],
        "prebuiltEntities": [],
        "composites": [],
        "patternAnyEntities": [],
        "phraselists": [{"name": "Hellos", "words": "hi,hello", "mode": True, "activated": True}],
        "patterns": [{"pattern": "hello {Person}", "intent": "Greet"}],
        "utterances": utterances,
    }
