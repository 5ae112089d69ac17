"""Fast, safe labeling in a real browser: undo/redo across documents, word snapping (Alt keeps
the exact selection), resizing a span by dragging its edge, retagging by re-selecting, search
and filters, an address per document, the list following n/p, classes in the list, bulk
dataset assignment, renaming and merging labels, and accepting suggestions above a confidence.

Projects are made over the API (the flows of making them are test_studio_e2e's); every check
of what the page did reads the server. Screenshots at 1400, 1280 and 820 px go to
``test-artifacts/studio/``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from playwright.sync_api import Page, Route, expect

from tests.integration.server import LiveServer
from tests.studio.clu_project import CONVERSATIONS, clu_project_file
from tests.studio.conftest import Studio
from tests.studio.test_documents_api import create_project, span
from tests.studio.test_studio_e2e import (
    _RECTS,
    _SELECT,
    LABELING,
    NER_TEXTS,
    answer_dialogs,
    sign_in,
    utf16_span,
    wait_saved,
    wait_until,
)

WIDTHS = (1400, 1280, 820)
MICROSOFT = "Microsoft opened an office in Redmond last May."
CONTOSO = "Contoso hired Anna Smith in Paris."
FABRIKAM = "Fabrikam moved to Berlin."


def add(server: LiveServer, project: str, location: str, text: str, **fields: Any) -> None:
    response = server.client.post(
        f"{LABELING}/{project}/documents", json={"text": text, "location": location}
    )
    assert response.status_code == 201, response.text
    if fields:
        response = server.client.patch(f"{LABELING}/{project}/documents/{location}", json=fields)
        assert response.status_code == 200, response.text


def stored(studio: Studio, project: str, location: str) -> dict[str, Any]:
    document: dict[str, Any] = studio.api("GET", f"{LABELING}/{project}/documents/{location}")
    return document


def surfaces(text: str, document: dict[str, Any]) -> list[tuple[str, str]]:
    """The document's spans as (text, category), in order."""
    return [
        (text[e["offset"] : e["offset"] + e["length"]], e["category"]) for e in document["entities"]
    ]


def open_address(studio: Studio, project: str, location: str = "") -> None:
    """Open the labeling page by its address (a fresh load, as a pasted link does)."""
    suffix = f"/{quote(location, safe='')}" if location else ""
    studio.page.goto(f"{studio.url}#/p/{project}/label{suffix}")
    studio.page.reload()
    expect(studio.page.locator("main h1")).to_have_text("Labeling")


def select(page: Page, text: str, start: int, end: int, alt: bool = False) -> None:
    """Select UTF-16 [start, end) of the open document as a mouse drag does."""
    assert page.locator("#doc-text").evaluate("e => e.textContent") == text
    page.evaluate(_SELECT, ["#doc-text", start, end, alt])


def screenshots(studio: Studio, name: str) -> None:
    for width in WIDTHS:
        studio.page.set_viewport_size({"width": width, "height": 900})
        studio.screenshot(f"{name}-{width}")
    studio.page.set_viewport_size({"width": 1280, "height": 800})


def drag_edge(page: Page, edge: str, span_index: int, text: str, to_offset: int) -> None:
    """Drag span ``span_index``'s ``edge`` handle with the real mouse to before the UTF-16
    offset ``to_offset`` (start) or after it (end)."""
    handle = page.locator(f'#doc-text .span-handle.{edge}[data-span="{span_index}"]')
    box = handle.bounding_box()
    assert box is not None
    if edge == "end":
        target = page.evaluate(_RECTS, ["#doc-text", to_offset - 1, to_offset])
        x, y = target["x1"], target["y1"]
    else:
        target = page.evaluate(_RECTS, ["#doc-text", to_offset, to_offset + 1])
        x, y = target["x0"], target["y0"]
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(x, y, steps=8)
    page.mouse.up()


def test_undo_redo_snapping_resizing_and_retagging(studio: Studio, studio_key: str) -> None:
    page = studio.page
    studio.name = "fast-labeling"
    project = "fast-ner"
    create_project(studio.server, project, "CustomEntityRecognition", ["Org", "Person", "City"])
    add(studio.server, project, "a.txt", CONTOSO)
    add(studio.server, project, "folder/b.txt", MICROSOFT)
    add(studio.server, project, "c.txt", FABRIKAM)
    sign_in(studio, studio_key, screenshot=False)

    # -- an address per document: opening it shows that document ---------------------------------
    open_address(studio, project, "folder/b.txt")
    expect(page.locator("#doc-title")).to_have_text("folder/b.txt")
    expect(page.locator('#doc-list .doc-item[aria-current="true"]')).to_have_attribute(
        "data-location", "folder/b.txt"
    )

    # -- word snapping: "icroso" tags "Microsoft"; with Alt, exactly what was selected -------------
    start, end = utf16_span(MICROSOFT, "icroso")
    select(page, MICROSOFT, start, end)
    expect(page.locator("#selection-hint")).to_contain_text("“Microsoft”")
    page.keyboard.press("1")
    wait_saved(page)
    assert surfaces(MICROSOFT, stored(studio, project, "folder/b.txt")) == [("Microsoft", "Org")]
    start, end = utf16_span(MICROSOFT, "Redmo")
    select(page, MICROSOFT, start + 1, end, alt=True)
    expect(page.locator("#selection-hint")).to_contain_text("“edmo”")
    page.keyboard.press("3")
    wait_saved(page)
    assert surfaces(MICROSOFT, stored(studio, project, "folder/b.txt")) == [
        ("Microsoft", "Org"),
        ("edmo", "City"),
    ]

    # -- drag the edges of "edmo" out to the whole word ------------------------------------------
    drag_edge(page, "end", 1, MICROSOFT, utf16_span(MICROSOFT, "Redmond")[1] - 2)
    wait_saved(page)  # snapped to the word's end although the drag stopped two letters short
    assert surfaces(MICROSOFT, stored(studio, project, "folder/b.txt"))[1] == ("edmond", "City")
    drag_edge(page, "start", 1, MICROSOFT, utf16_span(MICROSOFT, "Redmond")[0])
    wait_saved(page)
    assert surfaces(MICROSOFT, stored(studio, project, "folder/b.txt")) == [
        ("Microsoft", "Org"),
        ("Redmond", "City"),
    ]
    studio.screenshot("01-resized")

    # -- re-select to retag: part of "Microsoft" snaps to it, 2 makes it a Person ------------------
    select(page, MICROSOFT, 2, 4)
    page.keyboard.press("2")
    wait_saved(page)
    assert surfaces(MICROSOFT, stored(studio, project, "folder/b.txt"))[0] == (
        "Microsoft",
        "Person",
    )
    # A selection over both spans would merge two: refused, nothing changes.
    select(page, MICROSOFT, 0, len(MICROSOFT))
    page.keyboard.press("1")
    expect(page.get_by_text("Spans cannot overlap")).to_be_visible()

    # -- undo and redo (Ctrl+Z, Ctrl+Shift+Z, Ctrl+Y) -------------------------------------------
    # Each step is read back from the server until it shows: the save status says "Saved"
    # before and after a step alike, so it cannot tell that a step's request was answered.
    def surface(index: int) -> tuple[str, str]:
        return surfaces(MICROSOFT, stored(studio, project, "folder/b.txt"))[index]

    page.keyboard.press("Escape")
    page.keyboard.press("Control+z")
    wait_until(page, lambda: surface(0) == ("Microsoft", "Org"), "the undo stored")
    page.keyboard.press("Control+z")  # the drag of the start edge
    wait_until(page, lambda: surface(1) == ("edmond", "City"), "the second undo stored")
    page.keyboard.press("Control+Shift+z")
    wait_until(page, lambda: surface(1) == ("Redmond", "City"), "the redo stored")
    page.keyboard.press("Control+y")
    wait_until(page, lambda: surface(0) == ("Microsoft", "Person"), "the second redo stored")
    wait_saved(page)
    expect(page.locator("#redo")).to_be_disabled()

    # -- n / p: the address and the list follow; undo on another document goes back to it --------
    page.keyboard.press("n")
    expect(page.locator("#doc-title")).to_have_text("c.txt")
    assert page.evaluate("location.hash") == f"#/p/{project}/label/c.txt"
    expect(page.locator('#doc-list .doc-item[aria-current="true"]')).to_have_attribute(
        "data-location", "c.txt"
    )
    page.keyboard.press("Control+z")
    expect(page.locator("#doc-title")).to_have_text("folder/b.txt")
    wait_until(page, lambda: surface(0) == ("Microsoft", "Org"), "the undo on b.txt stored")
    assert page.evaluate("location.hash") == f"#/p/{project}/label/folder%2Fb.txt"
    # A document's dataset is undone as well (read back from the server, as the steps above),
    # and Undo clicked while the change is still being saved waits for it: it undoes that
    # change, not the one before (the save is held until the click).
    held: list[Route] = []

    def hold_first_save(route: Route) -> None:
        if route.request.method == "PATCH" and not held:
            held.append(route)  # answered below; the undo's own save goes through
        else:
            route.continue_()

    page.route("**/documents/folder/b.txt*", hold_first_save)
    page.check('#dataset-choice input[value="Test"]')
    wait_until(page, lambda: held, "the dataset's save sent")
    page.click("#undo")
    held[0].continue_()

    def dataset() -> object:
        return stored(studio, project, "folder/b.txt")["dataset"]

    wait_until(page, lambda: dataset() is None, "the dataset's undo stored")
    wait_saved(page)
    page.unroute("**/documents/folder/b.txt*", hold_first_save)
    assert surface(0) == ("Microsoft", "Org")  # the step before stayed done
    expect(page.locator("#redo")).to_have_attribute(
        "title", "Redo the dataset of folder/b.txt (Ctrl+Shift+Z)"
    )
    screenshots(studio, "02-labeling")
    studio.assert_offline()


def test_list_follows_the_current_document(studio: Studio, studio_key: str) -> None:
    page = studio.page
    studio.name = "list-follows"
    project = "fast-long-list"
    create_project(studio.server, project, "CustomEntityRecognition", ["Org"])
    for number in range(40):
        add(studio.server, project, f"doc-{number:02d}.txt", f"Document number {number}.")
    sign_in(studio, studio_key, screenshot=False)
    open_address(studio, project, "doc-35.txt")
    expect(page.locator("#doc-title")).to_have_text("doc-35.txt")

    def in_view(location: str) -> bool:
        visible: bool = page.evaluate(
            """location => {
              const list = document.querySelector('#doc-list').getBoundingClientRect();
              const item = document.querySelector(`#doc-list .doc-item[data-location="${location}"]`)
                .getBoundingClientRect();
              return item.top >= list.top - 1 && item.bottom <= list.bottom + 1;
            }""",
            location,
        )
        return visible

    assert in_view("doc-35.txt")
    assert not in_view("doc-00.txt")
    page.locator("#doc-text").focus()
    for _ in range(30):
        page.keyboard.press("p")
    expect(page.locator("#doc-title")).to_have_text("doc-05.txt")
    assert in_view("doc-05.txt")
    assert page.evaluate("location.hash") == f"#/p/{project}/label/doc-05.txt"
    # An address naming no document opens the first, and says so.
    open_address(studio, project, "gone.txt")
    expect(page.get_by_text("There is no document gone.txt")).to_be_visible()
    expect(page.locator("#doc-title")).to_have_text("doc-00.txt")
    studio.assert_offline()


SPORTS = ["The team won the match.", "A late goal won the cup.", "The coach praised them."]
NEWS = ["Parliament passed the law.", "The minister resigned today."]


def test_search_filters_classes_bulk_datasets_rename_and_merge(
    studio: Studio, studio_key: str
) -> None:
    page = studio.page
    studio.name = "filters"
    project = "fast-topics"
    create_project(
        studio.server, project, "CustomMultiLabelClassification", ["Sport", "News", "Politics"]
    )
    for number, text in enumerate(SPORTS):
        add(studio.server, project, f"sport-{number}.txt", text, classes=["Sport"])
    add(studio.server, project, "news-0.txt", NEWS[0], classes=["News", "Politics"])
    add(studio.server, project, "news-1.txt", NEWS[1])
    sign_in(studio, studio_key, screenshot=False)
    open_address(studio, project)
    # Renames are typed into a prompt; a merge is confirmed.
    dialogs, reply = answer_dialogs(page)
    items = page.locator("#doc-list .doc-item")
    expect(items).to_have_count(5)

    # -- the list shows each document's classes ---------------------------------------------------
    news = page.locator('#doc-list .doc-item[data-location="news-0.txt"] .doc-classes .badge')
    expect(news).to_have_text(["News", "Politics"])
    expect(
        page.locator('#doc-list .doc-item[data-location="news-1.txt"] .doc-classes')
    ).to_have_count(0)

    # -- search by text and by name, filter by class and state -----------------------------------
    page.fill("#filter-search", "WON THE")
    expect(items).to_have_count(2)
    page.fill("#filter-search", "news-")
    expect(items).to_have_count(2)
    page.fill("#filter-search", "")
    page.select_option("#filter-label", "Politics")
    expect(items).to_have_count(1)
    expect(page.locator("#doc-title")).to_have_text("news-0.txt")
    page.select_option("#filter-label", "")
    page.select_option("#filter-status", "unlabeled")
    expect(items).to_have_count(1)
    page.select_option("#filter-status", "")
    expect(items).to_have_count(5)

    # -- bulk dataset assignment: tick three, one request, and undo puts them back ----------------
    page.fill("#filter-search", "sport-")
    expect(items).to_have_count(3)
    page.check("#select-all")
    expect(page.locator("#bulk-count")).to_have_text("3 selected")
    with page.expect_request(lambda request: "documents:assign-dataset" in request.url):
        page.click("#bulk-test")
    expect(page.locator("#doc-counts")).to_contain_text("Test 3")
    datasets = {
        d["location"]: d["dataset"]
        for d in studio.api("GET", f"{LABELING}/{project}/documents")["value"]
    }
    assert datasets == {
        "sport-0.txt": "Test",
        "sport-1.txt": "Test",
        "sport-2.txt": "Test",
        "news-0.txt": None,
        "news-1.txt": None,
    }
    page.fill("#filter-search", "")
    page.locator('#doc-list li:has([data-location="news-1.txt"]) .doc-check').check()
    page.click("#bulk-train")
    expect(page.locator("#doc-counts")).to_contain_text("Train 1")
    page.click("#undo")
    expect(page.locator("#doc-counts")).to_contain_text("Train 0")
    assert stored(studio, project, "news-1.txt")["dataset"] is None
    page.select_option("#filter-dataset", "Test")
    expect(items).to_have_count(3)
    page.select_option("#filter-dataset", "")
    screenshots(studio, "01-filters")

    # -- rename a class from the page, undo it, then merge two ------------------------------------
    reply["prompt"] = "Sports"
    page.click("#label-list button[aria-label='Rename class Sport']")
    expect(page.locator("#label-list")).to_contain_text("Sports")
    expect(news.first).to_be_visible()
    assert stored(studio, project, "sport-0.txt")["classes"] == [{"category": "Sports"}]
    page.click("#undo")
    # Exact text: Playwright trims an expected substring, so "Sport " would match "Sports".
    expect(page.locator("#label-list li .badge").first).to_have_text("1 Sport")
    assert stored(studio, project, "sport-0.txt")["classes"] == [{"category": "Sport"}]
    assert dialogs == ["prompt"]  # a plain rename asks nothing more
    reply["prompt"] = "News"
    page.click("#label-list button[aria-label='Rename class Politics']")
    expect(page.locator("#label-list li")).to_have_count(2)
    assert dialogs == ["prompt", "prompt", "confirm"]  # a merge asks first
    assert stored(studio, project, "news-0.txt")["classes"] == [{"category": "News"}]
    expect(
        page.locator('#doc-list .doc-item[data-location="news-0.txt"] .doc-classes .badge')
    ).to_have_text(["News"])
    expect(page.locator("#undo")).to_be_disabled()  # a merge cannot be undone
    studio.screenshot("02-merged")
    studio.assert_offline()


NEW = "Yesterday Omar flew to Berlin and Anna moved to Paris."


def test_accepting_suggestions_above_a_confidence_and_model_disagreement(
    studio: Studio, studio_key: str
) -> None:
    page = studio.page
    studio.name = "suggestions"
    server = studio.server
    project = "fast-suggest"
    create_project(server, project, "CustomEntityRecognition", ["Person", "City"])
    for number, (text, person, city) in enumerate(NER_TEXTS):
        entities = [span(text, person, "Person"), span(text, city, "City")]
        add(server, project, f"t{number}.txt", text, entities=entities, dataset="Train")
    # Labeled the other way round: whatever the model predicts, it disagrees with these.
    wrong = "Rome is where Eva lives."
    # Both in the Test set: the manual split trains on the Train set only.
    entities = [span(wrong, "Rome", "Person")]
    add(server, project, "wrong.txt", wrong, entities=entities, dataset="Test")
    add(server, project, "new.txt", NEW, dataset="Test")
    server.train(project, "m1")
    server.deploy(project, "production", "m1")
    predicted = predictions(server, project, NEW)
    assert predicted, "the model found nothing to suggest"

    sign_in(studio, studio_key, screenshot=False)
    open_address(studio, project, "new.txt")
    page.select_option("#assist-deployment", "production")
    page.click("#suggest")
    expect(page.locator("#suggestions li")).to_have_count(len(predicted))
    # The bulk actions sit above the list, not under it.
    above_list = page.evaluate(
        "document.querySelector('#accept-above').getBoundingClientRect().bottom"
        " <= document.querySelector('#suggestions').getBoundingClientRect().top"
    )
    assert above_list
    scores = sorted(entity["confidenceScore"] for entity in predicted)
    # Between the two lowest confidences: all but the least confident suggestion are taken.
    threshold = (scores[0] + scores[1]) / 2 if len(scores) > 1 else scores[0]
    page.fill("#accept-threshold", str(threshold))
    chosen = [entity for entity in predicted if entity["confidenceScore"] >= threshold]
    assert chosen and (len(scores) == 1 or len(chosen) == len(predicted) - 1), scores
    expect(page.locator("#accept-above")).to_contain_text(f"({len(chosen)})")
    screenshots(studio, "01-suggestions")
    page.click("#accept-above")
    wait_saved(page)
    expected = sorted((e["offset"], e["length"], e["category"]) for e in chosen)
    labels = stored(studio, project, "new.txt")["entities"]
    assert sorted((e["offset"], e["length"], e["category"]) for e in labels) == expected
    # Accepting is a labeling change like any other: undo takes it back.
    page.click("#undo")
    wait_saved(page)
    assert stored(studio, project, "new.txt")["entities"] == []

    # -- model disagreement: labeled documents whose prediction differs from their labels ---------
    page.check("#filter-disagree")
    expected_locations = sorted(
        location
        for location, document in documents_by_location(studio, project).items()
        if document["labeled"]
        and sorted((e["offset"], e["length"], e["category"]) for e in document["entities"])
        != sorted(
            (e["offset"], e["length"], e["category"])
            for e in predictions(server, project, document["text"])
        )
    )
    assert "wrong.txt" in expected_locations
    expect(page.locator("#doc-list .doc-item")).to_have_count(len(expected_locations))
    listed = page.locator("#doc-list .doc-item").evaluate_all(
        "items => items.map(item => item.dataset.location)"
    )
    assert sorted(listed) == expected_locations
    studio.screenshot("02-disagreement")
    studio.assert_offline()


def documents_by_location(studio: Studio, project: str) -> dict[str, dict[str, Any]]:
    body = studio.api("GET", f"{LABELING}/{project}/documents")
    return {document["location"]: document for document in body["value"]}


def predictions(server: LiveServer, project: str, text: str) -> list[dict[str, Any]]:
    """The production deployment's entities in ``text`` (code points), over the runtime API."""
    body = server.run_job(
        "POST",
        "/language/analyze-text/jobs",
        params={"api-version": "2023-04-01"},
        json={
            "analysisInput": {"documents": [{"id": "1", "text": text, "language": "en-us"}]},
            "tasks": [
                {
                    "kind": "CustomEntityRecognition",
                    "parameters": {
                        "projectName": project,
                        "deploymentName": "production",
                        "stringIndexType": "UnicodeCodePoint",
                    },
                }
            ],
        },
    )
    entities: list[dict[str, Any]] = body["tasks"]["items"][0]["results"]["documents"][0][
        "entities"
    ]
    return entities


def test_utterances_share_snapping_undo_and_addresses(studio: Studio, studio_key: str) -> None:
    """A conversation project's utterance page has the same tagger and history."""
    page = studio.page
    studio.name = "fast-utterances"
    project = "fast-clu"
    studio.server.run_job(
        "POST",
        f"{CONVERSATIONS}/{project}/:import",
        params={"api-version": "2023-04-01"},
        json=clu_project_file(project),
    )
    utterances = studio.api("GET", f"{LABELING}/{project}/documents")["value"]
    target = next(u for u in utterances if u["intent"] == "None")
    location, text = target["location"], target["text"]
    sign_in(studio, studio_key, screenshot=False)
    open_address(studio, project, location)
    expect(page.locator("#intent-select")).to_have_value("None")
    expect(page.locator("#doc-text")).to_have_text(text)

    # Part of the last word snaps to all of it; 1 tags it as City (the first entity).
    word = text.split()[-1]
    start, end = utf16_span(text, word)
    select(page, text, start + 1, end - 1)
    expect(page.locator("#selection-hint")).to_contain_text(f"“{word}”")
    page.keyboard.press("1")
    wait_saved(page)
    page.select_option("#intent-select", "GetWeather")
    wait_saved(page)
    after = stored(studio, project, location)
    assert after["intent"] == "GetWeather"
    assert surfaces(text, after) == [(word, "City")]

    # Undo both (the intent first), redo one.
    page.locator("#doc-text").focus()
    page.keyboard.press("Control+z")
    wait_saved(page)
    assert stored(studio, project, location)["intent"] == "None"
    page.keyboard.press("Control+z")
    wait_saved(page)
    assert stored(studio, project, location)["entities"] == []
    page.keyboard.press("Control+y")
    wait_saved(page)
    assert surfaces(text, stored(studio, project, location)) == [(word, "City")]
    page.keyboard.press("n")
    current = page.locator('#doc-list .doc-item[aria-current="true"]')
    expect(current).not_to_have_attribute("data-location", location)
    following = current.get_attribute("data-location")
    escaped = page.evaluate("location => encodeURIComponent(location)", following)
    assert page.evaluate("location.hash") == f"#/p/{project}/label/{escaped}"
    screenshots(studio, "01-utterances")

    # Renaming an intent onto another's name merges them, once confirmed.
    dialogs: list[str] = []

    def answer(dialog: Any) -> None:
        dialogs.append(dialog.type)
        dialog.accept("GetWeather") if dialog.type == "prompt" else dialog.accept()

    page.on("dialog", answer)
    page.click("#intent-list button[aria-label='Rename intent BookFlight']")
    expect(page.locator("#intent-list li")).to_have_count(2)
    assert dialogs == ["prompt", "confirm"]
    intents = {u["intent"] for u in studio.api("GET", f"{LABELING}/{project}/documents")["value"]}
    assert intents == {"GetWeather", "None"}
    studio.assert_offline()
