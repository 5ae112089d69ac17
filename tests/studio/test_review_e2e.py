"""Review and agreement in the Studio: an annotator labels their own version of a document in
the double-annotation sample (the document's labels stay as they were), a reviewer accepts a
document (its badge changes in the list and the editor), the Agreement page shows the pair's
span F1 as ``domain.agreement`` computes it, and the side-by-side view resolves a conflict
with one annotator's version.

Screenshots at 1400, 1280 and 820 px go to ``test-artifacts/studio/``.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from lexicraft.domain.agreement import span_agreement
from lexicraft.domain.spans import Span
from tests.integration.server import API_VERSION, AUTHORING
from tests.studio.conftest import Studio
from tests.studio.test_roles_e2e import screenshots
from tests.studio.test_studio_e2e import open_document, sign_in, tag

LEXICRAFT = "/language/lexicraft"
LABELING = f"{LEXICRAFT}/projects"
PROJECT = "review-e2e"
ONE = "Rita Sousa lives in Braga."
TWO = "Ana met Bo in Porto."
BO_VERSION = [
    {"category": "Person", "offset": 0, "length": 3},
    {"category": "Person", "offset": 8, "length": 2},
    {"category": "City", "offset": 14, "length": 5},
]


def set_up(studio: Studio) -> dict[str, str]:
    """An NER project with every document in the double-annotation sample, one.txt labeled,
    bo's version of two.txt, and keys of ana (annotator) and rita (reviewer)."""
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
    for location, text in (("one.txt", ONE), ("two.txt", TWO)):
        studio.api(
            "POST", f"{LABELING}/{PROJECT}/documents", json={"text": text, "location": location}
        )
    studio.api(
        "PATCH",
        f"{LABELING}/{PROJECT}/documents/one.txt",
        json={"entities": [{"category": "Person", "offset": 0, "length": 10}]},
    )
    studio.api(
        "PATCH", f"{LABELING}/{PROJECT}/review-settings", json={"doubleAnnotationFraction": 1.0}
    )
    keys = {}
    for name, role in (("ana", "annotator"), ("bo", "annotator"), ("rita", "reviewer")):
        user = studio.api("POST", f"{LEXICRAFT}/users", json={"name": name, "role": role})
        keys[name] = user["newKey"]["key"]
    response = studio.server.client.put(
        f"{LABELING}/{PROJECT}/documents/two.txt/annotations/mine",
        headers={"Ocp-Apim-Subscription-Key": keys["bo"]},
        json={"entities": BO_VERSION},
    )
    assert response.status_code == 200, response.text
    return keys


def _spans(entities: list[dict[str, Any]]) -> tuple[Span, ...]:
    return tuple(Span(e["offset"], e["offset"] + e["length"], e["category"]) for e in entities)


def test_review_agreement_and_resolving_side_by_side(studio: Studio) -> None:
    page = studio.page
    studio.name = "review"
    keys = set_up(studio)

    # ana labels her own version of two.txt: the document's labels do not change.
    sign_in(studio, keys["ana"], screenshot=False)
    page.goto(f"{studio.url}#/p/{PROJECT}/label/two.txt")
    expect(page.locator("#doc-title")).to_have_text("two.txt")
    expect(page.locator("#own-badge")).to_be_visible()
    expect(page.locator("#review-accept")).to_be_hidden()  # annotators do not review
    text = page.locator("#doc-text").evaluate("element => element.textContent")
    tag(page, text, "Ana", "1", "Person", saved="Saved (your version)")
    tag(page, text, "Porto", "2", "City", saved="Saved (your version)")
    versions = studio.api("GET", f"{LABELING}/{PROJECT}/documents/two.txt/annotations")
    ana_version = next(v for v in versions["value"] if v["annotator"] == "ana")["entities"]
    assert ana_version == [
        {"category": "Person", "offset": 0, "length": 3},
        {"category": "City", "offset": 14, "length": 5},
    ]
    assert versions["document"]["entities"] == []
    screenshots(studio, "01-own-version-annotator")

    # rita accepts one.txt: its badge turns "accepted" in the list and the editor.
    page.click("#sign-out")
    sign_in(studio, keys["rita"], screenshot=False)
    page.goto(f"{studio.url}#/p/{PROJECT}/label")
    open_document(page, "one.txt")
    badge = page.locator('#doc-list .doc-item[data-location="one.txt"] .badge.state')
    expect(badge).to_have_text("labeled")
    page.uncheck("#own-version")  # the resolved labels, not rita's own (empty) version
    expect(page.locator("#doc-text mark[data-category=Person]")).to_have_text("Rita Sousa")
    page.click("#review-accept")
    expect(badge).to_have_text("accepted")
    expect(page.locator(".page-head .badge.state")).to_have_text("accepted")
    expect(page.locator("#review-who")).to_contain_text("accepted by rita")
    stored = studio.api("GET", f"{LABELING}/{PROJECT}/documents/one.txt")
    assert (stored["state"], stored["reviewedBy"]) == ("accepted", "rita")
    page.select_option("#filter-status", "accepted")
    expect(page.locator("#doc-list .doc-item")).to_have_count(1)
    screenshots(studio, "02-accepted-reviewer")

    # The Agreement page: ana ↔ bo, span F1 as the domain computes it, two.txt in conflict.
    page.goto(f"{studio.url}#/p/{PROJECT}/agreement")
    pair = page.locator('.agreement-pair[data-pair="ana|bo"]')
    expect(pair).to_be_visible()
    expected = span_agreement(
        "ana",
        "bo",
        ({"two.txt": _spans(ana_version)}, {"two.txt": _spans(BO_VERSION)}),
        ["Person", "City"],
    )
    assert expected.overall is not None
    expect(pair.locator(".overall")).to_have_text(f"{expected.overall:.2f}")
    expect(pair.locator('tr[data-category="Person"] .score')).to_have_text(
        f"{expected.labels[0].score:.2f}"
    )
    expect(pair.locator(".conflicts a")).to_have_text(["two.txt"])
    screenshots(studio, "03-agreement")

    # Side by side: bo's version becomes two.txt's labels, and the document is accepted.
    pair.locator('.conflicts a[data-location="two.txt"]').click()
    expect(page.locator("#compare-title")).to_have_text("Versions of two.txt")
    expect(page.locator("#compare .version")).to_have_count(3)
    expect(page.locator('#compare .version[data-annotator="ana"] mark.differs')).to_have_count(0)
    expect(page.locator('#compare .version[data-annotator="bo"] mark.differs')).to_have_text("Bo")
    screenshots(studio, "04-side-by-side")
    page.click("#use-bo")
    expect(page.locator("#compare .page-head .badge.state")).to_have_text("accepted")
    resolved = studio.api("GET", f"{LABELING}/{PROJECT}/documents/two.txt")
    assert (resolved["entities"], resolved["state"], resolved["labeledBy"]) == (
        BO_VERSION,
        "accepted",
        "bo",
    )
    studio.assert_offline()
