"""People, roles and key scopes over real HTTP, on SQLite and PostgreSQL.

Each kind of key (users of each role, machine keys of each scope, a user's narrowed key, the
configured key) is sent to one representative route per permission: allowed is the route's own
answer, anything else a 403 envelope naming the missing permission. Users are managed through
the API (a disabled user's or revoked key is refused at once), each labeling change names who
made it in the document's history, and keys made before roles existed keep every right.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, text

from lexicraft.api.app import create_app
from lexicraft.api.permissions import protected_routes
from lexicraft.domain.users import Permission, Scope
from lexicraft.services import keys as key_service
from lexicraft.settings import Settings
from lexicraft.storage.sql.engine import Database
from tests.integration.databases import Databases, database_at
from tests.integration.server import API_VERSION, AUTHORING, TEST_KEY, LiveServer, run_server

LEXICRAFT = "/language/lexicraft"
LABELING = f"{LEXICRAFT}/projects"
CONVERSATIONS = "/language/authoring/analyze-conversations/projects"
V = {"api-version": API_VERSION}
PROJECT = "roles-ner"
DOCUMENT = "doc.txt"
DOCUMENT_TEXT = "Ana met Rita in Porto."


@dataclass
class Team:
    """The module's server and a key of each kind, by a short name."""

    server: LiveServer
    keys: dict[str, str]

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request with ``who``'s key."""
        headers = {"Ocp-Apim-Subscription-Key": self.keys[who]}
        return self.server.client.request(method, path, headers=headers, **kwargs)


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def add_user(server: LiveServer, name: str, role: str) -> str:
    """Create user ``name`` with the configured key; their first key."""
    body = _created(server.client.post(f"{LEXICRAFT}/users", json={"name": name, "role": role}))
    assert (body["name"], body["role"], body["disabled"]) == (name, role, False)
    key: str = body["newKey"]["key"]
    return key


def add_user_key(server: LiveServer, name: str, scope: str) -> str:
    body = _created(server.client.post(f"{LEXICRAFT}/users/{name}/keys", json={"scope": scope}))
    assert (body["userName"], body["scope"]) == (name, scope)
    key: str = body["key"]
    return key


def machine_key(server: LiveServer, name: str, scope: Scope) -> str:
    """A key of no user (what ``lexicraft keys create --scope`` makes)."""
    database = Database(server.settings.resolved_database_url)
    try:
        return key_service.create_key(database, name, scope)[1]
    finally:
        database.engine.dispose()


@pytest.fixture(scope="module")
def team(server: LiveServer) -> Team:
    keys = {
        "configured": TEST_KEY,
        "admin": add_user(server, "alice", "admin"),
        "annotator": add_user(server, "ana", "annotator"),
        "reviewer": add_user(server, "rita", "reviewer"),
        "machine-full": machine_key(server, "ci-full", Scope.FULL),
        "machine-authoring": machine_key(server, "ci-authoring", Scope.AUTHORING),
        "machine-runtime": machine_key(server, "web-runtime", Scope.RUNTIME),
    }
    keys["annotator-runtime"] = add_user_key(server, "ana", "runtime")
    keys["admin-authoring"] = add_user_key(server, "alice", "authoring")
    response = server.client.patch(
        f"{AUTHORING}/{PROJECT}",
        params=V,
        json={
            "projectKind": "CustomEntityRecognition",
            "language": "en-us",
            "storageInputContainerName": PROJECT,
            "projectName": PROJECT,
        },
    )
    assert response.status_code == 201, response.text
    response = server.client.put(f"{LABELING}/{PROJECT}/labels", json={"labels": ["Person"]})
    assert response.status_code == 200, response.text
    _created(
        server.client.post(
            f"{LABELING}/{PROJECT}/documents", json={"text": DOCUMENT_TEXT, "location": DOCUMENT}
        )
    )
    return Team(server, keys)


#: One request per permission, and what it answers when the permission is there: a page, a
#: label saved, a document that is not there (a 404 only after the check passed), a body the
#: route refuses (a 400 only after the check passed), the users page.
PROBES: dict[str, tuple[str, str, dict[str, Any], int]] = {
    "view": ("GET", f"{LABELING}/{PROJECT}/documents", {}, 200),
    "label": ("PATCH", f"{LABELING}/{PROJECT}/documents/{DOCUMENT}", {"json": {}}, 200),
    "review": (
        "POST",
        f"{LABELING}/{PROJECT}/documents/missing.txt:review",
        {"json": {"decision": "accept"}},
        404,
    ),
    "author": ("DELETE", f"{LABELING}/{PROJECT}/documents/missing.txt", {}, 404),
    "train": ("POST", f"{AUTHORING}/{PROJECT}/:train", {"params": V, "json": {}}, 400),
    "analyze": ("POST", "/language/analyze-text/jobs", {"params": V, "json": {}}, 400),
    "manage users": ("GET", f"{LEXICRAFT}/users", {}, 200),
    "who am I": ("GET", f"{LEXICRAFT}/me", {}, 200),
}
EVERYTHING = set(PROBES)
LABELERS = {"view", "label", "analyze", "who am I"}
#: What each kind of key may do, written out by hand (not computed by the code under test).
ALLOWED: dict[str, set[str]] = {
    "configured": EVERYTHING,
    "admin": EVERYTHING,
    "machine-full": EVERYTHING,
    "annotator": LABELERS,
    "reviewer": LABELERS | {"review"},
    "machine-authoring": EVERYTHING - {"manage users"},
    "admin-authoring": EVERYTHING - {"manage users"},
    "machine-runtime": {"analyze", "who am I"},
    "annotator-runtime": {"analyze", "who am I"},
}


@pytest.mark.parametrize("who", sorted(ALLOWED))
def test_each_key_may_do_what_its_role_and_scope_allow(team: Team, who: str) -> None:
    answers = {}
    for probe, (method, path, kwargs, allowed_status) in PROBES.items():
        response = team.call(who, method, path, **kwargs)
        if response.status_code == 403:
            answers[probe] = "denied"
            error = response.json()["error"]
            assert error["code"] == "Forbidden" and error["innererror"]["code"] == (
                "PermissionDenied"
            ), error
        else:
            assert response.status_code == allowed_status, (probe, response.text)
            answers[probe] = "allowed"
    expected = {probe: "allowed" if probe in ALLOWED[who] else "denied" for probe in PROBES}
    assert answers == expected


def test_a_403_names_the_missing_permission_and_nothing_else(team: Team) -> None:
    response = team.call("annotator", "POST", f"{AUTHORING}/{PROJECT}/:train", params=V, json={})
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "Forbidden",
            "message": "user 'ana' (role annotator, key scope full) lacks the 'author' "
            "permission this request needs.",
            "innererror": {
                "code": "PermissionDenied",
                "message": "user 'ana' (role annotator, key scope full) lacks the 'author' "
                "permission this request needs.",
            },
        }
    }
    runtime = team.call("machine-runtime", "GET", f"{AUTHORING}/{PROJECT}", params=V).json()
    assert runtime["error"]["message"] == (
        "key 'web-runtime' (scope runtime) lacks the 'view' permission this request needs."
    )
    # The permission is checked before the project is looked up: nothing about it leaks.
    unknown = team.call("machine-runtime", "GET", f"{AUTHORING}/no-such-project", params=V)
    assert unknown.status_code == 403


def test_who_am_i(team: Team) -> None:
    ana = team.call("annotator", "GET", f"{LEXICRAFT}/me").json()
    assert ana == {
        "name": "ana",
        "userName": "ana",
        "role": "annotator",
        "keyName": "ana",
        "scope": "full",
        "permissions": ["analyze", "view", "label"],
    }
    machine = team.call("machine-authoring", "GET", f"{LEXICRAFT}/me").json()
    assert machine["name"] == "ci-authoring" and machine["role"] is None
    assert set(machine["permissions"]) == {p.value for p in Permission} - {"manageUsers"}
    assert team.call("annotator-runtime", "GET", f"{LEXICRAFT}/me").json()["permissions"] == [
        "analyze"
    ]
    assert team.call("configured", "GET", f"{LEXICRAFT}/me").json()["name"] == "LEXICRAFT_API_KEY"


def test_every_protected_route_declares_its_permission(tmp_path: Path) -> None:
    """The app is refused unless every route behind the key declares one permission; this is
    what each declares, by the rule of its family."""
    app = create_app(Settings(data_dir=tmp_path), run_workers=False)
    routes = protected_routes(app)
    assert len(routes) > 60
    needed = {
        (method, route.path): permission
        for route in routes
        for method, permission in route.permissions().items()
    }
    for (method, path), permission in needed.items():
        if path.startswith(("/language/analyze-text/", "/text/", "/language/:")):
            assert permission is Permission.ANALYZE, (method, path)
        elif path.startswith(f"{LEXICRAFT}/users"):
            assert permission is Permission.MANAGE_USERS, (method, path)
        elif path.startswith("/language/authoring/"):
            expected = Permission.VIEW if method == "GET" else Permission.AUTHOR
            assert permission is expected, (method, path)
    labeling = f"{LABELING}/{{project_name}}"
    assert needed["PATCH", f"{labeling}/documents/{{location:path}}"] is Permission.LABEL
    assert needed["POST", f"{labeling}/utterances"] is Permission.LABEL
    assert needed["DELETE", f"{labeling}/documents/{{location:path}}"] is Permission.AUTHOR
    assert needed["PUT", f"{labeling}/labels"] is Permission.AUTHOR
    assert needed["GET", f"{labeling}/documents/{{location:path}}/history"] is Permission.VIEW
    assert needed["POST", f"{labeling}/documents/{{location:path}}:review"] is Permission.REVIEW
    assert needed["POST", f"{labeling}/documents/{{location:path}}:resolve"] is Permission.REVIEW
    assert (
        needed["PUT", f"{labeling}/documents/{{location:path}}/annotations/mine"]
        is Permission.LABEL
    )
    assert needed["GET", f"{labeling}/agreement"] is Permission.VIEW
    assert needed["PATCH", f"{labeling}/review-settings"] is Permission.AUTHOR
    assert needed["GET", f"{LEXICRAFT}/me"] is None


def test_managing_users_and_their_keys(team: Team) -> None:
    server = team.server
    key = add_user(server, "bob", "annotator")
    me = {"Ocp-Apim-Subscription-Key": key}
    assert server.client.get(f"{LEXICRAFT}/me", headers=me).status_code == 200
    # Broken requests are envelopes naming the field.
    duplicate = team.call(
        "admin", "POST", f"{LEXICRAFT}/users", json={"name": "bob", "role": "admin"}
    )
    assert (duplicate.status_code, duplicate.json()["error"]["code"]) == (409, "Conflict")
    bad_role = team.call("admin", "POST", f"{LEXICRAFT}/users", json={"name": "x", "role": "boss"})
    assert bad_role.status_code == 400 and bad_role.json()["error"]["target"] == "role"
    bad_name = team.call(
        "admin", "POST", f"{LEXICRAFT}/users", json={"name": "a/b", "role": "admin"}
    )
    assert bad_name.status_code == 400 and bad_name.json()["error"]["target"] == "name"
    bad_scope = team.call("admin", "POST", f"{LEXICRAFT}/users/bob/keys", json={"scope": "root"})
    assert bad_scope.status_code == 400 and bad_scope.json()["error"]["target"] == "scope"
    missing = team.call("admin", "PATCH", f"{LEXICRAFT}/users/nobody", json={"disabled": True})
    assert missing.status_code == 404
    names = [u["name"] for u in team.call("admin", "GET", f"{LEXICRAFT}/users").json()["value"]]
    assert {"alice", "ana", "rita", "bob"} <= set(names)

    # A role change takes effect on the next request.
    changed = team.call("admin", "PATCH", f"{LEXICRAFT}/users/bob", json={"role": "admin"})
    assert changed.json()["role"] == "admin"
    assert server.client.get(f"{LEXICRAFT}/users", headers=me).status_code == 200
    team.call("admin", "PATCH", f"{LEXICRAFT}/users/bob", json={"role": "annotator"})
    assert server.client.get(f"{LEXICRAFT}/users", headers=me).status_code == 403

    # A disabled user's keys are refused at once (401, the gateway's envelope), and work again
    # once the user is enabled.
    disabled = team.call("admin", "PATCH", f"{LEXICRAFT}/users/bob", json={"disabled": True})
    assert disabled.json()["disabled"] is True and disabled.json()["disabledDateTime"]
    refused = server.client.get(f"{LEXICRAFT}/me", headers=me)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "401"
    team.call("admin", "PATCH", f"{LEXICRAFT}/users/bob", json={"disabled": False})
    assert server.client.get(f"{LEXICRAFT}/me", headers=me).status_code == 200

    # Keys: a second one, listed without the key itself, revoked on its own.
    second = add_user_key(server, "bob", "full")
    listed = team.call("admin", "GET", f"{LEXICRAFT}/users/bob/keys").json()["value"]
    assert [k["prefix"] for k in listed] == [key[:6], second[:6]]
    assert all("key" not in k and k["revokedDateTime"] is None for k in listed)
    revoked = team.call("admin", "DELETE", f"{LEXICRAFT}/users/bob/keys/{listed[1]['id']}")
    assert revoked.status_code == 204
    second_headers = {"Ocp-Apim-Subscription-Key": second}
    assert server.client.get(f"{LEXICRAFT}/me", headers=second_headers).status_code == 401
    assert server.client.get(f"{LEXICRAFT}/me", headers=me).status_code == 200
    # Another user's key id is not found under this user.
    ana_keys = team.call("admin", "GET", f"{LEXICRAFT}/users/ana/keys").json()["value"]
    assert (
        team.call("admin", "DELETE", f"{LEXICRAFT}/users/bob/keys/{ana_keys[0]['id']}").status_code
        == 404
    )

    # An admin cannot lock themselves out; deleting a user removes their keys.
    for body in ({"disabled": True}, {"role": "annotator"}):
        self_change = team.call("admin", "PATCH", f"{LEXICRAFT}/users/alice", json=body)
        assert self_change.status_code == 409, self_change.text
    assert team.call("admin", "DELETE", f"{LEXICRAFT}/users/alice").status_code == 409
    assert team.call("admin", "DELETE", f"{LEXICRAFT}/users/bob").status_code == 204
    assert server.client.get(f"{LEXICRAFT}/me", headers=me).status_code == 401
    assert team.call("admin", "GET", f"{LEXICRAFT}/users/bob").status_code == 404


def _history(team: Team, project: str, location: str, **params: Any) -> dict[str, Any]:
    response = team.call(
        "annotator", "GET", f"{LABELING}/{project}/documents/{location}/history", params=params
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_each_change_of_a_document_names_who_made_it(team: Team) -> None:
    location = "provenance.txt"
    path = f"{LABELING}/{PROJECT}/documents/{location}"
    text = "Ana wrote to Rita."
    _created(
        team.call(
            "annotator",
            "POST",
            f"{LABELING}/{PROJECT}/documents",
            json={"text": text, "location": location},
        )
    )
    ana_span = {"category": "Person", "offset": 0, "length": 3}
    rita_span = {"category": "Person", "offset": 13, "length": 4}
    assert team.call("annotator", "PATCH", path, json={"entities": [ana_span]}).status_code == 200
    # Saving the same labels again changes nothing and is not a new event.
    assert team.call("annotator", "PATCH", path, json={"entities": [ana_span]}).status_code == 200
    reviewed = team.call(
        "reviewer", "PATCH", path, json={"entities": [ana_span, rita_span], "dataset": "Train"}
    )
    assert reviewed.status_code == 200
    assert team.call("machine-authoring", "DELETE", path).status_code == 204

    history = _history(team, PROJECT, location)
    events = history["value"]
    assert [(e["action"], e["actor"]) for e in events] == [
        ("created", "ana"),
        ("updated", "ana"),
        ("updated", "rita"),
        ("deleted", "ci-authoring"),
    ]
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    times = [e["createdDateTime"] for e in events]
    assert times == sorted(times)
    assert events[0]["before"] is None
    assert events[0]["after"] == {"dataset": None, "language": "en-us", "entities": []}
    assert events[1]["after"]["entities"] == [ana_span]
    assert events[2]["before"]["entities"] == [ana_span]
    assert events[2]["after"] == {
        "dataset": "Train",
        "language": "en-us",
        "entities": [ana_span, rita_span],
    }
    assert events[3]["after"] is None and events[3]["before"]["entities"] == [ana_span, rita_span]
    # Pages follow the same order.
    first = _history(team, PROJECT, location, top=2, maxpagesize=1)
    assert [e["id"] for e in first["value"]] == [events[0]["id"]] and first["nextLink"]

    # No document and no history: a 404.
    never = team.call("annotator", "GET", f"{LABELING}/{PROJECT}/documents/never.txt/history")
    assert never.status_code == 404 and never.json()["error"]["code"] == "NotFound"


def test_a_document_added_by_the_configured_key_names_it(team: Team) -> None:
    location = "untouched.txt"
    _created(
        team.server.client.post(
            f"{LABELING}/{PROJECT}/documents", json={"text": "Nothing here.", "location": location}
        )
    )
    events = _history(team, PROJECT, location)["value"]
    assert [(e["action"], e["actor"]) for e in events] == [("created", "LEXICRAFT_API_KEY")]


def test_utterance_changes_and_label_renames_are_recorded(team: Team) -> None:
    project = "roles-clu"
    response = team.call(
        "admin",
        "PATCH",
        f"{CONVERSATIONS}/{project}",
        params=V,
        json={"projectKind": "Conversation", "language": "en-us", "projectName": project},
    )
    assert response.status_code == 201, response.text
    added = team.call("admin", "POST", f"{LABELING}/{project}/intents", json={"category": "Book"})
    assert added.status_code == 200, added.text
    # An annotator may not change the intent list, only label.
    denied = team.call("annotator", "POST", f"{LABELING}/{project}/intents", json={"category": "X"})
    assert denied.status_code == 403
    utterance = _created(
        team.call(
            "annotator",
            "POST",
            f"{LABELING}/{project}/utterances",
            json={"text": "book a flight", "intent": "Book"},
        )
    )
    location = utterance["location"]
    renamed = team.call(
        "admin", "PATCH", f"{LABELING}/{project}/intents/Book", json={"category": "BookFlight"}
    )
    assert renamed.status_code == 200, renamed.text
    events = _history(team, project, location)["value"]
    assert [(e["action"], e["actor"]) for e in events] == [
        ("created", "ana"),
        ("labelRenamed", "alice"),
    ]
    assert events[0]["after"]["intent"] == "Book"
    assert events[0]["after"]["text"] == "book a flight"
    assert (events[1]["before"]["intent"], events[1]["after"]["intent"]) == ("Book", "BookFlight")
    # The history goes with its project.
    team.server.run_job("DELETE", f"{CONVERSATIONS}/{project}", params=V)
    gone = team.call("annotator", "GET", f"{LABELING}/{project}/documents/{location}/history")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "ProjectNotFound"


# -- keys made before roles existed --------------------------------------------------------------

OLD_KEY = "an-old-key-made-before-roles-0001"


@pytest.fixture
def old_database(tmp_path: Path, databases: Databases) -> Iterator[tuple[Path, str | None]]:
    """A data dir whose database is at revision 0008 (before users and scopes) with one key;
    its URL (None: the data dir's own SQLite file)."""
    data_dir = tmp_path / "old"
    data_dir.mkdir()

    def seed(connection: Connection) -> None:
        connection.execute(
            text(
                "INSERT INTO api_keys (name, key_hash, prefix, created_at)"
                " VALUES ('legacy', :hash, 'an-old', CURRENT_TIMESTAMP)"
            ),
            {"hash": hashlib.sha256(OLD_KEY.encode()).hexdigest()},
        )

    with database_at("0008", data_dir, databases, seed) as url:
        yield data_dir, url


def test_keys_made_before_roles_keep_every_right(old_database: tuple[Path, str | None]) -> None:
    data_dir, url = old_database
    with run_server(data_dir, database_url=url) as live:
        headers = {"Ocp-Apim-Subscription-Key": OLD_KEY}
        me = live.client.get(f"{LEXICRAFT}/me", headers=headers)
        assert me.status_code == 200, me.text
        assert me.json()["scope"] == "full" and me.json()["role"] is None
        assert set(me.json()["permissions"]) == {p.value for p in Permission}
        assert live.client.get(f"{LEXICRAFT}/users", headers=headers).status_code == 200
        projects = live.client.get(AUTHORING, params=V, headers=headers)
        assert projects.status_code == 200, projects.text
