"""A small Conversation (CLU) project file for the SDK tests: 40 utterances, three intents.

Utterances are written with inline labels (``"fly to [Paris](City)"``) and turned into the
Azure project file (spec CLU §2.4), whose label offsets count UTF-16 code units. ``City`` is
learned (labelled) and has a list component; ``Airline`` is a list component only, with a
synonym holding a combining mark; ``FlightNumber`` is a regex component only;
``Passengers`` is the prebuilt ``Quantity.Number`` only.
"""

from __future__ import annotations

import re
from typing import Any

LANGUAGE = "en-us"
_LABEL = re.compile(r"\[([^\]]+)\]\(([A-Za-z]+)\)")

BOOK = [
    "book a flight to [Paris](City)",
    "I need a plane ticket to [London](City) next week",
    "fly me from [Berlin](City) to [Madrid](City)",
    "reserve a seat on a flight to [Tokyo](City)",
    "get me a ticket to [Rome](City) on Friday",
    "book two tickets from [Vienna](City) to [Lisbon](City)",
    "I want to fly to [Oslo](City) tomorrow morning",
    "find me a flight to [Dublin](City)",
    "can you book a flight from [Prague](City)",
    "a one way ticket to [Zu\u0308rich](City) please",
    "book the cheapest flight to [Athens](City)",
    "schedule a flight to [Warsaw](City) for Monday",
    "I'd like to fly to [Helsinki](City) \U0001f6eb",
    "get a return flight to [Brussels](City)",
    "buy a plane ticket to [Stockholm](City)",
]
WEATHER = [
    "what's the weather in [Paris](City)",
    "will it rain in [London](City) tomorrow",
    "how hot is it in [Madrid](City) today",
    "weather forecast for [Berlin](City)",
    "is it snowing in [Oslo](City)",
    "tell me the temperature in [Rome](City)",
    "do I need an umbrella in [Dublin](City)",
    "how cold will it be in [Helsinki](City) tonight",
    "what is the forecast for [Vienna](City) this weekend",
    "is it sunny in [Lisbon](City) \u2600\ufe0f",
    "weather in [Zu\u0308rich](City) on Sunday",
    "will there be storms in [Athens](City)",
    "what's the humidity in [Prague](City)",
    "check the weather for [Tokyo](City)",
    "how windy is it in [Brussels](City)",
]
NONE = [
    "tell me a joke",
    "what's your name",
    "play some music",
    "set an alarm for seven",
    "how do I reset my password",
    "who won the football match",
    "order a pizza",
    "turn off the lights",
    "what time is it",
    "read my last email",
]


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utterance(marked: str, intent: str) -> dict[str, Any]:
    """``marked`` (with inline labels) as a project-file utterance (UTF-16 offsets)."""
    text, entities, last = "", [], 0
    for match in _LABEL.finditer(marked):
        text += marked[last : match.start()]
        covered, category = match.group(1), match.group(2)
        entities.append({"category": category, "offset": _utf16(text), "length": _utf16(covered)})
        text += covered
        last = match.end()
    text += marked[last:]
    return {"text": text, "intent": intent, "language": LANGUAGE, "entities": entities}


#: Airline list items: key → synonyms. "Ko\u0308ln Air" is 9 code points, 8 text elements.
AIRLINES = {
    "koelnair": ["Ko\u0308ln Air", "K\u00f6ln Air"],
    "lufthansa": ["Lufthansa"],
}
FLIGHT_NUMBER_PATTERN = r"\b[A-Z]{2}\d{3,4}\b"


def project_file(name: str, confidence_threshold: float = 0.0) -> dict[str, Any]:
    """The Azure project file (format ``Conversation``) of project ``name``."""
    utterances = [
        *(utterance(text, "BookFlight") for text in BOOK),
        *(utterance(text, "CheckWeather") for text in WEATHER),
        *(utterance(text, "None") for text in NONE),
    ]
    return {
        "projectFileVersion": "2023-04-01",
        "stringIndexType": "Utf16CodeUnit",
        "metadata": {
            "projectKind": "Conversation",
            "projectName": name,
            "language": LANGUAGE,
            "multilingual": False,
            "description": "Flights and weather (Lexicraft SDK tests)",
            "settings": {"confidenceThreshold": confidence_threshold},
        },
        "assets": {
            "projectKind": "Conversation",
            "intents": [{"category": c} for c in ("BookFlight", "CheckWeather", "None")],
            "entities": [
                {
                    "category": "City",
                    "compositionSetting": "combineComponents",
                    "list": {
                        "sublists": [
                            {
                                "listKey": "zurich",
                                "synonyms": [
                                    {"language": LANGUAGE, "values": ["Zu\u0308rich", "Zurich"]}
                                ],
                            }
                        ]
                    },
                },
                {
                    "category": "Airline",
                    "compositionSetting": "combineComponents",
                    "list": {
                        "sublists": [
                            {"listKey": key, "synonyms": [{"language": LANGUAGE, "values": words}]}
                            for key, words in AIRLINES.items()
                        ]
                    },
                },
                {
                    "category": "FlightNumber",
                    "compositionSetting": "combineComponents",
                    "regex": {
                        "expressions": [
                            {
                                "regexKey": "iata",
                                "language": LANGUAGE,
                                "regexPattern": FLIGHT_NUMBER_PATTERN,
                            }
                        ]
                    },
                },
                {"category": "Passengers", "prebuilts": [{"category": "Quantity.Number"}]},
            ],
            "utterances": utterances,
        },
    }
