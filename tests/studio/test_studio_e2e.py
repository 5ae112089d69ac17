"""The Studio in a real browser: Debian's Chromium, driven by Playwright, against a real server.

Each flow goes sign in → create a project → add and label 12 documents → train → evaluation
(confusion matrix) → deploy → Test, saving a screenshot of every page to
``test-artifacts/studio/``. Every test fails if the page requested anything from another host.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.studio.conftest import Studio

LABELING = "/language/lexicraft/projects"

# Select UTF-16 offsets [start, end) of the text inside `selector` the way a user's drag does:
# a DOM selection, then the mouseup that ends a drag (with Alt held when altKey is true).
_SELECT = """([selector, start, end, altKey = false]) => {
  const container = document.querySelector(selector);
  const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
  const nodes = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) nodes.push(node);
  const point = (offset) => {
    for (const node of nodes) {
      if (offset <= node.data.length) return [node, offset];
      offset -= node.data.length;
    }
    throw new Error("offset beyond the text");
  };
  const range = document.createRange();
  range.setStart(...point(start));
  range.setEnd(...point(end));
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  container.dispatchEvent(new MouseEvent("mouseup", { bubbles: true, altKey }));
}"""

# Where UTF-16 offsets [start, end) are on screen, to drag over them with the real mouse.
_RECTS = """([selector, start, end]) => {
  const container = document.querySelector(selector);
  const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
  const nodes = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) nodes.push(node);
  const point = (offset) => {
    for (const node of nodes) {
      if (offset <= node.data.length) return [node, offset];
      offset -= node.data.length;
    }
    throw new Error("offset beyond the text");
  };
  const range = document.createRange();
  range.setStart(...point(start));
  range.setEnd(...point(end));
  const rects = range.getClientRects();
  const first = rects[0];
  const last = rects[rects.length - 1];
  return { x0: first.left + 1, y0: first.top + first.height / 2, x1: last.right - 1, y1: last.top + last.height / 2 };
}"""


# The text under each mark id (a mark split by overlapping ones spans several elements).
_MARKED_TEXTS = """view => {
  const texts = {};
  for (const element of view.querySelectorAll("mark")) {
    for (const id of element.dataset.marks.split(" ")) texts[id] = (texts[id] || "") + element.textContent;
  }
  return texts;
}"""


def utf16(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (what the DOM counts)."""
    return len(text.encode("utf-16-le")) // 2


def utf16_span(text: str, surface: str) -> tuple[int, int]:
    """UTF-16 [start, end) of the first ``surface`` in ``text``."""
    start = utf16(text[: text.index(surface)])
    return start, start + utf16(surface)


# -- steps -----------------------------------------------------------------------------------------


def answer_dialogs(page: Page) -> tuple[list[str], dict[str, str]]:
    """Accept every dialog the page opens, typing ``reply["prompt"]`` into prompts; returns
    the dialogs' types as they came and the reply to set before each prompt."""
    dialogs: list[str] = []
    reply = {"prompt": ""}

    def answer(dialog: Dialog) -> None:
        dialogs.append(dialog.type)
        dialog.accept(reply["prompt"]) if dialog.type == "prompt" else dialog.accept()

    page.on("dialog", answer)
    return dialogs, reply


def sign_in(studio: Studio, key: str, screenshot: bool = True) -> None:
    page = studio.page
    page.goto(studio.url)
    expect(page.locator("#api-key")).to_be_focused()
    if screenshot:
        studio.screenshot("01-sign-in")
    page.fill("#api-key", "wrong-key")
    page.click("form.sign-in button[type=submit]")
    expect(page.get_by_text("That key was not accepted by the server.")).to_be_visible()
    page.fill("#api-key", key)
    page.click("form.sign-in button[type=submit]")
    expect(page.locator("#projects-table")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('lexicraft.subscriptionKey')") == key
    assert page.evaluate("localStorage.length") == 0


def create_project(studio: Studio, name: str, kind: str, labels: list[str]) -> None:
    page = studio.page
    page.fill("#new-project-name", name)
    page.select_option("#new-project-kind", kind)
    page.select_option("#new-project-language", "en-us")
    page.fill("#new-project-labels", "\n".join(labels))
    page.fill("#new-project-description", f"{name} made by the browser test")
    page.get_by_role("button", name="Create project").click()
    expect(page.locator("h1")).to_have_text("Labeling")
    expect(page.locator("#label-list li")).to_have_count(len(labels))


def add_documents(page: Page, texts: list[str], uploads: dict[str, str] | None = None) -> None:
    """Paste ``texts`` one per line and upload each of ``uploads`` (name → text) as a .txt."""
    before = page.locator("#doc-list .doc-item").count()
    page.click("#add-documents")
    expect(page.locator("#add-dialog")).to_be_visible()
    page.fill("#add-text", "\n".join(texts))
    page.check("#add-split-lines")
    if uploads:
        page.set_input_files(
            "#add-files",
            files=[
                {"name": name, "mimeType": "text/plain", "buffer": text.encode("utf-8")}
                for name, text in uploads.items()
            ],
        )
    page.click("#add-submit")
    expect(page.locator("#add-dialog")).to_be_hidden()
    expected = before + len(texts) + len(uploads or {})
    expect(page.locator("#doc-list .doc-item")).to_have_count(expected)


def open_document(page: Page, location: str) -> str:
    """Open a document of the list; returns its text."""
    page.click(f'#doc-list .doc-item[data-location="{location}"]')
    expect(page.locator("#doc-title")).to_have_text(location)
    text: str = page.locator("#doc-text").evaluate("element => element.textContent")
    return text


def wait_saved(page: Page, saved: str = "Saved") -> None:
    expect(page.locator("#save-status")).to_have_text(saved)


def tag(page: Page, text: str, surface: str, key: str, category: str, saved: str = "Saved") -> None:
    """Select ``surface`` in the open document and press ``key`` to tag it (``saved``: what
    the save status says then; "Saved (your version)" for an own version)."""
    page.evaluate(_SELECT, ["#doc-text", *utf16_span(text, surface)])
    expect(page.locator("#selection-hint")).to_contain_text(surface)
    page.keyboard.press(key)
    wait_saved(page, saved)
    expect(
        page.locator(f'#doc-text mark[data-category="{category}"]', has_text=surface)
    ).to_be_visible()


def set_dataset(page: Page, dataset: str) -> None:
    page.check(f'#dataset-choice input[value="{dataset}"]')
    wait_saved(page)


def wait_until(
    page: Page, condition: Callable[[], object], failure: str, timeout_s: float = 20.0
) -> None:
    """Let the page run until ``condition()`` is true; fail with ``failure`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{failure} within {timeout_s:g} s"
        page.wait_for_timeout(20)  # Playwright delivers the page's events meanwhile


def go(page: Page, link: str, heading: str) -> None:
    page.click(f"#project-nav a:text-is('{link}')")
    expect(page.locator("main h1")).to_have_text(heading)


def train(studio: Studio, label: str) -> None:
    page = studio.page
    go(page, "Training", "Training")
    # The default configuration is preselected; the tests train the fast one.
    expect(page.locator("#config-version")).to_have_value("2022-05-01")
    page.select_option("#config-version", "2022-05-01-fast")
    page.fill("#model-label", label)
    page.check("#split-manual")
    page.click("#start-training")
    expect(page.locator("#train-status")).to_have_text("succeeded", timeout=90_000)
    expect(page.locator("#train-progress")).to_have_attribute("value", "100")
    expect(page.locator(f'#models-table tr[data-model="{label}"]')).to_be_visible()
    studio.screenshot("05-training")


def check_evaluation(
    studio: Studio, labels: list[str], expected_spans: tuple[str, list[str]] | None = None
) -> None:
    page = studio.page
    go(page, "Evaluation", "Evaluation")
    matrix = page.locator("#confusion-matrix")
    expect(matrix).to_be_visible()
    headers = matrix.locator("thead th").all_inner_texts()
    for label in labels:
        assert label in headers, headers
    # Each expected label's row has at least one count; the diagonal is coloured.
    diagonal = matrix.locator(f'td[data-expected="{labels[0]}"][data-predicted="{labels[0]}"]')
    assert diagonal.evaluate("cell => getComputedStyle(cell).backgroundColor") != "rgba(0, 0, 0, 0)"
    expect(page.locator("#label-metrics tbody tr")).to_have_count(len(labels))
    expect(page.locator("#eval-documents .doc-item").first).to_be_visible()
    if expected_spans:
        # A test document with emoji: its expected spans (UTF-16 offsets on the wire) are marked
        # on exactly their text, as right (tp) or missed (fn), whatever the model predicted.
        location, surfaces = expected_spans
        page.click(f'#eval-documents .doc-item[data-location="{location}"]')
        expect(page.locator("#eval-detail h3")).to_have_text(location)
        marked = page.locator("#eval-text").evaluate(_MARKED_TEXTS)
        expected = sorted(text for key, text in marked.items() if key[:2] in ("tp", "fn"))
        assert expected == sorted(surfaces), marked
    else:
        page.locator("#eval-documents .doc-item").first.click()
    expect(page.locator("#eval-text")).to_be_visible()
    studio.screenshot("06-evaluation")
    studio.screenshot_of("section:has(#docs-title)", "06b-evaluation-documents")


def deploy(studio: Studio, name: str, label: str) -> None:
    page = studio.page
    go(page, "Deployments", "Deployments")
    page.fill("#deployment-name", name)
    page.select_option("#deploy-model", label)
    page.click("#deploy")
    expect(
        page.locator(f'#deployments-table tr[data-deployment="{name}"] td.model')
    ).to_contain_text(label)


# -- flows -----------------------------------------------------------------------------------------

NER_TEXTS = [
    ("Yesterday Anna flew to Paris.", "Anna", "Paris"),
    ("Tom moved to Berlin in May.", "Tom", "Berlin"),
    ("Last year Maria lived in Tokyo.", "Maria", "Tokyo"),
    ("Peter flew to Madrid yesterday.", "Peter", "Madrid"),
    ("In June Lena moved to Vienna.", "Lena", "Vienna"),
    ("Omar lives in Cairo now.", "Omar", "Cairo"),
    ("Tomorrow Sara flies to Lisbon.", "Sara", "Lisbon"),
    ("In April the Prague office hired Jan.", "Jan", "Prague"),
    ("Today Nina lives in Dublin.", "Nina", "Dublin"),
    ("Paul flew to Athens yesterday.", "Paul", "Athens"),
    ("Next week Eva moves to Rome.", "Eva", "Rome"),
]
EMOJI_TEXT = "🎉👩‍💻 Maria flew to Oslo 🇳🇴 last week."
NER_TEST_DOCUMENTS = {"document-0004.txt", "document-0008.txt", "emoji.txt"}


def test_ner_project_end_to_end(studio: Studio, studio_key: str) -> None:
    page = studio.page
    studio.name = "ner"
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(studio, studio_key)
    create_project(studio, "e2e-ner", "CustomEntityRecognition", ["Person", "City"])
    name = "e2e-ner"

    # -- add 12 documents: 11 pasted, one uploaded .txt with emoji --------------------------------
    add_documents(page, [text for text, _, _ in NER_TEXTS], {"emoji.txt": EMOJI_TEXT})
    expect(page.locator("#doc-counts")).to_contain_text("12 documents · 0 labeled")

    # -- the emoji document: selections snap to whole grapheme clusters --------------------------
    text = open_document(page, "emoji.txt")
    assert text == EMOJI_TEXT  # the DOM holds the text exactly, so DOM offsets are text offsets
    # From inside the surrogate pair of 🎉 to inside the ZWJ sequence 👩‍💻.
    page.evaluate(_SELECT, ["#doc-text", 1, 4])
    expect(page.locator("#selection-hint")).to_contain_text("“🎉👩‍💻”")
    page.keyboard.press("1")
    wait_saved(page)
    stored = studio.api("GET", f"{LABELING}/{name}/documents/emoji.txt")
    # Code points: 🎉, 👩, ZWJ, 💻 — never half a character.
    assert stored["entities"] == [{"category": "Person", "offset": 0, "length": 4}]
    # Click the span, then Delete removes it.
    page.click("#doc-text mark[data-category=Person]")
    expect(page.locator("#selection-hint")).to_contain_text("Span Person")
    page.keyboard.press("Delete")
    wait_saved(page)
    expect(page.locator("#doc-text mark")).to_have_count(0)
    # "Maria" with a real mouse drag, "Oslo" with a selection and the keyboard.
    box = page.evaluate(_RECTS, ["#doc-text", *utf16_span(EMOJI_TEXT, "Maria")])
    page.mouse.move(box["x0"], box["y0"])
    page.mouse.down()
    page.mouse.move(box["x1"], box["y1"], steps=6)
    page.mouse.up()
    expect(page.locator("#selection-hint")).to_contain_text("“Maria”")
    page.keyboard.press("1")
    wait_saved(page)
    tag(page, EMOJI_TEXT, "Oslo", "2", "City")
    # A selection over two spans is refused in the page (one over a single span replaces it).
    page.evaluate(_SELECT, ["#doc-text", *utf16_span(EMOJI_TEXT, "Maria flew to Oslo")])
    page.keyboard.press("1")
    expect(page.get_by_text("Spans cannot overlap")).to_be_visible()
    set_dataset(page, "Test")
    stored = studio.api("GET", f"{LABELING}/{name}/documents/emoji.txt")
    assert stored["dataset"] == "Test"
    assert [EMOJI_TEXT[e["offset"] : e["offset"] + e["length"]] for e in stored["entities"]] == [
        "Maria",
        "Oslo",
    ]

    # -- label the other 11 with the keyboard -----------------------------------------------------
    for number, (text, person, city) in enumerate(NER_TEXTS, start=1):
        location = f"document-{number:04d}.txt"
        assert open_document(page, location) == text
        tag(page, text, person, "1", "Person")
        if number == len(NER_TEXTS):
            # The keyboard-only way: type the text to tag and choose its entity.
            page.click("summary:text-is('Tag by typing')")
            page.fill("#tag-text", city)
            page.select_option("#tag-label", "City")
            page.click("form[aria-label='Tag text by typing it'] button")
            wait_saved(page)
            expect(page.locator("#doc-text mark[data-category=City]")).to_have_text(city)
        else:
            tag(page, text, city, "2", "City")
        set_dataset(page, "Test" if location in NER_TEST_DOCUMENTS else "Train")
    expect(page.locator("#doc-counts")).to_contain_text(
        "12 documents · 12 labeled · 0 unlabeled · Train 9 · Test 3"
    )
    # Filters: the Test set.
    page.select_option("#filter-dataset", "Test")
    expect(page.locator("#doc-list .doc-item")).to_have_count(3)
    page.select_option("#filter-dataset", "")
    expect(page.locator("#doc-list .doc-item")).to_have_count(12)
    # A label in use cannot be removed.
    page.click("#label-list button[aria-label='Remove entity City']")
    expect(page.get_by_text("is used by 12 document(s)")).to_be_visible()
    open_document(page, "document-0001.txt")
    studio.screenshot("04-labeling")

    train(studio, "m1")
    check_evaluation(studio, ["Person", "City"], ("emoji.txt", ["Maria", "Oslo"]))
    deploy(studio, "production", "m1")
    studio.screenshot("07-deployments")

    # -- model-assisted labeling ------------------------------------------------------------------
    go(page, "Labeling", "Labeling")
    page.click("#add-documents")
    page.fill("#add-text", "Yesterday Omar flew to Berlin.")
    page.click("#add-submit")
    expect(page.locator("#doc-title")).to_have_text("document-0013.txt")
    page.select_option("#assist-deployment", "production")
    page.click("#suggest")
    expect(page.locator("#suggestions li", has_text="Berlin")).to_be_visible()
    expect(page.locator("#doc-text mark.suggestion").first).to_be_visible()
    studio.screenshot("08-labeling-suggestions")
    page.click("#accept-all")
    wait_saved(page)
    stored = studio.api("GET", f"{LABELING}/{name}/documents/document-0013.txt")
    assert {"category": "City", "offset": 23, "length": 6} in stored["entities"]
    # "Label next" ordering: least confident first, by the deployment.
    page.select_option("#order", "uncertainty")
    expect(page.locator("#doc-list .badge", has_text="conf").first).to_be_visible()
    confidences = [
        float(badge.removeprefix("conf "))
        for badge in page.locator("#doc-list .badge", has_text="conf").all_inner_texts()
    ]
    assert confidences == sorted(confidences)

    # -- Test page ---------------------------------------------------------------------------------
    go(page, "Test", "Test")
    probe = "🎉 Tomorrow Anna flies to Paris."
    page.fill("#test-text", probe)
    page.click("#run-test")
    city = page.locator('#test-highlighted mark[data-category="City"]')
    expect(city).to_have_text("Paris")
    expect(page.locator("#test-json")).to_contain_text('"CustomEntityRecognitionLROResults"')
    raw = json.loads(page.locator("#test-json").inner_text())
    entity = next(
        e
        for e in raw["tasks"]["items"][0]["results"]["documents"][0]["entities"]
        if e["category"] == "City"
    )
    assert (entity["offset"], entity["length"]) == (probe.index("Paris"), 5)  # code points
    studio.screenshot("09-test")

    # -- deployments: swap and delete --------------------------------------------------------------
    deploy(studio, "staging", "m1")
    page.select_option("#swap-first", "production")
    page.select_option("#swap-second", "staging")
    page.click("#swap")
    expect(page.get_by_text("Swapped production and staging.")).to_be_visible()
    page.click("#deployments-table button[aria-label='Delete deployment staging']")
    expect(page.locator('#deployments-table tr[data-deployment="staging"]')).to_have_count(0)

    # -- projects: export, import under a new name, delete ----------------------------------------
    page.click("a.brand")
    expect(page.locator(f'#projects-table tr[data-project="{name}"]')).to_be_visible()
    studio.screenshot("02-projects")
    with page.expect_download() as download_info:
        page.click(f'#projects-table tr[data-project="{name}"] button:text-is("Export")')
    exported_path = Path(download_info.value.path())
    exported: dict[str, Any] = json.loads(exported_path.read_text("utf-8"))
    assert exported["stringIndexType"] == "Utf16CodeUnit"
    assert len(exported["assets"]["documents"]) == 13
    emoji = next(d for d in exported["assets"]["documents"] if d["location"] == "emoji.txt")
    assert emoji["entities"][0]["labels"][0] == {
        "category": "Person",
        "offset": utf16_span(EMOJI_TEXT, "Maria")[0],
        "length": 5,
    }
    page.set_input_files("#import-file", str(exported_path))
    page.fill("#import-name", "e2e-ner-copy")
    page.get_by_role("button", name="Import", exact=True).click()
    copy_row = page.locator('#projects-table tr[data-project="e2e-ner-copy"]')
    expect(copy_row).to_be_visible()
    copied = studio.api("GET", f"{LABELING}/e2e-ner-copy/documents")
    assert copied["counts"]["total"] == 13
    copy_row.locator("button:text-is('Delete')").click()
    expect(copy_row).to_have_count(0)

    studio.assert_offline()


SPORTS = [
    "The team won the football match.",
    "A great goal in the match tonight.",
    "The player scored in the final match.",
    "Our team lost the cup match.",
    "The coach praised the team after the match.",
    "Fans cheered ⚽ as the team won the match.",
]
POLITICS = [
    "The parliament passed the new law.",
    "The minister announced an election.",
    "Voters elected a new parliament.",
    "The president signed the law.",
    "The election campaign started today 🗳️.",
    "The senate debated the budget law.",
]


def test_classification_project_end_to_end(studio: Studio, studio_key: str) -> None:
    page = studio.page
    studio.name = "classification"
    sign_in(studio, studio_key)
    create_project(studio, "e2e-topics", "CustomSingleLabelClassification", ["Sports", "Politics"])
    name = "e2e-topics"
    texts = [text for pair in zip(SPORTS, POLITICS, strict=True) for text in pair]
    add_documents(page, texts)
    studio.screenshot("03-labeling-empty")

    for number, text in enumerate(texts, start=1):
        location = f"document-{number:04d}.txt"
        assert open_document(page, location) == text
        page.keyboard.press("1" if text in SPORTS else "2")
        wait_saved(page)
        expect(page.locator("#doc-list .doc-item[aria-current=true] .badge.ok")).to_be_visible()
        set_dataset(page, "Test" if number > 8 else "Train")
    documents = studio.api("GET", f"{LABELING}/{name}/documents")["value"]
    assert [d["classes"][0]["category"] for d in documents] == [
        "Sports" if text in SPORTS else "Politics" for text in texts
    ]
    expect(page.locator("#doc-counts")).to_contain_text(
        "12 documents · 12 labeled · 0 unlabeled · Train 8 · Test 4"
    )
    open_document(page, "document-0002.txt")
    studio.screenshot("04-labeling")

    train(studio, "topics-1")
    check_evaluation(studio, ["Sports", "Politics"])
    deploy(studio, "production", "topics-1")
    studio.screenshot("07-deployments")

    go(page, "Test", "Test")
    page.set_input_files(
        "#test-file",
        files=[
            {
                "name": "probe.txt",
                "mimeType": "text/plain",
                "buffer": "The team played a great match ⚽.".encode(),
            }
        ],
    )
    expect(page.locator("#test-text")).to_have_value("The team played a great match ⚽.")
    page.click("#run-test")
    expect(page.locator("#test-classes li.top")).to_have_attribute("data-category", "Sports")
    expect(page.locator("#test-json")).to_contain_text(
        '"CustomSingleLabelClassificationLROResults"'
    )
    studio.screenshot("09-test")

    studio.assert_offline()


def test_the_offline_check_catches_other_hosts(studio: Studio, studio_key: str) -> None:
    """The checks above see a request to another host, sent or blocked, so they mean something."""
    page = studio.page
    # A page without the Studio's CSP: the request leaves and is recorded.
    page.goto(f"{studio.server.base_url}/health")
    page.evaluate("fetch('http://example.invalid/x').catch(() => null)")
    expect(page.locator("body")).to_contain_text("ok")
    wait_until(page, studio.foreign_requests, "the request to example.invalid was not recorded")
    assert studio.foreign_requests() == ["http://example.invalid/x"]
    with pytest.raises(AssertionError, match="requests to other hosts"):
        studio.assert_offline()
    studio.requests.clear()
    # The Studio: its Content-Security-Policy refuses the request and the console says so.
    sign_in(studio, studio_key, screenshot=False)
    page.evaluate("fetch('http://example.invalid/y').catch(() => null)")
    wait_until(
        page,
        lambda: any("example.invalid/y" in message for message in studio.blocked),
        "the console did not report the blocked request",
    )
    assert studio.foreign_requests() == []
    assert any("example.invalid/y" in message for message in studio.blocked), studio.blocked
    with pytest.raises(AssertionError, match="blocked by the CSP"):
        studio.assert_offline()


def test_multi_label_classes_by_keyboard_and_checkbox(studio: Studio, studio_key: str) -> None:
    """Multi-label documents take several classes: digits toggle them, so do the checkboxes."""
    page = studio.page
    studio.name = "multi-label"
    sign_in(studio, studio_key, screenshot=False)
    create_project(
        studio, "e2e-multi", "CustomMultiLabelClassification", ["Battery", "Screen", "Price"]
    )
    add_documents(
        page, ["The battery dies and the screen flickers.", "Too expensive 💸 for what it is."]
    )
    open_document(page, "document-0001.txt")
    page.keyboard.press("1")
    wait_saved(page)
    page.keyboard.press("2")
    wait_saved(page)
    expect(page.locator(".label-bar input:checked")).to_have_count(2)
    page.locator(".label-bar label[data-label=Screen] input").uncheck()
    wait_saved(page)
    page.locator(".label-bar label[data-label=Price] input").check()
    wait_saved(page)
    stored = studio.api("GET", f"{LABELING}/e2e-multi/documents/document-0001.txt")
    assert stored["classes"] == [{"category": "Battery"}, {"category": "Price"}]
    # "Label next" jumps to the next unlabeled document.
    page.click("#label-next")
    expect(page.locator("#doc-title")).to_have_text("document-0002.txt")
    # Keyboard focus is visible: Tab from the text onto the dataset choice shows a 3px ring.
    page.focus("#doc-text")
    page.keyboard.press("Tab")
    ring = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth]; })()"
    )
    assert ring[1:] == ["solid", "3px"], ring
    studio.screenshot("04-labeling")
    studio.assert_offline()
