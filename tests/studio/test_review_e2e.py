"""Review and agreement in the Studio: an annotator labels their own version of a document in
the double-annotation sample (the document's labels stay as they were), a reviewer accepts a
document (its badge changes in the list and the editor), the Agreement page shows the pair's
span F1 as ``domain.agreement`` computes it, and the side-by-side view resolves a conflict
with one annotator's version. The same on a conversation (CLU) project's utterances page: an
own version's intent and entity, accept and send back, intent kappa and entity span F1, and an
utterance resolved with another annotator's intent.

Screenshots at 1400, 1280 and 820 px go to ``test-artifacts/studio/``.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from lexicraft.domain.agreement import span_agreement, utterance_agreement
from lexicraft.domain.spans import Span
from tests.integration.server import API_VERSION, AUTHORING
from tests.studio.clu_project import CONVERSATIONS, clu_project_file
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


# -- a conversation (CLU) project --------------------------------------------------------------

CLU = "review-clu-e2e"
FLIGHT = "book a flight to Paris"  # the conflict: cleo BookFlight + Paris, dan GetWeather
PLANE = "I need a plane ticket to London"  # both: BookFlight + London
RAIN = "will it rain in London today"  # both: GetWeather + London
WEATHER = "what is the weather in Paris"  # rui accepts it
JOKE = "tell me a joke"  # rui sends it back


def city(text: str, surface: str) -> list[dict[str, Any]]:
    return [{"category": "City", "offset": text.index(surface), "length": len(surface)}]


def set_up_clu(studio: Studio) -> tuple[dict[str, str], dict[str, str]]:
    """The Studio's 30-utterance CLU project with every utterance in the sample, cleo's and
    dan's versions of two utterances and dan's of FLIGHT, and keys of cleo, dan (annotators)
    and rui (reviewer); the keys, and the utterances' locations by text."""
    studio.server.run_job(
        "POST",
        f"{CONVERSATIONS}/{CLU}/:import",
        params={"api-version": API_VERSION},
        json=clu_project_file(CLU),
    )
    studio.api("PATCH", f"{LABELING}/{CLU}/review-settings", json={"doubleAnnotationFraction": 1.0})
    keys = {}
    for name, role in (("cleo", "annotator"), ("dan", "annotator"), ("rui", "reviewer")):
        user = studio.api("POST", f"{LEXICRAFT}/users", json={"name": name, "role": role})
        keys[name] = user["newKey"]["key"]
    listing = studio.api("GET", f"{LABELING}/{CLU}/documents")["value"]
    at = {utterance["text"]: utterance["location"] for utterance in listing}
    versions = {
        ("cleo", PLANE): {"intent": "BookFlight", "entities": city(PLANE, "London")},
        ("cleo", RAIN): {"intent": "GetWeather", "entities": city(RAIN, "London")},
        ("dan", PLANE): {"intent": "BookFlight", "entities": city(PLANE, "London")},
        ("dan", RAIN): {"intent": "GetWeather", "entities": city(RAIN, "London")},
        ("dan", FLIGHT): {"intent": "GetWeather", "entities": []},
    }
    for (who, text), body in versions.items():
        response = studio.server.client.put(
            f"{LABELING}/{CLU}/documents/{at[text]}/annotations/mine",
            headers={"Ocp-Apim-Subscription-Key": keys[who]},
            json=body,
        )
        assert response.status_code == 200, response.text
    return keys, at


def test_reviewing_utterances_and_resolving_a_conflict_side_by_side(studio: Studio) -> None:
    page = studio.page
    studio.name = "review-clu"
    keys, at = set_up_clu(studio)

    # cleo labels her own version of FLIGHT: its intent and Paris; the utterance stays as it was.
    sign_in(studio, keys["cleo"], screenshot=False)
    page.goto(f"{studio.url}#/p/{CLU}/label/{at[FLIGHT]}")
    expect(page.locator("#doc-text")).to_have_text(FLIGHT)
    expect(page.locator("#own-badge")).to_be_visible()
    expect(page.locator("#review-accept")).to_be_hidden()  # annotators do not review
    expect(page.locator("#intent-select")).to_have_value("None")  # a version starts at None
    page.select_option("#intent-select", "BookFlight")
    expect(page.locator("#save-status")).to_have_text("Saved (your version)")
    tag(page, FLIGHT, "Paris", "1", "City", saved="Saved (your version)")
    versions = studio.api("GET", f"{LABELING}/{CLU}/documents/{at[FLIGHT]}/annotations")
    cleo = next(v for v in versions["value"] if v["annotator"] == "cleo")
    assert (cleo["intent"], cleo["entities"]) == ("BookFlight", city(FLIGHT, "Paris"))
    assert (versions["document"]["intent"], versions["document"]["state"]) == (
        "BookFlight",
        "labeled",
    )
    screenshots(studio, "01-own-version-annotator")

    # rui accepts WEATHER and sends JOKE back: the badges change in the list and the editor.
    page.click("#sign-out")
    sign_in(studio, keys["rui"], screenshot=False)
    page.goto(f"{studio.url}#/p/{CLU}/label/{at[WEATHER]}")
    expect(page.locator("#doc-text")).to_have_text(WEATHER)
    page.uncheck("#own-version")  # the resolved labels, not rui's own (empty) version
    expect(page.locator("#intent-select")).to_have_value("GetWeather")
    expect(page.locator("#doc-text mark[data-category=City]")).to_have_text("Paris")
    badge = page.locator(f'#doc-list .doc-item[data-location="{at[WEATHER]}"] .badge.state')
    expect(badge).to_have_text("labeled")
    page.click("#review-accept")
    expect(badge).to_have_text("accepted")
    expect(page.locator(".page-head .badge.state")).to_have_text("accepted")
    expect(page.locator("#review-who")).to_contain_text("accepted by rui")
    page.click(f'#doc-list .doc-item[data-location="{at[JOKE]}"]')
    expect(page.locator("#doc-text")).to_have_text(JOKE)
    page.fill("#review-comment", "Is this really None?")
    page.click("#review-send-back")
    expect(page.locator(".page-head .badge.state")).to_have_text("sent back")
    expect(page.locator("#review-comment-text")).to_have_text("“Is this really None?”")
    stored = studio.api("GET", f"{LABELING}/{CLU}/documents/{at[JOKE]}")
    assert (stored["state"], stored["reviewedBy"], stored["reviewComment"]) == (
        "sentBack",
        "rui",
        "Is this really None?",
    )
    page.select_option("#filter-status", "accepted")
    expect(page.locator("#doc-list .doc-item")).to_have_count(1)
    expect(page.locator("#doc-list .doc-item")).to_have_attribute("data-location", at[WEATHER])
    screenshots(studio, "02-accepted-reviewer")
    page.select_option("#filter-status", "")
    expect(page.locator("#doc-list .doc-item")).to_have_count(30)
    page.select_option("#filter-annotator", "dan")  # dan has a version of three
    expect(page.locator("#doc-list .doc-item")).to_have_count(3)

    # The Agreement page: cleo ↔ dan on intents (kappa) and entities (span F1).
    page.goto(f"{studio.url}#/p/{CLU}/agreement")
    pair = page.locator('.agreement-pair[data-pair="cleo|dan"]')
    expect(pair).to_be_visible()

    def labels(*entries: tuple[str, str, list[dict[str, Any]]]) -> dict[str, Any]:
        return {at[text]: (intent, _spans(entities)) for text, intent, entities in entries}

    expected = utterance_agreement(
        "cleo",
        "dan",
        (
            labels(
                (FLIGHT, "BookFlight", city(FLIGHT, "Paris")),
                (PLANE, "BookFlight", city(PLANE, "London")),
                (RAIN, "GetWeather", city(RAIN, "London")),
            ),
            labels(
                (FLIGHT, "GetWeather", []),
                (PLANE, "BookFlight", city(PLANE, "London")),
                (RAIN, "GetWeather", city(RAIN, "London")),
            ),
        ),
        ["BookFlight", "GetWeather", "None"],
        ["City", "FlightNumber"],
    )
    intents, entities = expected.parts
    # By hand: intents pₒ = 2/3, pₑ = (2·1 + 1·2) / 9 → κ = (2/3 - 4/9) / (5/9) = 0.4; entities
    # cleo 3 spans, dan 2, 2 shared → F1 = 4/5.
    assert (intents.overall, entities.overall) == (pytest.approx(0.4), pytest.approx(0.8))
    expect(pair.locator('.overall[data-part="intents"]')).to_have_text("0.40")
    expect(pair.locator('.overall[data-part="entities"]')).to_have_text("0.80")
    book = next(label for label in intents.labels if label.category == "BookFlight")
    assert book.score is not None
    expect(
        pair.locator('table[data-part="intents"] tr[data-category="BookFlight"] .score')
    ).to_have_text(f"{book.score:.2f}")
    expect(
        pair.locator('table[data-part="entities"] tr[data-category="City"] .score')
    ).to_have_text("0.80")
    expect(pair.locator(".conflicts a")).to_have_text([f"“{FLIGHT}”"])  # by text, not hash
    screenshots(studio, "03-agreement")

    # Side by side: dan's version (another intent, no entity) becomes FLIGHT's, accepted.
    pair.locator(f'.conflicts a[data-location="{at[FLIGHT]}"]').click()
    expect(page.locator("#compare-title")).to_have_text(f"Versions of “{FLIGHT}”")
    expect(page.locator("#compare .version")).to_have_count(3)
    dan = page.locator('#compare .version[data-annotator="dan"]')
    expect(dan.locator(".badge.intent.differs")).to_have_text("GetWeather")
    expect(dan.locator("mark")).to_have_count(0)
    cleo_column = page.locator('#compare .version[data-annotator="cleo"]')
    expect(cleo_column.locator("mark.differs")).to_have_text("Paris")
    screenshots(studio, "04-side-by-side")
    page.click("#use-dan")
    expect(page.locator("#compare .page-head .badge.state")).to_have_text("accepted")
    resolved = studio.api("GET", f"{LABELING}/{CLU}/documents/{at[FLIGHT]}")
    assert (resolved["intent"], resolved["entities"], resolved["state"]) == (
        "GetWeather",
        [],
        "accepted",
    )
    assert (resolved["labeledBy"], resolved["reviewedBy"]) == ("dan", "rui")
    studio.assert_offline()
