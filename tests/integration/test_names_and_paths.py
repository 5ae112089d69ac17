"""Names and storage paths over real HTTP: names made of dots or too long are refused as Azure
refuses them, a storage location that names the container itself is refused (the container
stays a folder), and a file/folder clash is a 409, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.server import API_VERSION, AUTHORING, LiveServer, run_server

V = {"api-version": API_VERSION}
STORAGE = "/language/lexicraft/storage"
KIND = "CustomSingleLabelClassification"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_server(tmp_path_factory.mktemp("names")) as live:
        yield live


def project_options(container: str = "names") -> dict[str, Any]:
    return {"projectKind": KIND, "storageInputContainerName": container, "language": "en"}


def assert_invalid(response: Any, target: str | None = None) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "InvalidRequest"
    assert error["innererror"]["code"] == "InvalidParameterValue"
    if target is not None:
        assert error["target"] == target


# -- storage locations -------------------------------------------------------------------------


@pytest.mark.parametrize("location", ["%2e", "%2E", "%2e/%2e", "a/%2e%2e", "a/b/%2e%2e/%2e%2e"])
def test_a_location_naming_the_container_itself_is_refused(
    server: LiveServer, location: str
) -> None:
    assert_invalid(server.client.put(f"{STORAGE}/box/{location}", content=b"text"), "location")
    assert_invalid(server.client.get(f"{STORAGE}/box/{location}"), "location")
    # The container is still a folder that takes uploads.
    response = server.client.put(f"{STORAGE}/box/after.txt", content=b"still a folder")
    assert response.status_code == 201, response.text
    assert (server.settings.storage_dir / "box").is_dir()


def test_a_location_part_over_the_file_system_limit_is_refused(server: LiveServer) -> None:
    name = "\u00e9" * 121  # 242 bytes of UTF-8: over 240, under 255 with no temporary suffix
    assert_invalid(server.client.put(f"{STORAGE}/box/{name}", content=b"x"), "location")


def test_a_file_folder_clash_is_a_conflict(server: LiveServer) -> None:
    assert server.client.put(f"{STORAGE}/clash/a", content=b"file").status_code == 201
    below_a_file = server.client.put(f"{STORAGE}/clash/a/b.txt", content=b"x")
    assert below_a_file.status_code == 409, below_a_file.text
    assert below_a_file.json()["error"]["code"] == "Conflict"
    assert server.client.put(f"{STORAGE}/clash/d/e.txt", content=b"x").status_code == 201
    over_a_folder = server.client.put(f"{STORAGE}/clash/d", content=b"x")
    assert over_a_folder.status_code == 409, over_a_folder.text
    assert server.client.get(f"{STORAGE}/clash/a").text == "file"
    assert sorted(path.name for path in (server.settings.storage_dir / "clash").iterdir()) == [
        "a",
        "d",
    ]


@pytest.mark.parametrize("container", ["%2e", "%2e%2e", "c" * 101, "a%20b"])
def test_an_invalid_container_is_refused(server: LiveServer, container: str) -> None:
    assert_invalid(server.client.put(f"{STORAGE}/{container}/a.txt", content=b"x"), "container")


# -- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["%2e", "%2e%2e", "...", "p" * 101])
def test_a_project_name_of_dots_or_too_long_is_refused(server: LiveServer, name: str) -> None:
    response = server.client.patch(f"{AUTHORING}/{name}", params=V, json=project_options())
    assert_invalid(response, "projectName")
    body = {
        "projectFileVersion": "2022-05-01",
        "stringIndexType": "Utf16CodeUnit",
        "metadata": {**project_options(), "projectName": name.replace("%2e", ".")},
        "assets": {"projectKind": KIND, "classes": [{"category": "A"}], "documents": []},
    }
    response = server.client.post(f"{AUTHORING}/{name}/:import", params=V, json=body)
    assert_invalid(response, "projectName")
    listed = server.client.get(AUTHORING, params=V).json()["value"]
    assert all(project["projectName"].strip(".") for project in listed)


@pytest.mark.parametrize("container", ["..", ".", "", "a/b", "c" * 101])
def test_a_project_container_must_be_a_valid_name(server: LiveServer, container: str) -> None:
    response = server.client.patch(f"{AUTHORING}/boxed", params=V, json=project_options(container))
    assert_invalid(response, "storageInputContainerName")


def test_model_and_deployment_names_of_dots_are_refused(server: LiveServer) -> None:
    response = server.client.patch(f"{AUTHORING}/dots", params=V, json=project_options())
    assert response.status_code in (200, 201), response.text
    train = {"modelLabel": "..", "trainingConfigVersion": "latest"}
    assert_invalid(server.client.post(f"{AUTHORING}/dots/:train", params=V, json=train))
    deploy = server.client.put(
        f"{AUTHORING}/dots/deployments/%2e%2e", params=V, json={"trainedModelLabel": "m"}
    )
    assert_invalid(deploy, "deploymentName")
