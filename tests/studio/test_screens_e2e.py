"""The Studio on any screen and in any script, its guardrails, and acting on an evaluation,
in Debian's Chromium against a real server (issue 25, items 4 to 6).

Projects are set up over HTTP (fast training config, a dozen documents); the pages are then
read at 1400, 1280 and 820 px (and the read-only evaluation and test pages at 390 px), with a
screenshot of each in ``test-artifacts/studio/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.integration.server import API_VERSION, AUTHORING, LiveServer, demo_project_file
from tests.studio.conftest import Studio
from tests.studio.test_documents_api import create_project, span
from tests.studio.test_studio_e2e import NER_TEXTS, sign_in

LABELING = "/language/lexicraft/projects"
V = {"api-version": API_VERSION}
NER = "scr-ner"
RTL = "scr-rtl"
CLASSIFY = "scr-classify"
ARABIC = "سافرت مريم إلى القاهرة أمس مع أخيها."
HEBREW = "דנה טסה לחיפה אתמול עם אחיה."
# What a page must never do at any width: scroll sideways.
_OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def add_document(server: LiveServer, project: str, text: str, **fields: Any) -> str:
    response = server.client.post(f"{LABELING}/{project}/documents", json={"text": text})
    assert response.status_code == 201, response.text
    location: str = response.json()["location"]
    if fields:
        changed = server.client.patch(f"{LABELING}/{project}/documents/{location}", json=fields)
        assert changed.status_code == 200, changed.text
    return location


@pytest.fixture(scope="module")
def projects(studio_server: LiveServer) -> Iterator[LiveServer]:
    """An NER project (Person, City, and Date with no examples) of 11 documents, three in
    Test, with models m1 and m2 (m2 trained later, after a change to the data), m1 deployed
    as production; an Arabic and Hebrew NER project; demo-classify (60 test documents)."""
    server = studio_server
    create_project(server, NER, "CustomEntityRecognition", ["Person", "City", "Date"])
    for index, (text, person, city) in enumerate(NER_TEXTS):
        add_document(
            server,
            NER,
            text,
            entities=[span(text, person, "Person"), span(text, city, "City")],
            dataset="Test" if index in (3, 7, 9) else "Train",
        )
    server.train(NER, "m1")
    server.deploy(NER, "production", "m1")
    # m2 learns from one document fewer and from one City where m1 saw seven: its
    # predictions of the test documents differ from m1's.
    server.client.delete(f"{LABELING}/{NER}/documents/document-0001.txt")
    for index in (3, 5, 6, 7, 9, 11):
        location = f"document-{index:04d}.txt"
        document = server.client.get(f"{LABELING}/{NER}/documents/{location}").json()
        people = [e for e in document["entities"] if e["category"] == "Person"]
        changed = server.client.patch(
            f"{LABELING}/{NER}/documents/{location}", json={"entities": people}
        )
        assert changed.status_code == 200, changed.text
    server.train(NER, "m2")

    create_project(server, RTL, "CustomEntityRecognition", ["Person", "City"])
    for text, person, city in ((ARABIC, "مريم", "القاهرة"), (HEBREW, "דנה", "חיפה")):
        add_document(
            server, RTL, text, entities=[span(text, person, "Person"), span(text, city, "City")]
        )

    server.import_project(CLASSIFY, demo_project_file("demo-classify", CLASSIFY))
    server.train(CLASSIFY, "m1")
    yield server


def at_width(page: Page, width: int, height: int = 720) -> None:
    page.set_viewport_size({"width": width, "height": height})


def visit(studio: Studio, route: str, heading: str) -> None:
    """Open ``route`` afresh (the same hash again would not render the page again)."""
    url = f"{studio.url}#{route}"
    if studio.page.url == url:
        studio.page.reload()
    else:
        studio.page.goto(url)
    expect(studio.page.locator("main h1")).to_have_text(heading)


def assert_no_overflow(page: Page, where: str) -> None:
    overflow = page.evaluate(_OVERFLOW)
    assert overflow <= 0, f"{where} scrolls sideways by {overflow} px"


def run_test_pane(page: Page, text: str) -> None:
    page.fill("#test-text", text)
    page.click("#run-test")
    expect(page.locator("#test-results")).to_be_visible(timeout=30_000)


def test_every_page_fits_1400_1280_and_820_px_and_review_pages_390(
    studio: Studio, studio_key: str, projects: LiveServer
) -> None:
    page = studio.page
    sign_in(studio, studio_key, screenshot=False)
    pages = [
        ("label", "Labeling"),
        ("train", "Training"),
        ("evaluate", "Evaluation"),
        ("deploy", "Deployments"),
        ("test", "Test"),
    ]
    for width in (1400, 1280, 820):
        at_width(page, width)
        for slug, heading in pages:
            visit(studio, f"/p/{NER}/{slug}", heading)
            if slug == "label":
                expect(page.locator("#doc-text")).to_be_visible()
                column = page.locator("#doc-text").evaluate("e => e.getBoundingClientRect().width")
                # The text column was 70 px wide at 820 px before the @media rules.
                assert column >= 400, f"the text column is {column} px wide at {width} px"
                # The list stays beside the text (its filters above it), every document
                # reachable.
                listed = page.locator("#doc-list").bounding_box()
                text = page.locator("#doc-text").bounding_box()
                assert listed is not None and text is not None
                assert listed["x"] + listed["width"] <= text["x"], (listed, text)
                first = page.locator("#doc-list .doc-item").first
                first.scroll_into_view_if_needed()
                expect(first).to_be_in_viewport()
            if slug == "test":
                run_test_pane(page, NER_TEXTS[0][0])
            assert_no_overflow(page, f"{slug} at {width} px")
            studio.screenshot(f"{width}-{slug}")
    # Phones: reading an evaluation and testing a deployment.
    at_width(page, 390, 844)
    visit(studio, f"/p/{NER}/evaluate/m1", "Evaluation")
    expect(page.locator("#eval-text")).to_be_visible()
    assert_no_overflow(page, "evaluation at 390 px")
    text_width = page.locator("#eval-text").evaluate("e => e.getBoundingClientRect().width")
    assert text_width >= 300, f"the evaluated text is {text_width} px wide at 390 px"
    studio.screenshot("390-evaluate")
    visit(studio, f"/p/{NER}/test", "Test")
    run_test_pane(page, NER_TEXTS[1][0])
    assert_no_overflow(page, "test at 390 px")
    studio.screenshot("390-test")
    # A reviewer reading the annotators' agreement.
    visit(studio, f"/p/{NER}/agreement", "Agreement")
    expect(page.locator("#review-settings")).to_be_visible()
    assert_no_overflow(page, "agreement at 390 px")
    studio.screenshot("390-agreement")
    studio.assert_offline()


# Each mark's text, category and box, in DOM order.
_MARKS = """view => [...view.querySelectorAll("mark")].map(mark => {
  const box = mark.getBoundingClientRect();
  return { text: mark.textContent, category: mark.dataset.category, left: box.left, right: box.right, top: box.top };
})"""


def test_arabic_and_hebrew_documents_read_right_to_left(
    studio: Studio, studio_key: str, projects: LiveServer
) -> None:
    page = studio.page
    sign_in(studio, studio_key, screenshot=False)
    documents = projects.client.get(f"{LABELING}/{RTL}/documents").json()["value"]
    for width in (1400, 820):
        at_width(page, width)
        visit(studio, f"/p/{RTL}/label", "Labeling")
        for document, script in zip(documents, ("arabic", "hebrew"), strict=True):
            page.click(f'#doc-list .doc-item[data-location="{document["location"]}"]')
            view = page.locator("#doc-text")
            expect(view.locator("mark")).to_have_count(2)
            assert view.evaluate("e => getComputedStyle(e).direction") == "rtl"
            # The DOM holds the text in its logical order, the spans in the text's order...
            assert view.evaluate("e => e.textContent") == document["text"]
            marks = view.evaluate(_MARKS)
            text = document["text"]
            in_order = sorted(document["entities"], key=lambda entity: entity["offset"])
            expected = [
                (text[e["offset"] : e["offset"] + e["length"]], e["category"]) for e in in_order
            ]
            assert [(m["text"], m["category"]) for m in marks] == expected
            # ...and on screen the earlier span is to the right of the later one (same line),
            # its Latin tag with it, not scrambled into the words around it.
            first, second = marks
            assert abs(first["top"] - second["top"]) < 4, marks
            assert first["left"] > second["right"], marks
            studio.screenshot(f"{width}-{script}")
    studio.assert_offline()


def test_an_entity_type_has_one_colour_on_labeling_and_test_pages(
    studio: Studio, studio_key: str, projects: LiveServer
) -> None:
    page = studio.page
    sign_in(studio, studio_key, screenshot=False)
    colour = "e => getComputedStyle(e).backgroundColor"
    visit(studio, f"/p/{NER}/label", "Labeling")
    labeling = {
        category: page.locator(f'#doc-text mark[data-category="{category}"]').first.evaluate(colour)
        for category in ("Person", "City")
    }
    assert labeling["Person"] != labeling["City"]
    visit(studio, f"/p/{NER}/test", "Test")
    page.select_option("#test-deployment", "production")
    run_test_pane(page, " ".join(text for text, _, _ in NER_TEXTS[:6]))
    found = page.locator("#test-highlighted mark[data-category]")
    expect(found.first).to_be_visible()
    categories = set(found.evaluate_all("marks => marks.map(m => m.dataset.category)"))
    assert categories, "the model found no entity"
    for category in categories:
        test_colour = found.and_(page.locator(f'[data-category="{category}"]')).first.evaluate(
            colour
        )
        assert test_colour == labeling[category], category
        badge = page.locator(f'#test-entities tr[data-category="{category}"] .badge').first
        assert badge.evaluate(colour) == labeling[category], category
    studio.screenshot("test-colours")
    studio.assert_offline()


def test_training_form_preselects_explains_and_guards(
    studio: Studio, studio_key: str, projects: LiveServer
) -> None:
    page = studio.page
    sign_in(studio, studio_key, screenshot=False)
    # Nothing labeled: the form says so and does not offer to train.
    create_project(projects, "scr-blank", "CustomEntityRecognition", ["Person"])
    add_document(projects, "scr-blank", "Nobody tagged me yet.")
    visit(studio, "/p/scr-blank/train", "Training")
    expect(page.locator("#start-training")).to_be_disabled()
    expect(page.locator("#train-warnings")).to_contain_text("No document is labeled yet")
    expect(page.locator("#label-warnings")).to_contain_text("Person")

    for width in (1400, 1280, 820):
        at_width(page, width)
        visit(studio, f"/p/{NER}/train", "Training")
        expect(page.locator("#start-training")).to_be_enabled()
        # The server's default configuration, explained; never trained here: no made-up time.
        expect(page.locator("#config-version")).to_have_value("2022-05-01")
        explanation = page.locator("#config-explanation")
        expect(explanation).to_contain_text("MiniLM")
        expect(page.locator("#config-estimate")).to_contain_text("No measurement yet")
        # The fast configuration trained twice on this server: a measured estimate.
        page.select_option("#config-version", "2022-05-01-fast")
        expect(explanation).to_contain_text("CRF")
        expect(page.locator("#config-estimate")).to_contain_text("About")
        expect(page.locator("#config-estimate")).to_contain_text("median of")
        # Date has no example anywhere.
        expect(page.locator("#label-warnings")).to_contain_text("Date")
        expect(page.locator("#label-warnings li")).to_have_count(1)
        # Retraining the deployed label warns, and says production keeps its model.
        page.fill("#model-label", "m1")
        warning = page.locator("#retrain-warning")
        expect(warning).to_be_visible()
        expect(warning).to_contain_text("production")
        expect(warning).to_contain_text("keeps serving")
        assert_no_overflow(page, f"training at {width} px")
        studio.screenshot(f"{width}-training-guardrails")
        page.fill("#model-label", "m2")  # trained, but not deployed
        expect(warning).to_be_hidden()
    studio.assert_offline()


def test_deploy_picker_offers_the_newest_model(
    studio: Studio, studio_key: str, projects: LiveServer
) -> None:
    page = studio.page
    sign_in(studio, studio_key, screenshot=False)
    models = projects.client.get(f"{AUTHORING}/{NER}/models", params=V).json()["value"]
    newest = max(models, key=lambda model: model["lastTrainedDateTime"])["label"]
    assert newest == "m2"
    visit(studio, f"/p/{NER}/deploy", "Deployments")
    expect(page.locator("#deploy-model")).to_have_value("m2")
    studio.screenshot("deploy-newest")
    studio.assert_offline()


def _f1(summary: dict[str, Any], label: str) -> float:
    value: float = summary["customEntityRecognitionEvaluation"]["entities"][label]["f1"]
    return value


def test_evaluation_warns_links_to_labeling_and_compares_models(
    studio: Studio, studio_key: str, projects: LiveServer
) -> None:
    page = studio.page
    sign_in(studio, studio_key, screenshot=False)
    visit(studio, f"/p/{NER}/evaluate/m1", "Evaluation")
    # Three test documents, and Date without a single test example: too small to trust.
    trust = page.locator("#eval-trust-warning")
    expect(trust).to_contain_text("Only 3 test documents")
    expect(trust).to_contain_text("Date (0)")
    # The document shown links to its labeling view.
    location = page.locator("#eval-detail h3").inner_text()
    expected_href = f"#/p/{quote(NER, safe='')}/label/{quote(location, safe='')}"
    expect(page.locator("#eval-open-labeling")).to_have_attribute("href", expected_href)

    # Compare m1 with m2.
    page.select_option("#eval-compare", "m2")
    expect(page).to_have_url(f"{studio.url}#/p/{NER}/evaluate/m1/vs/m2")
    card = page.locator("#eval-compare-card")
    expect(card).to_be_visible()
    summaries = {
        label: projects.client.get(
            f"{AUTHORING}/{NER}/models/{label}/evaluation/summary-result", params=V
        ).json()
        for label in ("m1", "m2")
    }
    for label in ("Person", "City"):
        delta = (_f1(summaries["m2"], label) - _f1(summaries["m1"], label)) * 100
        shown = card.locator(f'#compare-labels tr[data-label="{label}"] td[data-delta="f1"]')
        expected = f"+{delta:.1f}" if delta > 0 else f"{delta:.1f}" if delta < 0 else "±0.0"
        expect(shown).to_have_text(expected)
    # The documents whose predicted spans differ between the two models, from the API.
    predicted = {}
    for label in ("m1", "m2"):
        results = projects.client.get(
            f"{AUTHORING}/{NER}/models/{label}/evaluation/result",
            params={**V, "stringIndexType": "Utf16CodeUnit"},
        ).json()["value"]
        predicted[label] = {
            result["location"]: sorted(
                (e["offset"], e["length"], e["category"])
                for e in result["customEntityRecognitionResult"]["entities"][0]["predictedEntities"]
            )
            for result in results
        }
    changed = sorted(
        location
        for location in predicted["m1"].keys() & predicted["m2"].keys()
        if predicted["m1"][location] != predicted["m2"][location]
    )
    # Training is deterministic: m2, with one City to learn from, predicts some differently.
    assert changed, predicted
    rows = card.locator("#compare-documents tbody tr[data-location]")
    expect(rows).to_have_count(len(changed))
    first = card.locator(f'#compare-documents tr[data-location="{changed[0]}"]')
    expect(first.locator("a")).to_have_attribute(
        "href", f"#/p/{NER}/label/{quote(changed[0], safe='')}"
    )
    assert sorted(rows.evaluate_all("rows => rows.map(r => r.dataset.location)")) == changed
    for width in (1400, 1280, 820):
        at_width(page, width)
        assert_no_overflow(page, f"model comparison at {width} px")
        studio.screenshot_of("#eval-compare-card", f"{width}-compare")

    # A changed document's link opens it on the labeling page.
    first.locator("a").click()
    expect(page.locator("#doc-title")).to_have_text(changed[0])
    studio.assert_offline()


def test_an_evaluation_document_opens_on_screen(
    studio: Studio, studio_key: str, projects: LiveServer
) -> None:
    page = studio.page
    sign_in(studio, studio_key, screenshot=False)
    for width, height in ((1280, 720), (820, 720), (390, 844)):
        at_width(page, width, height)
        visit(studio, f"/p/{CLASSIFY}/evaluate/m1", "Evaluation")
        items = page.locator("#eval-documents .doc-item")
        expect(items).to_have_count(60)
        last = items.last
        last.scroll_into_view_if_needed()
        location = last.get_attribute("data-location")
        last.click()
        heading = page.locator("#eval-detail h3")
        expect(heading).to_have_text(location or "")
        expect(heading).to_be_in_viewport()
        expect(page.locator("#eval-text")).to_be_in_viewport()
        assert_no_overflow(page, f"evaluation at {width} px")
        studio.screenshot_of("#eval-detail", f"{width}-evaluation-detail")
    studio.assert_offline()
