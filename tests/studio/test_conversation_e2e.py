"""A conversation (CLU) project in the Studio, in Debian's Chromium against a real server.

The project (30 utterances) is imported through the authoring API; in the browser an utterance
is added, its intent picked and an entity span tagged, the entities' list and regex components
are shown, a model is trained with the fast configuration, evaluated, deployed, and an
utterance is tested through ``POST /language/:analyze-conversations``: every intent with a
score, the top intent, and the entity highlighted in the colour the labeling page gives it.
An entity is renamed, the rename undone and redone, and another entity merged into it.
Screenshots go to ``test-artifacts/studio/clu-*.png``; the page must make no request to
another host and raise no script error.
"""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Response, expect

from tests.integration.server import API_VERSION
from tests.studio.clu_project import CONVERSATIONS, clu_project_file
from tests.studio.conftest import Studio
from tests.studio.test_labeling_e2e import open_address, screenshots
from tests.studio.test_studio_e2e import (
    _SELECT,
    answer_dialogs,
    go,
    utf16_span,
    wait_saved,
)

LABELING = "/language/lexicraft/projects"
NEW_UTTERANCE = "weather forecast for Oslo 🌦 please"


def watch_console(studio: Studio) -> list[str]:
    """Every console error and failed response of the tab (none is expected)."""
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    def response(answer: Response) -> None:
        if answer.status >= 400:
            problems.append(f"{answer.status} {answer.url}")

    studio.page.on("console", console)
    studio.page.on("response", response)
    return problems


def import_clu_project(studio: Studio, name: str) -> None:
    """The Studio test's CLU project file imported as project ``name``."""
    studio.server.run_job(
        "POST",
        f"{CONVERSATIONS}/{name}/:import",
        params={"api-version": API_VERSION},
        json=clu_project_file(name),
    )


def test_conversation_project_end_to_end(studio: Studio, studio_key: str) -> None:
    page = studio.page
    problems = watch_console(studio)
    studio.name = "clu"
    name = "clu-e2e"
    import_clu_project(studio, name)

    # Sign in; the project list shows conversation projects beside custom text ones.
    # The console watch forbids failed requests: no wrong key first, unlike sign_in.
    page.goto(studio.url)
    page.fill("#api-key", studio_key)
    page.click("form.sign-in button[type=submit]")
    row = page.locator(f'#projects-table tr[data-project="{name}"]')
    expect(row).to_contain_text("Conversational language understanding")
    row.locator("a").click()

    # Labeling: the utterance list, intents and entities with their components.
    expect(page.locator("main h1")).to_have_text("Labeling")
    expect(page.locator("#doc-list .doc-item")).to_have_count(30)
    expect(page.locator("#intent-list li")).to_have_count(3)
    city = page.locator('#entity-list li[data-entity="City"]')
    city.locator("details.components > summary").click()
    expect(city.locator('[data-component="list"] li[data-list-key="paris"]')).to_contain_text(
        "Paris, City of Light"
    )
    flight = page.locator('#entity-list li[data-entity="FlightNumber"]')
    flight.locator("details.components > summary").click()
    expect(flight.locator('[data-component="regex"]')).to_contain_text("[A-Z]{2}\\d{3,4}")

    # Add an utterance (intent None), pick its intent, tag Oslo as City (key 1).
    page.fill("#new-utterance-text", NEW_UTTERANCE)
    page.click("#add-utterance")
    expect(page.locator("#doc-list .doc-item")).to_have_count(31)
    expect(page.locator("#doc-text")).to_have_text(NEW_UTTERANCE)
    expect(page.locator("#intent-select")).to_have_value("None")
    page.select_option("#intent-select", "GetWeather")
    wait_saved(page)
    page.evaluate(_SELECT, ["#doc-text", *utf16_span(NEW_UTTERANCE, "Oslo")])
    expect(page.locator("#selection-hint")).to_contain_text("Oslo")
    page.keyboard.press("1")
    wait_saved(page)
    tagged = page.locator('#doc-text mark[data-category="City"]', has_text="Oslo")
    expect(tagged).to_be_visible()
    labeling_colour = tagged.get_attribute("class")
    assert labeling_colour is not None
    expect(page.locator("#doc-counts")).to_contain_text("Train 25 · Test 5 · unassigned 1")
    page.check('#dataset-choice input[value="Train"]')
    wait_saved(page)
    expect(page.locator("#doc-counts")).to_contain_text("Train 26 · Test 5 · unassigned 0")
    studio.screenshot("02-labeling")
    stored = [
        item
        for item in studio.api("GET", f"{LABELING}/{name}/documents")["value"]
        if item["text"] == NEW_UTTERANCE
    ]
    # Code points: the offset of Oslo and its length, as the page sent them.
    assert stored == [
        {
            **stored[0],
            "intent": "GetWeather",
            "dataset": "Train",
            "entities": [{"category": "City", "offset": 21, "length": 4}],
        }
    ]

    # Training: the default configuration is preselected; the test trains the fast one.
    go(page, "Training", "Training")
    expect(page.locator("#config-version")).to_have_value("2022-05-01")
    expect(page.locator("#training-mode")).to_have_value("standard")
    page.select_option("#config-version", "2022-05-01-fast")
    page.fill("#model-label", "m1")
    page.check("#split-manual")
    page.click("#start-training")
    expect(page.locator("#train-status")).to_have_text("succeeded", timeout=60_000)
    expect(page.locator('#models-table tr[data-model="m1"]')).to_contain_text("2022-05-01-fast")
    studio.screenshot("03-training")

    # Evaluation: intents and entities apart, and the 5 test utterances.
    go(page, "Evaluation", "Evaluation")
    expect(page.locator("#intents-eval-table tbody tr")).to_have_count(3)
    expect(page.locator('#entities-eval-table tbody tr[data-label="City"]')).to_be_visible()
    expect(page.locator("#intent-matrix")).to_be_visible()
    expect(page.locator("#eval-utterances tbody tr")).to_have_count(5)
    studio.screenshot("04-evaluation")

    # Deploy, then test an utterance.
    go(page, "Deployments", "Deployments")
    page.fill("#deployment-name", "production")
    page.select_option("#deploy-model", "m1")
    page.click("#deploy")
    expect(page.locator('#deployments-table tr[data-deployment="production"]')).to_contain_text(
        "m1"
    )
    go(page, "Test", "Test")
    page.fill("#test-text", "book a flight to London")
    page.click("#run-test")
    intents = page.locator("#test-intents li")
    expect(intents).to_have_count(3)
    categories = intents.evaluate_all("items => items.map(item => item.dataset.category)")
    assert sorted(categories) == ["BookFlight", "GetWeather", "None"]
    top = page.locator("#test-top-intent").inner_text()
    expect(page.locator("#test-intents li.top")).to_have_attribute("data-category", top)
    scores = [float(value) for value in intents.locator(".num").all_inner_texts()]
    assert scores == sorted(scores, reverse=True), scores
    # London is a City (its list component finds it), coloured as on the labeling page.
    found = page.locator('#test-highlighted mark[data-category="City"]')
    expect(found).to_have_text("London")
    assert found.get_attribute("class") == labeling_colour.replace(" selected", "")
    expect(page.locator('#test-entities tr[data-category="City"]')).to_contain_text("London")
    studio.screenshot("05-test")
    studio.assert_offline()
    assert problems == []


def test_create_a_conversation_project_in_the_browser(studio: Studio, studio_key: str) -> None:
    page = studio.page
    problems = watch_console(studio)
    studio.name = "clu-create"
    page.goto(studio.url)
    page.fill("#api-key", studio_key)
    page.click("form.sign-in button[type=submit]")
    expect(page.locator("#projects-table")).to_be_visible()
    expect(page.locator("#new-project-intents")).to_be_hidden()
    page.fill("#new-project-name", "clu-made")
    page.select_option("#new-project-kind", "Conversation")
    page.select_option("#new-project-language", "en-us")
    page.fill("#new-project-intents", "Greet, Bye\nNone")
    page.fill("#new-project-labels", "Name")
    page.get_by_role("button", name="Create project").click()
    expect(page.locator("main h1")).to_have_text("Labeling")
    intents = page.locator("#intent-list li")
    expect(intents).to_have_count(3)
    assert intents.evaluate_all("items => items.map(item => item.dataset.intent)") == [
        "None",
        "Greet",
        "Bye",
    ]
    expect(page.locator('#entity-list li[data-entity="Name"]')).to_be_visible()
    page.fill("#new-utterance-text", "hello Anna")
    page.select_option("#new-utterance-intent", "Greet")
    page.click("#add-utterance")
    expect(page.locator("#doc-list .doc-item")).to_have_count(1)
    expect(page.locator('#doc-list .doc-item[data-intent="Greet"]')).to_contain_text("hello Anna")
    # The list component's synonyms, edited in the entity's components.
    name = page.locator('#entity-list li[data-entity="Name"]')
    name.locator("details.components > summary").click()
    name.get_by_text("Edit list synonyms").click()
    name.locator(".list-editor").fill("anna: Anna, Annie\nbob: Bob")
    name.get_by_role("button", name="Save list").click()
    # The page is drawn again with the new list; the components stay open.
    expect(name.locator('[data-component="list"] li[data-list-key="anna"]')).to_contain_text(
        "Anna, Annie"
    )
    entity = studio.api("GET", f"{LABELING}/clu-made/conversation")["entities"][0]
    assert entity["list"] == {
        "sublists": [
            {"listKey": "anna", "synonyms": [{"values": ["Anna", "Annie"]}]},
            {"listKey": "bob", "synonyms": [{"values": ["Bob"]}]},
        ]
    }
    metadata = studio.api("GET", f"{CONVERSATIONS}/clu-made", params={"api-version": API_VERSION})
    assert metadata["projectKind"] == "Conversation"
    studio.screenshot("01-created")
    studio.assert_offline()
    assert problems == []


def test_rename_undo_and_merge_an_entity(studio: Studio, studio_key: str) -> None:
    """The Rename button of an entity: a plain rename (one prompt) is undone and redone from
    the page's history; a rename onto another entity's name merges the two once confirmed, and
    cannot be undone. Every check of what the page did reads the server."""
    page = studio.page
    problems = watch_console(studio)
    studio.name = "clu-rename"
    name = "clu-rename"
    import_clu_project(studio, name)
    # A learned entity Town labels Paris in one utterance, beside its City span.
    studio.api("POST", f"{LABELING}/{name}/entities", json={"category": "Town"})
    paris = "book a flight to Paris"
    location = next(
        item["location"]
        for item in studio.api("GET", f"{LABELING}/{name}/documents")["value"]
        if item["text"] == paris
    )
    at = {"offset": paris.index("Paris"), "length": len("Paris")}
    studio.api(
        "PATCH",
        f"{LABELING}/{name}/utterances/{location}",
        json={"entities": [{"category": "City", **at}, {"category": "Town", **at}]},
    )

    def categories() -> list[str]:
        stored = studio.api("GET", f"{LABELING}/{name}/documents/{location}")
        return [entity["category"] for entity in stored["entities"]]

    dialogs, reply = answer_dialogs(page)
    # The console watch forbids failed requests: no wrong key first, unlike sign_in.
    page.goto(studio.url)
    page.fill("#api-key", studio_key)
    page.click("form.sign-in button[type=submit]")
    expect(page.locator("#projects-table")).to_be_visible()
    open_address(studio, name, location)
    expect(page.locator("#doc-text")).to_have_text(paris)
    entities = page.locator("#entity-list > li")
    expect(entities).to_have_count(3)

    # -- a plain rename: one prompt, the page and the server show the new name -------------------
    reply["prompt"] = "Destination"
    page.click("#entity-list button[aria-label='Rename entity City']")
    expect(page.locator('#entity-list li[data-entity="Destination"]')).to_contain_text("24")
    # The open utterance's span table shows its spans by their new name.
    spans = page.locator("tr[data-category]")
    expect(spans).to_have_count(2)
    expect(page.locator('tr[data-category="Destination"]')).to_have_count(1)
    expect(page.locator("#status")).to_contain_text("in 24 utterance(s)")
    assert dialogs == ["prompt"]
    assert categories() == ["Destination", "Town"]
    screenshots(studio, "01-renamed")

    # -- undone and redone from the page's history -------------------------------------------------
    page.click("#undo")
    expect(page.locator('#entity-list li[data-entity="City"]')).to_be_visible()
    expect(page.locator('#entity-list li[data-entity="Destination"]')).to_have_count(0)
    expect(page.locator('tr[data-category="City"]')).to_have_count(1)
    assert categories() == ["City", "Town"]
    page.click("#redo")
    expect(page.locator('#entity-list li[data-entity="Destination"]')).to_be_visible()
    assert categories() == ["Destination", "Town"]
    page.click("#undo")
    expect(page.locator('#entity-list li[data-entity="City"]')).to_be_visible()
    assert categories() == ["City", "Town"]

    # -- a merge: confirmed first, the shared span collapses, the list comes along ---------------
    reply["prompt"] = "City"
    page.click("#entity-list button[aria-label='Rename entity Town']")
    expect(entities).to_have_count(2)
    assert dialogs == ["prompt", "prompt", "confirm"]
    assert categories() == ["City"]
    expect(spans).to_have_count(1)
    expect(page.locator('tr[data-category="City"]')).to_have_count(1)
    # One span left: the text marks it as City alone.
    expect(page.locator('#doc-text mark[data-category="City"]')).to_have_count(1)
    expect(page.locator("#status")).to_contain_text("Merged entity")
    city = studio.api("GET", f"{LABELING}/{name}/conversation")["entities"][0]
    assert (city["category"], city["utteranceCount"]) == ("City", 24)
    assert city["list"]["sublists"][0]["listKey"] == "paris"
    expect(page.locator("#undo")).to_be_disabled()  # a merge cannot be undone
    screenshots(studio, "02-merged")
    studio.assert_offline()
    assert problems == []
