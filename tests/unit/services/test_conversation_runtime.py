"""``:analyze-conversations`` as a use case: the utterance's limits, the intents listed,
the threshold, the per-run cache of entity components, and which project a run answers with."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from lexicraft.bootstrap import open_context
from lexicraft.domain.conversations import ConversationAssets
from lexicraft.domain.training import EvaluationOptions, TrainingRequest
from lexicraft.errors import InvalidUtterance
from lexicraft.ml.base import ClassScore
from lexicraft.ml.components import EntityResolver
from lexicraft.services import conversations, deployments, training
from lexicraft.services.context import ServiceContext
from lexicraft.services.conversation_runtime import (
    ConversationQuery,
    analyze_conversation,
    apply_threshold,
    check_text,
    rank_intents,
)
from lexicraft.services.conversations import ImportFormat
from lexicraft.services.entity_resolvers import EntityResolvers, ServedComponents
from lexicraft.settings import Settings
from lexicraft.storage.sql import models
from tests.conversation_project import project_file
from tests.unit.services.people import FAST, run


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_an_empty_utterance_is_refused(text: str) -> None:
    with pytest.raises(InvalidUtterance) as raised:
        check_text(text, 1000)
    assert raised.value.target == "analysisInput.conversationItem.text"
    assert raised.value.to_error()["code"] == "InvalidRequest"
    assert raised.value.to_error()["innererror"]["code"] == "InvalidDocument"


def test_the_length_limit_counts_text_elements_and_names_its_setting() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 5 code points, 1 text element
    check_text(family * 10, 10)  # 50 code points, 10 characters: allowed
    check_text("a" * 10, 10)
    with pytest.raises(InvalidUtterance) as raised:
        check_text(family * 11, 10)
    assert "11 characters" in raised.value.message
    assert "LEXICRAFT_CLU_MAX_QUERY_CHARACTERS" in raised.value.message


def test_every_project_intent_is_listed_best_first_with_none_always_there() -> None:
    ranked = rank_intents(
        ("BookFlight", "CheckWeather", "Cancel"),  # Cancel: not trained, so 0.0
        (ClassScore("CheckWeather", 0.8), ClassScore("BookFlight", 0.3)),
    )
    assert ranked == (
        ClassScore("CheckWeather", 0.8),
        ClassScore("BookFlight", 0.3),
        ClassScore("Cancel", 0.0),
        ClassScore("None", 0.0),
    )


def test_an_intent_only_the_model_knows_is_still_listed() -> None:
    # The model is what answers: an intent removed from the project since it was trained
    # keeps its score rather than vanishing from a ranking that would then lie.
    ranked = rank_intents(("A", "None"), (ClassScore("Gone", 0.7), ClassScore("None", 0.2)))
    assert [intent.category for intent in ranked] == ["Gone", "None", "A"]


def test_under_the_threshold_the_answer_is_none_listed_first() -> None:
    intents = (ClassScore("A", 0.6), ClassScore("B", 0.3), ClassScore("None", 0.1))
    assert apply_threshold(intents, 0.0) == ("A", intents)
    assert apply_threshold(intents, 0.6) == ("A", intents)  # reaching it is enough
    assert apply_threshold(intents, 0.7) == (
        "None",
        (ClassScore("None", 0.1), ClassScore("A", 0.6), ClassScore("B", 0.3)),
    )


def test_the_components_cache_builds_once_per_key_and_drops_the_least_recently_used() -> None:
    cache = EntityResolvers(capacity=2)
    built: list[str] = []

    def build(name: str) -> ServedComponents:
        built.append(name)
        resolver = EntityResolver((), "en", regex_timeout_s=0.05)
        return ServedComponents(ConversationAssets((name,), ()), resolver)

    first = cache.get("a", lambda: build("a"))
    assert cache.get("a", lambda: build("again")) is first
    cache.get("b", lambda: build("b"))
    cache.get("a", lambda: build("again"))  # a is now the most recently used
    cache.get("c", lambda: build("c"))  # drops b
    assert cache.keys() == ["a", "c"]
    cache.get("b", lambda: build("b"))
    assert built == ["a", "b", "c", "b"]


# -- what a deployment answers with ------------------------------------------------------------

NAME = "Flights"
CONDOR = "book a flight on Condor to Paris"


def with_condor() -> dict[str, Any]:
    changed = copy.deepcopy(project_file(NAME))
    airline = next(e for e in changed["assets"]["entities"] if e["category"] == "Airline")
    airline["list"]["sublists"].append({"listKey": "condor", "synonyms": [{"values": ["Condor"]}]})
    return changed


def airlines(context: ServiceContext, deployment: str) -> list[str]:
    answer = analyze_conversation(context, ConversationQuery(NAME, deployment, CONDOR))
    return [entity.text for entity in answer.entities if entity.category == "Airline"]


def test_each_run_answers_with_its_own_snapshot_found_by_the_run(tmp_path: Path) -> None:
    context = open_context(Settings(data_dir=tmp_path))
    for label, body, deployment in (
        ("m1", project_file(NAME), "production"),
        ("m2", with_condor(), "staging"),
    ):
        run(context, conversations.submit_import(context, NAME, body, ImportFormat.CONVERSATION))
        request = TrainingRequest(label, FAST, EvaluationOptions.create(), "standard")
        run(context, training.submit_training(context, NAME, request))
        run(context, deployments.submit_deploy(context, NAME, deployment, label))
    first = deployments.get_deployment(context, NAME, "production").model.artifact_dir
    second = deployments.get_deployment(context, NAME, "staging").model.artifact_dir

    assert (airlines(context, "production"), airlines(context, "staging")) == ([], ["Condor"])
    assert context.entity_resolvers.keys() == [first, second]  # built once per run

    run(context, deployments.submit_swap(context, NAME, "production", "staging"))
    assert (airlines(context, "production"), airlines(context, "staging")) == (["Condor"], [])
    assert context.entity_resolvers.keys() == [second, first]  # nothing rebuilt

    with context.database.session() as session:
        pinned, snapshot = models.served_snapshot(session, NAME, first)
    assert pinned and snapshot is not None
    assert "utterances" not in snapshot["assets"]  # the pin keeps no training data
    assert snapshot["metadata"]["projectName"] == NAME

    # Once no deployment pins a run, its snapshot is not found: a request that read the pin
    # before reads it again rather than pair the new run with the old project.
    run(context, deployments.submit_delete(context, NAME, "staging"))
    with context.database.session() as session:
        assert models.served_snapshot(session, NAME, first) == (False, None)
