"""A small conversation (CLU) project file for the Studio's tests: 30 utterances, three intents
(BookFlight, GetWeather, None), a learned-and-list entity ``City`` and a regex entity
``FlightNumber``; UTF-16 offsets as Azure's files count them."""

from __future__ import annotations

from typing import Any

CONVERSATIONS = "/language/authoring/analyze-conversations/projects"

_CITIES = ["Paris", "London", "Berlin", "Madrid", "Rome", "Vienna", "Oslo", "Lisbon"]
_FLIGHTS = [
    "book a flight to {city}",
    "I need a plane ticket to {city}",
    "fly me to {city} tomorrow",
    "reserve a seat on a flight to {city}",
    "get me a flight to {city} please",
]
_WEATHER = [
    "what is the weather in {city}",
    "will it rain in {city} today",
    "how cold is it in {city}",
    "weather forecast for {city}",
    "is it sunny in {city}",
]
_NONE = [
    "tell me a joke",
    "who won the game last night",
    "play some music",
    "what is your name",
    "thank you very much",
    "open the garage door",
]


def utf16_span(text: str, surface: str) -> tuple[int, int]:
    """UTF-16 offset and length of the first ``surface`` in ``text``."""
    start = len(text[: text.index(surface)].encode("utf-16-le")) // 2
    return start, len(surface.encode("utf-16-le")) // 2


def _utterance(template: str, intent: str, city: str | None, dataset: str) -> dict[str, Any]:
    text = template.format(city=city) if city else template
    entities = []
    if city:
        offset, length = utf16_span(text, city)
        entities.append({"category": "City", "offset": offset, "length": length})
    return {"text": text, "intent": intent, "dataset": dataset, "entities": entities}


def clu_project_file(name: str) -> dict[str, Any]:
    """The project file (30 utterances: 25 Train, 5 Test)."""
    utterances = []
    for index in range(12):
        dataset = "Test" if index % 6 == 5 else "Train"
        city = _CITIES[index % len(_CITIES)]
        utterances.append(_utterance(_FLIGHTS[index % 5], "BookFlight", city, dataset))
        utterances.append(_utterance(_WEATHER[index % 5], "GetWeather", city, dataset))
    for index, text in enumerate(_NONE):
        utterances.append(_utterance(text, "None", None, "Test" if index == 5 else "Train"))
    return {
        "projectFileVersion": "2023-04-01",
        "stringIndexType": "Utf16CodeUnit",
        "metadata": {
            "projectKind": "Conversation",
            "projectName": name,
            "language": "en-us",
            "multilingual": False,
            "description": "Studio test project",
            "settings": {"confidenceThreshold": 0.0},
        },
        "assets": {
            "projectKind": "Conversation",
            "intents": [
                {"category": "BookFlight"},
                {"category": "GetWeather"},
                {"category": "None"},
            ],
            "entities": [
                {
                    "category": "City",
                    "compositionSetting": "combineComponents",
                    "list": {
                        "sublists": [
                            {
                                "listKey": "paris",
                                "synonyms": [
                                    {"language": "en-us", "values": ["Paris", "City of Light"]}
                                ],
                            },
                            {
                                "listKey": "london",
                                "synonyms": [{"language": "en-us", "values": ["London"]}],
                            },
                        ]
                    },
                },
                {
                    "category": "FlightNumber",
                    "compositionSetting": "combineComponents",
                    "regex": {
                        "expressions": [
                            {
                                "regexKey": "code",
                                "language": "en-us",
                                "regexPattern": "[A-Z]{2}\\d{3,4}",
                            }
                        ]
                    },
                },
            ],
            "utterances": utterances,
        },
    }
