"""The Team page: an admin adds a user with a role and sees their first key once, gives them a
second key of a narrower scope, changes their role, revokes a key, disables and enables the
user and removes them; each
step is checked through the HTTP API (the keys themselves included: a new key works, a revoked
one gets 401). Refusals are the API's own messages. An annotator sees no Team link, and at the
page's address a message instead of the page (and no request for the team is made).

Screenshots at 1400, 1280 and 820 px go to ``test-artifacts/studio/``.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Dialog, Page, expect

from tests.studio.conftest import Studio
from tests.studio.test_roles_e2e import screenshots

USERS = "/language/lexicraft/users"
ME = "/language/lexicraft/me"
#: services/keys.new_key: 16 random bytes as hex.
KEY = re.compile(r"^[0-9a-f]{32}$")


def me(studio: Studio, key: str) -> httpx.Response:
    """``GET /me`` sent with ``key`` (not the test's own key)."""
    return httpx.get(
        f"{studio.server.base_url}{ME}", headers={"Ocp-Apim-Subscription-Key": key}, timeout=30
    )


def sign_in_as(studio: Studio, key: str) -> None:
    page = studio.page
    page.goto(studio.url)
    page.fill("#api-key", key)
    page.click("form.sign-in button[type=submit]")
    expect(page.locator("#projects-table")).to_be_visible()


def answer_next_dialog(page: Page, accept: bool) -> list[str]:
    """Accept (or dismiss) the next confirm; the list gets its message."""
    seen: list[str] = []

    def answer(dialog: Dialog) -> None:
        seen.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", answer)
    return seen


def wait_until_asked(page: Page, asked: list[str]) -> None:
    """Wait (a few seconds at most) until the page has asked its question."""
    for _ in range(100):
        if asked:
            return
        page.wait_for_timeout(50)
    raise AssertionError("the page asked nothing")


def api_error(page: Page, text: str) -> None:
    """The API's message is shown as an error (and then closed, so the next one is alone)."""
    error = page.locator("#status .message.error")
    expect(error).to_contain_text(text)
    page.evaluate("document.querySelectorAll('#status .message').forEach(m => m.remove())")


def test_an_admin_manages_users_and_their_keys(studio: Studio) -> None:
    page = studio.page
    studio.name = "team"
    boss: dict[str, Any] = studio.api("POST", USERS, json={"name": "boss", "role": "admin"})
    sign_in_as(studio, boss["newKey"]["key"])

    # The Team link is in the top bar for an admin; the page lists the users with their keys.
    link = page.locator("#team-link")
    expect(link).to_be_visible()
    link.click()
    expect(page.locator("main h1")).to_have_text("Team")
    expect(link).to_have_attribute("aria-current", "page")
    boss_row = page.locator('#users-table tr[data-user="boss"]')
    expect(boss_row.locator(".badge.own")).to_have_text("you")
    expect(boss_row.locator(".key-count")).to_have_text("1")
    expect(boss_row.get_by_label("Role of boss")).to_have_value("admin")
    screenshots(studio, "01-users")

    # Add lea (annotator): her first key is shown once, and it works.
    page.fill("#new-user-name", "lea")
    page.select_option("#new-user-role", "annotator")
    page.click("#add-user")
    secret_card = page.locator("#new-key")
    expect(secret_card).to_be_visible()
    expect(secret_card).to_contain_text("you will not see it again")
    expect(page.locator("#new-key-value")).to_be_focused()
    first_key = page.locator("#new-key-value").input_value()
    assert KEY.fullmatch(first_key), first_key
    answer = me(studio, first_key)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["userName"], answer.json()["role"]) == ("lea", "annotator")
    assert studio.api("GET", f"{USERS}/lea")["role"] == "annotator"
    lea_row = page.locator('#users-table tr[data-user="lea"]')
    expect(lea_row.locator(".key-count")).to_have_text("1")
    # Her keys open beside the new key: listed by id, name, first characters, never the key.
    keys_panel = page.locator("#keys-panel")
    expect(keys_panel.locator("h2")).to_have_text("Keys of lea")
    expect(keys_panel.locator("tbody tr")).to_have_count(1)
    expect(keys_panel.locator("tbody tr").first).to_contain_text(f"{first_key[:6]}…")
    assert first_key not in keys_panel.inner_text()
    screenshots(studio, "02-new-user-key")
    # Copy puts it on the clipboard.
    studio.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=studio.server.base_url
    )
    page.click("#copy-new-key")
    expect(page.locator("#status .message.success")).to_contain_text("Key copied.")
    assert page.evaluate("navigator.clipboard.readText()") == first_key

    # Done forgets it: it is nowhere on the page any more, nor after a reload.
    page.click("#forget-new-key")
    expect(secret_card).to_be_hidden()
    assert page.locator("#new-key-value").input_value() == ""
    assert first_key not in page.content()
    page.reload()
    expect(page.locator('#users-table tr[data-user="lea"]')).to_be_visible()
    assert first_key not in page.content()

    # A taken name is refused with the API's message.
    page.fill("#new-user-name", "lea")
    page.click("#add-user")
    api_error(page, "a user named 'lea' already exists")

    # A second key for lea, runtime scope: shown once, and it speaks for lea with that scope.
    lea_row.get_by_role("button", name="Keys").click()
    expect(keys_panel.locator("h2")).to_have_text("Keys of lea")
    page.fill("#new-key-name", "lea-service")
    page.select_option("#new-key-scope", "runtime")
    page.click("#create-key")
    expect(secret_card).to_be_visible()
    expect(secret_card).to_contain_text("scope runtime")
    runtime_key = page.locator("#new-key-value").input_value()
    assert KEY.fullmatch(runtime_key) and runtime_key != first_key
    answer = me(studio, runtime_key)
    assert answer.status_code == 200, answer.text
    assert answer.json()["userName"] == "lea"
    assert (answer.json()["scope"], answer.json()["permissions"]) == ("runtime", ["analyze"])
    expect(keys_panel.locator("tbody tr")).to_have_count(2)
    expect(lea_row.locator(".key-count")).to_have_text("2")
    screenshots(studio, "03-second-key")
    page.click("#forget-new-key")

    # lea becomes a reviewer; the API says so, and her first key now may review.
    lea_row.get_by_label("Role of lea").select_option("reviewer")
    expect(page.locator("#status .message.success")).to_contain_text("lea is now reviewer")
    assert studio.api("GET", f"{USERS}/lea")["role"] == "reviewer"
    assert "review" in me(studio, first_key).json()["permissions"]

    # An admin cannot demote themselves: the API's refusal is shown, the role stays admin.
    boss_row.get_by_label("Role of boss").select_option("annotator")
    api_error(page, "you cannot disable yourself or give up your own admin role")
    expect(boss_row.get_by_label("Role of boss")).to_have_value("admin")
    assert studio.api("GET", f"{USERS}/boss")["role"] == "admin"

    # Revoke the runtime key (asked first): it is refused from then on, the first one is not.
    runtime_id = next(
        key["id"]
        for key in studio.api("GET", f"{USERS}/lea/keys")["value"]
        if key["name"] == "lea-service"
    )
    runtime_row = keys_panel.locator(f'tbody tr[data-key="{runtime_id}"]')
    asked = answer_next_dialog(page, accept=True)
    runtime_row.get_by_role("button", name="Revoke").click()
    expect(runtime_row.locator(".key-status")).to_contain_text("revoked")
    assert f"Revoke key {runtime_id}" in asked[0]
    assert me(studio, runtime_key).status_code == 401
    assert me(studio, first_key).status_code == 200
    expect(lea_row.locator(".key-count")).to_contain_text("1 (+1 revoked)")
    expect(runtime_row.get_by_role("button", name="Revoke")).to_have_count(0)
    screenshots(studio, "04-key-revoked")

    # Disabling lea (asked first) refuses her keys; enabling gives them back.
    asked = answer_next_dialog(page, accept=True)
    lea_row.get_by_role("button", name="Disable").click()
    expect(lea_row.locator(".user-status")).to_have_text("disabled")
    assert asked[0].startswith("Disable lea?")
    assert studio.api("GET", f"{USERS}/lea")["disabled"] is True
    assert me(studio, first_key).status_code == 401
    lea_row.get_by_role("button", name="Enable").click()
    expect(lea_row.locator(".user-status")).to_have_text("active")
    assert studio.api("GET", f"{USERS}/lea")["disabled"] is False
    assert me(studio, first_key).status_code == 200

    # Remove lea: dismissing the question keeps her; accepting removes her and her keys.
    asked = answer_next_dialog(page, accept=False)
    lea_row.get_by_role("button", name="Remove").click()
    wait_until_asked(page, asked)
    assert asked[0].startswith("Remove lea?")
    expect(lea_row).to_have_count(1)
    assert studio.api("GET", f"{USERS}/lea")["name"] == "lea"
    asked = answer_next_dialog(page, accept=True)
    lea_row.get_by_role("button", name="Remove").click()
    expect(lea_row).to_have_count(0)
    assert asked[0].startswith("Remove lea?")
    expect(keys_panel).to_be_hidden()
    gone = studio.server.client.get(f"{USERS}/lea")
    assert gone.status_code == 404, gone.text
    assert me(studio, first_key).status_code == 401
    screenshots(studio, "05-user-removed")

    # Keys travel only in headers and in the one answer that made them.
    assert [url for url in studio.requests if first_key in url or runtime_key in url] == []
    studio.assert_offline()


def test_an_annotator_has_no_team_link_and_is_told_at_its_address(studio: Studio) -> None:
    page = studio.page
    studio.name = "team-annotator"
    user: dict[str, Any] = studio.api("POST", USERS, json={"name": "ann", "role": "annotator"})
    sign_in_as(studio, user["newKey"]["key"])
    expect(page.locator("#user-role")).to_have_text("annotator")
    expect(page.locator("#team-link")).to_be_hidden()
    screenshots(studio, "01-projects")

    page.goto(f"{studio.url}#/team")
    denied = page.locator("#team-denied")
    expect(denied).to_contain_text("Managing the team needs an admin's key")
    expect(denied).to_contain_text("ann (annotator)")
    expect(page.locator("#team-link")).to_be_hidden()
    expect(page.get_by_text("Something went wrong")).to_have_count(0)
    expect(page.locator("#status .message.error")).to_have_count(0)
    expect(page.locator("#users-table")).to_have_count(0)
    # The page asked nothing it would be refused: no request for the team at all.
    assert [url for url in studio.requests if USERS in url] == []
    screenshots(studio, "02-denied")
    studio.assert_offline()
