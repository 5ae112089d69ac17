"""A team in the Studio: an annotator signs in with their own key, sees their name and role,
does not see what only authors may do, labels a document and finds their name in its history;
once their key is revoked the next request brings the sign-in form back with a message.

Screenshots at 1400, 1280 and 820 px go to ``test-artifacts/studio/``. The key never appears
in a URL the page requests.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.integration.server import API_VERSION, AUTHORING
from tests.studio.conftest import Studio
from tests.studio.test_studio_e2e import open_document, tag

LEXICRAFT = "/language/lexicraft"
LABELING = f"{LEXICRAFT}/projects"
PROJECT = "team-ner"
TEXT = "Ana Lima visited Porto in May."
WIDTHS = (1400, 1280, 820)


def set_up(studio: Studio) -> dict[str, Any]:
    """A project with one document, labelled by nobody yet, and a user ``ana`` (annotator)."""
    studio.api(
        "PATCH",
        f"{AUTHORING}/{PROJECT}",
        params={"api-version": API_VERSION},
        json={
            "projectKind": "CustomEntityRecognition",
            "language": "en-us",
            "storageInputContainerName": PROJECT,
            "projectName": PROJECT,
        },
    )
    studio.api("PUT", f"{LABELING}/{PROJECT}/labels", json={"labels": ["Person", "City"]})
    studio.api(
        "POST", f"{LABELING}/{PROJECT}/documents", json={"text": TEXT, "location": "trip.txt"}
    )
    user: dict[str, Any] = studio.api(
        "POST", f"{LEXICRAFT}/users", json={"name": "ana", "role": "annotator"}
    )
    return user


def screenshots(studio: Studio, page_name: str) -> None:
    """The visible page at each width (the page re-lays itself out in between)."""
    for width in WIDTHS:
        studio.page.set_viewport_size({"width": width, "height": 800})
        studio.screenshot(f"{page_name}-{width}")
    studio.page.set_viewport_size({"width": 1280, "height": 800})


def test_an_annotator_labels_and_is_signed_out_when_their_key_is_revoked(studio: Studio) -> None:
    page = studio.page
    studio.name = "roles"
    user = set_up(studio)
    key = user["newKey"]["key"]

    page.goto(studio.url)
    page.fill("#api-key", key)
    page.click("form.sign-in button[type=submit]")
    expect(page.locator("#projects-table")).to_be_visible()
    # Who is signed in: the user's name and role, never any part of the key.
    expect(page.locator("#user-name")).to_have_text("ana")
    expect(page.locator("#user-role")).to_have_text("annotator")
    assert key[-4:] not in page.locator(".top-bar").inner_text()

    # What only authors may do is not shown: no create or import form, no export or delete.
    row = page.locator(f'#projects-table tr[data-project="{PROJECT}"]')
    expect(row).to_be_visible()
    expect(row.get_by_role("button", name="Delete")).to_be_hidden()
    expect(row.get_by_role("button", name="Export")).to_be_hidden()
    expect(page.get_by_role("button", name="Create project")).to_be_hidden()
    expect(page.get_by_role("button", name="Import", exact=True)).to_be_hidden()
    expect(page.get_by_role("button", name="Import file", exact=True)).to_be_hidden()
    screenshots(studio, "01-projects-annotator")

    # Labeling: tag a span (the server accepts it: annotators label), no delete, no label edits.
    page.goto(f"{studio.url}#/p/{PROJECT}/label")
    text = open_document(page, "trip.txt")
    expect(page.locator("#delete-document")).to_be_hidden()
    expect(page.locator("#new-label")).to_be_hidden()
    tag(page, text, "Ana Lima", "1", "Person")
    stored = studio.api("GET", f"{LABELING}/{PROJECT}/documents/trip.txt")
    assert stored["entities"] == [{"category": "Person", "offset": 0, "length": 8}]

    # The history names who labelled, newest change last.
    page.click("#history-panel summary")
    events = page.locator("#history-list .history-event")
    expect(events).to_have_count(2)
    expect(events.nth(0)).to_contain_text("LEXICRAFT_API_KEY")
    expect(events.nth(1).locator(".history-actor")).to_have_text("ana")
    expect(events.nth(1)).to_contain_text("+Person “Ana Lima”")
    # The panel stays open (and up to date) when the document is saved again.
    tag(page, text, "Porto", "2", "City")
    expect(events).to_have_count(3)
    expect(events.nth(2)).to_contain_text("+City “Porto”")
    screenshots(studio, "02-labeling-annotator")

    # Training: the models are listed, but there is no form to train or delete.
    page.goto(f"{studio.url}#/p/{PROJECT}/train")
    expect(page.locator("h1")).to_have_text("Training")
    expect(page.locator("#start-training")).to_be_hidden()
    screenshots(studio, "03-training-annotator")

    # The key is revoked: the next request answers 401 and the sign-in form comes back.
    keys = studio.api("GET", f"{LEXICRAFT}/users/ana/keys")["value"]
    studio.api("DELETE", f"{LEXICRAFT}/users/ana/keys/{keys[0]['id']}")
    page.goto(f"{studio.url}#/p/{PROJECT}/label")
    expect(page.locator("#api-key")).to_be_visible()
    expect(page.locator("#sign-in-error")).to_contain_text("no longer accepted")
    expect(page.get_by_text("Something went wrong")).to_have_count(0)
    expect(page.locator("#user-name")).to_have_count(0)
    assert page.evaluate("sessionStorage.getItem('lexicraft.subscriptionKey')") is None
    screenshots(studio, "04-signed-out")

    # The key went only in a header: no URL the page asked for carries it.
    assert studio.requests
    assert [url for url in studio.requests if key in url] == []
    studio.assert_offline()


def test_a_runtime_key_cannot_sign_in_to_the_studio(studio: Studio) -> None:
    """A machine key that may only analyze is told so at sign-in (the Studio needs view)."""
    page = studio.page
    created = studio.api("POST", f"{LEXICRAFT}/users", json={"name": "svc", "role": "admin"})
    runtime = studio.api("POST", f"{LEXICRAFT}/users/svc/keys", json={"scope": "runtime"})
    assert created["name"] == "svc"
    page.goto(studio.url)
    page.fill("#api-key", runtime["key"])
    page.click("form.sign-in button[type=submit]")
    expect(page.locator("#sign-in-error")).to_contain_text("may only call the analyze API")
    expect(page.locator("#api-key")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('lexicraft.subscriptionKey')") is None
    studio.assert_offline()
