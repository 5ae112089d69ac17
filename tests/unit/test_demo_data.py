"""The bundled demo projects are reproducible, well-formed and usable for training."""

from __future__ import annotations

import re
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from lexicraft.demo import generate

NER_PATH = generate.DATA_DIR / generate.NER_FILENAME
CLASSIFY_PATH = generate.DATA_DIR / generate.CLASSIFY_FILENAME

MIN_TRAIN_EXAMPLES = 10
MAX_FILE_BYTES = 300_000


def _utf16_slice(text: str, offset: int, length: int) -> str:
    # Independent of the generator's own conversion: slice the UTF-16 bytes.
    data = text.encode("utf-16-le")
    return data[2 * offset : 2 * (offset + length)].decode("utf-16-le")


def _ner_docs() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = generate.ner_project()["assets"]["documents"]
    return docs


def _classify_docs() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = generate.classify_project()["assets"]["documents"]
    return docs


@pytest.mark.parametrize(
    ("path", "build"),
    [(NER_PATH, generate.ner_project), (CLASSIFY_PATH, generate.classify_project)],
)
def test_committed_file_matches_generator(path: Path, build: Any) -> None:
    committed = path.read_text(encoding="utf-8")
    assert committed == generate.render(build()), (
        f"{path.name} is stale; run `python -m lexicraft.demo.generate`"
    )
    assert len(committed.encode("utf-8")) < MAX_FILE_BYTES


def test_generator_is_deterministic() -> None:
    assert generate.render(generate.ner_project()) == generate.render(generate.ner_project())
    assert generate.render(generate.classify_project()) == generate.render(
        generate.classify_project()
    )


def test_ner_project_header() -> None:
    project = generate.ner_project()
    assert project["projectFileVersion"] == "2022-05-01"
    assert project["stringIndexType"] == "Utf16CodeUnit"
    assert project["metadata"]["projectKind"] == "CustomEntityRecognition"
    assert project["assets"]["projectKind"] == "CustomEntityRecognition"
    assert project["metadata"]["projectName"] == "demo-ner"
    assert project["metadata"]["storageInputContainerName"] == "demo-ner"
    declared = [entity["category"] for entity in project["assets"]["entities"]]
    assert len(declared) == len(set(declared))
    used = {
        label["category"]
        for doc in project["assets"]["documents"]
        for region in doc["entities"]
        for label in region["labels"]
    }
    assert used == set(declared)


def test_ner_labels_select_intended_surfaces() -> None:
    built = generate.build_ner_documents()
    docs = _ner_docs()
    assert len(built) == len(docs)
    vocab = {
        "Person": set(generate.PERSONS),
        "Organization": set(generate.ORGANIZATIONS),
        "City": set(generate.CITIES),
        "Product": set(generate.PRODUCTS),
    }
    months = "|".join(generate.MONTHS)
    shape = {
        "Date": re.compile(rf"^(?:\w+, )?(?:{months}|\d).*\d$"),
        "Money": re.compile(r"^(?:[$€£¥]|(?:USD|EUR|CHF|GBP) )[\d.,]+(?: million)?$"),
    }
    for source, doc in zip(built, docs, strict=True):
        text = doc["text"]
        assert text == source.text
        (region,) = doc["entities"]
        assert region["regionOffset"] == 0
        assert region["regionLength"] == len(text.encode("utf-16-le")) // 2
        labels = region["labels"]
        assert len(labels) == len(source.spans)
        for label, span in zip(labels, source.spans, strict=True):
            surface = _utf16_slice(text, label["offset"], label["length"])
            assert label["category"] == span.category
            assert surface == span.surface == text[span.start : span.end]
            assert surface == surface.strip() and surface
            if span.category in vocab:
                assert surface in vocab[span.category]
            else:
                assert shape[span.category].match(surface), (span.category, surface)


def test_ner_labels_do_not_overlap() -> None:
    for doc in _ner_docs():
        for region in doc["entities"]:
            ordered = sorted(region["labels"], key=lambda label: label["offset"])
            for left, right in pairwise(ordered):
                assert left["offset"] + left["length"] <= right["offset"], doc["location"]
            for label in ordered:
                assert label["offset"] >= region["regionOffset"]
                end = label["offset"] + label["length"]
                assert end <= region["regionOffset"] + region["regionLength"]


def test_ner_exercises_utf16_and_non_ascii() -> None:
    texts = [doc["text"] for doc in _ner_docs()]
    astral = [t for t in texts if any(ord(ch) > 0xFFFF for ch in t)]
    # Offsets after an emoji differ between code points and UTF-16 units.
    assert len(astral) >= 5
    assert any("👩‍💻" in t for t in texts)
    assert any(re.search(r"[\u4e00-\u9fff]", t) for t in texts)
    assert sum(any(ord(ch) > 0x7F for ch in t) for t in texts) >= 30
    shifted = [
        (label["offset"], span.start)
        for source, doc in zip(generate.build_ner_documents(), _ner_docs(), strict=True)
        for label, span in zip(doc["entities"][0]["labels"], source.spans, strict=True)
        if label["offset"] != span.start
    ]
    assert shifted, "no label offset differs between UTF-16 units and code points"


def test_ner_split_and_coverage() -> None:
    docs = _ner_docs()
    splits = Counter(doc["dataset"] for doc in docs)
    assert set(splits) == {"Train", "Test"}
    assert 0.15 <= splits["Test"] / len(docs) <= 0.25
    assert len({doc["location"] for doc in docs}) == len(docs)
    train_counts: Counter[str] = Counter()
    test_counts: Counter[str] = Counter()
    for doc in docs:
        counts = train_counts if doc["dataset"] == "Train" else test_counts
        for region in doc["entities"]:
            counts.update(label["category"] for label in region["labels"])
    for category in generate.ENTITY_CATEGORIES:
        assert train_counts[category] >= MIN_TRAIN_EXAMPLES, category
        assert test_counts[category] >= 1, category


def test_classify_project_shape_split_and_coverage() -> None:
    project = generate.classify_project()
    assert project["projectFileVersion"] == "2022-05-01"
    assert project["stringIndexType"] == "Utf16CodeUnit"
    assert project["metadata"]["projectKind"] == "CustomSingleLabelClassification"
    assert project["assets"]["projectKind"] == "CustomSingleLabelClassification"
    assert project["metadata"]["storageInputContainerName"] == "demo-classify"
    classes = [c["category"] for c in project["assets"]["classes"]]
    assert 5 <= len(classes) == len(set(classes))
    docs = _classify_docs()
    assert len({doc["location"] for doc in docs}) == len(docs)
    splits = Counter(doc["dataset"] for doc in docs)
    assert set(splits) == {"Train", "Test"}
    assert 0.15 <= splits["Test"] / len(docs) <= 0.25
    train = Counter(d["class"]["category"] for d in docs if d["dataset"] == "Train")
    test = Counter(d["class"]["category"] for d in docs if d["dataset"] == "Test")
    for category in classes:
        assert train[category] >= MIN_TRAIN_EXAMPLES, category
        assert test[category] >= 1, category
    assert set(train) | set(test) == set(classes)
    for doc in docs:
        assert doc["text"] == doc["text"].strip() and doc["text"]
        assert doc["language"] == "en-us"


def test_ner_holds_out_surfaces_for_test() -> None:
    held_out = generate.held_out_surfaces()
    assert all(held_out.values())
    seen_in_test: set[str] = set()
    for doc in generate.build_ner_documents():
        for span in doc.spans:
            if span.surface in held_out.get(span.category, frozenset()):
                assert doc.dataset == "Test", (doc.location, span.surface)
                seen_in_test.add(span.surface)
    # Test must actually contain unseen surfaces, otherwise it measures recall only.
    assert len(seen_in_test) >= 5
