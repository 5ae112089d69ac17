"""The one rule for each kind of name and path: project/model/deployment names, storage
containers and document locations."""

from __future__ import annotations

import pytest

from lexicraft.domain.projects import (
    MAX_LOCATION_PART_BYTES,
    ProjectPatch,
    check_name,
    container_problem,
    location_problem,
)
from lexicraft.errors import InvalidParameterValue


@pytest.mark.parametrize("name", ["a", "My_Project-1.2", "a.", ".a", "x" * 100])
def test_valid_names(name: str) -> None:
    assert check_name(name, "projectName") == name


@pytest.mark.parametrize("name", ["", ".", "..", "...", "x" * 101, "a/b", "a b", "é"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(InvalidParameterValue) as raised:
        check_name(name, "deploymentName")
    assert raised.value.target == "deploymentName"


@pytest.mark.parametrize("container", ["c", "demo-ner", "My_Box.1", "c" * 100])
def test_valid_containers(container: str) -> None:
    assert container_problem(container) is None


@pytest.mark.parametrize("container", ["", ".", "..", "c" * 101, "a/b", "a\\b", "a\x00"])
def test_invalid_containers(container: str) -> None:
    assert container_problem(container) is not None


@pytest.mark.parametrize(
    "location", ["a.txt", "dir/a.txt", "./a.txt", "a/./b.txt", "é" * (MAX_LOCATION_PART_BYTES // 2)]
)
def test_valid_locations(location: str) -> None:
    assert location_problem(location) is None


@pytest.mark.parametrize(
    "location",
    [
        "",
        ".",
        "./",
        "./.",
        "a/..",
        "../a",
        "/a",
        "\\a",
        "C:a",
        "a\x00",
        "a" * 241,
        "d/" + "é" * 121,
    ],
)
def test_invalid_locations(location: str) -> None:
    assert location_problem(location) is not None


def test_a_patch_checks_the_container_it_sets() -> None:
    with pytest.raises(InvalidParameterValue) as raised:
        ProjectPatch(storage_container="..").apply("p", None)
    assert raised.value.target == "storageInputContainerName"
