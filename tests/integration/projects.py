"""Small project files of our own for tests: multi-label texts and a Unicode-heavy NER set."""

from __future__ import annotations

import random
from typing import Any

TOPICS: dict[str, list[str]] = {
    "Battery": [
        "the battery drains overnight", "it will not hold a charge", "battery life is awful",
        "the charger gets hot and the battery swells", "power drops to zero after an hour",
    ],
    "Screen": [
        "the screen flickers", "there is a dead pixel on the display", "the touch screen ignores taps",
        "display brightness is stuck on low", "the screen cracked on its own",
    ],
    "Delivery": [
        "the parcel arrived two weeks late", "the courier left it in the rain",
        "tracking says delivered but nothing came", "the box was crushed in transit",
        "shipping took forever",
    ],
    "Price": [
        "it is far too expensive", "I was charged twice", "the discount code did not apply",
        "the price went up after I ordered", "I want a refund of the difference",
    ],
}  # fmt: skip


def multi_label_project_file(name: str, documents: int = 80, seed: int = 7) -> dict[str, Any]:
    """A multi-label project: each review mentions one or two topics; 1 in 5 is Test."""
    rng = random.Random(seed)
    topics = sorted(TOPICS)
    docs = []
    for index in range(documents):
        chosen = sorted(rng.sample(topics, rng.choice([1, 1, 2])))
        sentences = [rng.choice(TOPICS[topic]) for topic in chosen]
        text = "Review: " + " and ".join(sentences) + "."
        docs.append(
            {
                "location": f"review-{index:03d}.txt",
                "language": "en-us",
                "dataset": "Test" if index % 5 == 0 else "Train",
                "text": text,
                "classes": [{"category": topic} for topic in chosen],
            }
        )
    return {
        "projectFileVersion": "2022-05-01",
        "stringIndexType": "Utf16CodeUnit",
        "metadata": {
            "projectKind": "CustomMultiLabelClassification",
            "storageInputContainerName": name,
            "projectName": name,
            "multilingual": False,
            "description": "product reviews",
            "language": "en-us",
            "settings": {},
        },
        "assets": {
            "projectKind": "CustomMultiLabelClassification",
            "classes": [{"category": topic} for topic in topics],
            "documents": docs,
        },
    }


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def labelled(text: str, entities: list[tuple[str, str]]) -> dict[str, Any]:
    """An NER region over ``text`` labelling each (surface, category) at its first occurrence."""
    labels = []
    for surface, category in entities:
        start = text.index(surface)
        labels.append(
            {
                "category": category,
                "offset": utf16_length(text[:start]),
                "length": utf16_length(surface),
            }
        )
    return {"regionOffset": 0, "regionLength": utf16_length(text), "labels": labels}


UNICODE_TEXTS: list[tuple[str, list[tuple[str, str]]]] = [
    ("🎉👩‍💻 Zoë Brontë met 山田太郎 in Kraków.", [("Zoë Brontë", "Person"), ("山田太郎", "Person"), ("Kraków", "City")]),
    ("Cafe\u0301 owner José Álvarez 🇪🇸 flew to 東京.", [("José Álvarez", "Person"), ("東京", "City")]),
    ("שלום from Tel Aviv 👋🏽 said Noa Levi.", [("Tel Aviv", "City"), ("Noa Levi", "Person")]),
    ("Łukasz Żuławski 💰 visited Zürich 🏔️ yesterday.", [("Łukasz Żuławski", "Person"), ("Zürich", "City")]),
    ("Line one 😀\r\nAmélie Poulain lives in Montréal.\r\n", [("Amélie Poulain", "Person"), ("Montréal", "City")]),
]  # fmt: skip


def unicode_ner_project_file(name: str) -> dict[str, Any]:
    """NER documents with emoji (ZWJ, flags, skin tones), combining marks, CJK and RTL."""
    documents = [
        {
            "location": f"u{index}.txt",
            "language": "en-us",
            "dataset": "Train",
            "text": text,
            "entities": [labelled(text, entities)],
        }
        for index, (text, entities) in enumerate(UNICODE_TEXTS)
    ]
    return {
        "projectFileVersion": "2022-05-01",
        "stringIndexType": "Utf16CodeUnit",
        "metadata": {
            "projectKind": "CustomEntityRecognition",
            "storageInputContainerName": name,
            "projectName": name,
            "multilingual": True,
            "description": "unicode",
            "language": "en-us",
            "settings": {},
        },
        "assets": {
            "projectKind": "CustomEntityRecognition",
            "entities": [{"category": "Person"}, {"category": "City"}],
            "documents": documents,
        },
    }
