"""Importing files in the browser: a CoNLL file and a LUIS app become projects, a file with
invalid records shows each with its line number and imports nothing, and importing over an
existing project (a file of another tool, or an Azure project file) asks first, saying how
many documents it replaces. Screenshots at 1400, 1280 and 820 px."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Dialog, Page, expect

from lexicraft.formats.registry import FORMATS
from tests.cli.clu_files import luis_app
from tests.studio.conftest import Studio
from tests.studio.test_studio_e2e import sign_in
from tests.unit.formats.samples import ner_data

LABELING = "/language/lexicraft/projects"
WIDTHS = (1400, 1280, 820)


def conll_file(limit: int) -> tuple[str, int]:
    """A CoNLL file of the format tests' NER sample, and how many documents it holds."""
    dumps = FORMATS["conll"].dumps
    assert dumps is not None
    data = ner_data(limit)
    return dumps(data), len(data.documents)


def choose(page: Page, name: str, content: str, mime: str = "text/plain") -> None:
    page.set_input_files(
        "#import-data-file",
        files=[{"name": name, "mimeType": mime, "buffer": content.encode("utf-8")}],
    )


def clear_messages(page: Page) -> None:
    """Close the messages of earlier steps, so that a check sees the next one."""
    page.evaluate("document.querySelectorAll('#status .message').forEach(m => m.remove())")


def submit(page: Page) -> None:
    clear_messages(page)
    page.click("#import-data-submit")


def documents(studio: Studio, project: str) -> dict[str, Any]:
    page: dict[str, Any] = studio.api("GET", f"{LABELING}/{project}/documents")
    return page


def answer_dialogs(page: Page, accept: bool) -> list[str]:
    """Answer the next confirmation(s) with ``accept``; returns their messages as they come."""
    seen: list[str] = []

    def answer(dialog: Dialog) -> None:
        seen.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", answer)
    return seen


def test_import_files_in_the_browser(studio: Studio, studio_key: str) -> None:
    page = studio.page
    studio.name = "import"
    sign_in(studio, studio_key, screenshot=False)

    # -- a CoNLL file: its format follows from the extension, the project name from the file --
    content, count = conll_file(2)
    choose(page, "people-and-places.conll", content)
    expect(page.locator("#import-data-format")).to_have_value("conll")
    expect(page.locator("#import-data-name")).to_have_value("people-and-places")
    # CoNLL always holds entities: the kind is not asked.
    expect(page.locator("#import-data-kind")).to_be_hidden()
    submit(page)
    row = page.locator('#projects-table tr[data-project="people-and-places"]')
    expect(row).to_contain_text("Custom named entity recognition")
    stored = documents(studio, "people-and-places")
    assert stored["counts"]["total"] == count
    assert stored["value"][0]["location"] == "people-and-places-000001"
    assert any(document["entities"] for document in stored["value"])

    # -- a LUIS app (.json is shared by several formats: the server tells it from the content) --
    app = luis_app()
    page.fill("#import-data-name", "")
    choose(page, "pizza-bot.json", json.dumps(app), "application/json")
    expect(page.locator("#import-data-format")).to_have_value("")
    submit(page)
    bot = page.locator('#projects-table tr[data-project="pizza-bot"]')
    expect(bot).to_contain_text("Conversational language understanding")
    assert documents(studio, "pizza-bot")["counts"]["total"] == len(app["utterances"])

    # -- a file with invalid records: every one listed with its line, nothing imported --------
    bad = "\n".join(
        [
            json.dumps({"id": "a", "text": "Anna flew to Paris", "entities": []}),
            json.dumps({"id": "b", "text": "Tom", "entities": [{"category": "Person", "offset": 0, "length": 9}]}),
            json.dumps({"id": "c", "text": ""}),
            json.dumps({"id": "a", "text": "Twice", "entities": []}),
        ]
    )  # fmt: skip
    page.fill("#import-data-name", "broken-file")
    choose(page, "broken.jsonl", bad)
    submit(page)
    report = page.locator("#import-report")
    expect(report.locator("h3")).to_have_text("Nothing was imported from broken.jsonl")
    lines = report.locator("li")
    expect(lines).to_have_count(3)
    assert lines.evaluate_all("items => items.map(i => i.dataset.line)") == ["2", "3", "4"]
    expect(lines.nth(0)).to_contain_text("Line 2")
    expect(lines.nth(0)).to_contain_text("field 'entities[0].length'")
    expect(lines.nth(2)).to_contain_text("appears twice (first on line 1)")
    expect(page.locator('#projects-table tr[data-project="broken-file"]')).to_have_count(0)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        report.scroll_into_view_if_needed()
        clear_messages(page)
        path = studio.screenshot_of("#import-data-form", f"report-{width}")
        assert path.stat().st_size > 0
    page.set_viewport_size({"width": 1280, "height": 800})

    # -- importing over an existing project asks first, with its document count ---------------
    smaller, smaller_count = conll_file(1)
    assert smaller_count != count
    page.fill("#import-data-name", "people-and-places")
    choose(page, "other.conll", smaller)
    page.fill("#import-data-name", "people-and-places")
    asked = answer_dialogs(page, accept=False)
    submit(page)
    expect(page.get_by_text("Nothing imported: people-and-places is unchanged.")).to_be_visible()
    assert len(asked) == 1
    assert "people-and-places already exists" in asked[0]
    assert f"its {count} documents" in asked[0]
    assert documents(studio, "people-and-places")["counts"]["total"] == count

    asked = answer_dialogs(page, accept=True)
    submit(page)
    expect(
        page.get_by_text(f"Imported {smaller_count} documents into people-and-places")
    ).to_be_visible()
    assert len(asked) == 1
    assert documents(studio, "people-and-places")["counts"]["total"] == smaller_count

    # A conversation project counts utterances.
    page.fill("#import-data-name", "pizza-bot")
    choose(page, "pizza-bot.json", json.dumps(app), "application/json")
    page.fill("#import-data-name", "pizza-bot")
    asked = answer_dialogs(page, accept=False)
    submit(page)
    expect(page.get_by_text("Nothing imported: pizza-bot is unchanged.")).to_be_visible()
    assert f"its {len(app['utterances'])} utterances" in asked[0]

    # The Azure project file import asks the same.
    azure = FORMATS["azure"].dumps
    assert azure is not None
    project_file = json.loads(azure(ner_data(3)))
    page.set_input_files(
        "#import-file",
        files=[{"name": "p.json", "mimeType": "application/json", "buffer": json.dumps(project_file).encode()}],
    )  # fmt: skip
    page.fill("#import-name", "people-and-places")
    asked = answer_dialogs(page, accept=False)
    clear_messages(page)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Nothing imported: people-and-places is unchanged.")).to_be_visible()
    assert f"its {smaller_count} documents" in asked[0]
    assert documents(studio, "people-and-places")["counts"]["total"] == smaller_count
    # A new name is not asked about.
    page.fill("#import-name", "fresh-copy")
    # (Playwright dismisses a dialog nobody answers: a question here would stop the import.)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator('#projects-table tr[data-project="fresh-copy"]')).to_be_visible()

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        studio.screenshot(f"projects-{width}")
    studio.assert_offline()
