"""The string rule of every wire body: no lone surrogate, no NUL, at any depth (issue 22).

The same rule and wording whether a body comes through FastAPI or :func:`wire.base.parse`
(the CLI, the file formats); the HTTP side is tested in
``tests/integration/test_unicode_input.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from lexicraft.api.authoring.schemas import ProjectPatchBody
from lexicraft.api.runtime.schemas import AnalyzeTextJobsInput, LegacyAnalyzeInput
from lexicraft.domain.text import string_problem
from lexicraft.errors import InvalidParameterValue
from lexicraft.wire.base import parse
from lexicraft.wire.project_file import ProjectFileBody


def language_body(**changes: Any) -> dict[str, Any]:
    return {
        "analysisInput": {"documents": [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}]},
        "tasks": [
            {
                "kind": "CustomEntityRecognition",
                "parameters": {"projectName": "p", "deploymentName": "d"},
            }
        ],
        **changes,
    }


@pytest.mark.parametrize(
    ("value", "wording"),
    [
        ("ab\ud800", "contains a lone surrogate (U+D800) at character 2"),
        ("\udfff", "contains a lone surrogate (U+DFFF) at character 0"),
        ("a\x00", "contains a NUL character (U+0000) at character 1"),
    ],
)
def test_the_rule_names_the_character_and_where_it_is(value: str, wording: str) -> None:
    problem = string_problem(value)
    assert problem is not None and problem.startswith(wording)


@pytest.mark.parametrize("value", ["", "plain", "\U0001f389 \u00e9 \u200d \ufffd \ue000 \t\n"])
def test_valid_unicode_passes(value: str) -> None:
    # Astral characters (a JSON surrogate *pair* decodes to one), private use, U+FFFD, controls.
    assert string_problem(value) is None


def test_a_deep_field_is_named_by_its_whole_wire_path() -> None:
    body = language_body()
    body["analysisInput"]["documents"][1]["id"] = "b\ud800"
    with pytest.raises(InvalidParameterValue) as raised:
        parse(AnalyzeTextJobsInput, body)
    assert raised.value.target == "analysisInput.documents[1].id"
    assert raised.value.message.startswith(
        "analysisInput.documents[1].id contains a lone surrogate (U+D800) at character 1"
    )
    assert raised.value.inner_code == "InvalidParameterValue"


def test_the_first_bad_string_in_body_order_is_reported() -> None:
    body = language_body(displayName="\x00")
    body["tasks"][0]["taskName"] = "\ud800"
    with pytest.raises(InvalidParameterValue) as raised:
        parse(AnalyzeTextJobsInput, body)
    assert raised.value.target == "tasks[0].taskName"  # "tasks" comes before "displayName"


def test_the_rule_runs_before_the_other_field_rules() -> None:
    # deploymentName is missing too: the string that could never be stored is reported.
    body = language_body()
    body["tasks"][0]["parameters"] = {"projectName": "p\x00"}
    with pytest.raises(InvalidParameterValue) as raised:
        parse(AnalyzeTextJobsInput, body)
    assert raised.value.target == "tasks[0].parameters.projectName"


def test_legacy_bodies_keys_and_free_form_objects_are_checked() -> None:
    legacy = {
        "analysisInput": {"documents": [{"id": "a", "text": "x\udc00"}]},
        "tasks": {"customEntityRecognitionTasks": [{"parameters": {"project-name": "p"}}]},
    }
    with pytest.raises(InvalidParameterValue) as raised:
        parse(LegacyAnalyzeInput, legacy)
    assert raised.value.target == "analysisInput.documents[0].text"
    with pytest.raises(InvalidParameterValue) as raised:
        parse(ProjectPatchBody, {"settings": {"a": [{"b": "ok"}, {"c\x00": 1}]}})
    assert raised.value.target == "settings.a[1]"
    assert "has a key that contains a NUL character" in raised.value.message


def test_an_inline_document_of_a_project_file_is_checked() -> None:
    project_file = {
        "projectFileVersion": "2022-05-01",
        "metadata": {
            "projectKind": "CustomEntityRecognition",
            "storageInputContainerName": "c",
            "projectName": "p",
            "language": "en",
        },
        "assets": {
            "projectKind": "CustomEntityRecognition",
            "entities": [{"category": "A"}],
            "documents": [
                {"location": "a.txt", "text": "ok"},
                {"location": "b.txt", "text": "\x00"},
            ],
        },
    }
    with pytest.raises(InvalidParameterValue) as raised:
        parse(ProjectFileBody, project_file)
    assert raised.value.target == "assets.documents[1].text"


def test_a_deeply_nested_body_is_walked_without_recursion() -> None:
    nested: Any = "\ud800"
    for _ in range(5_000):  # deeper than Python's recursion limit
        nested = [nested]
    with pytest.raises(InvalidParameterValue) as raised:
        parse(ProjectPatchBody, {"settings": {"deep": nested}})
    assert raised.value.target is not None and raised.value.target.startswith("settings.deep[0]")
