"""Deleting a project removes what the Studio says it removes (issue 22, finding 9).

Its documents, models (their folders, and the project's folder of them) and deployments go.
Of the document files in its storage container, those Lexicraft wrote for the project (the
Studio's new documents, an import's inline texts) go too, unless another project's document
uses the same file; files a user put in the container are the user's and stay, as on Azure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.databases import Databases
from tests.integration.server import API_VERSION, AUTHORING, demo_project_file

CONTAINER = "shared"


def _project_file(name: str, documents: list[dict[str, Any]]) -> dict[str, Any]:
    project_file = demo_project_file("demo-classify", name)
    project_file["metadata"]["storageInputContainerName"] = CONTAINER
    project_file["assets"]["documents"] = documents
    return project_file


def test_deleting_a_project_removes_its_models_and_the_files_lexicraft_wrote_for_it(
    tmp_path: Path, databases: Databases
) -> None:
    data_dir = tmp_path / "data"
    inline = demo_project_file("demo-classify")["assets"]["documents"][:40]
    with databases.serve(data_dir) as server:
        settings = server.settings
        # The user's own file in the container, imported by reference.
        uploaded = server.client.put(
            f"/language/lexicraft/storage/{CONTAINER}/mine/user.txt",
            content=b"my card was charged twice",
        )
        assert uploaded.status_code == 201, uploaded.text
        by_reference = {
            "location": "mine/user.txt",
            "language": "en-us",
            "dataset": "Train",
            "class": {"category": "Billing"},
        }
        server.import_project("alpha", _project_file("alpha", [*inline, by_reference]))
        # Another project of the same container reads one of the files alpha's import wrote.
        shared_location = inline[0]["location"]
        by_location = {key: value for key, value in inline[0].items() if key != "text"}
        server.import_project("beta", _project_file("beta", [by_location]))
        # A document typed into the Studio.
        added = server.client.post(
            "/language/lexicraft/projects/alpha/documents", json={"text": "Where is my parcel?"}
        )
        assert added.status_code == 201, added.text
        studio_location = added.json()["location"]
        server.train("alpha", "m1")
        server.deploy("alpha", "prod", "m1")

        storage = settings.storage_dir / CONTAINER
        written = [storage / entry["location"] for entry in inline] + [storage / studio_location]
        assert all(path.is_file() for path in written)
        assert (settings.models_dir / "alpha").is_dir()

        server.run_job("DELETE", f"{AUTHORING}/alpha", params={"api-version": API_VERSION})

        gone = server.client.get(f"{AUTHORING}/alpha", params={"api-version": API_VERSION})
        assert gone.status_code == 404
        # Models and their project folder, however empty, are gone.
        assert not (settings.models_dir / "alpha").exists()
        # The files Lexicraft wrote for alpha are gone, but the one beta uses...
        assert (storage / shared_location).is_file()
        assert [path for path in written if path.exists()] == [storage / shared_location]
        # ...and the user's file stays.
        assert (storage / "mine" / "user.txt").read_text(encoding="utf-8") == (
            "my card was charged twice"
        )
        # Beta still works.
        beta = server.client.get(f"/language/lexicraft/projects/beta/documents/{shared_location}")
        assert beta.status_code == 200, beta.text
