"""An accessibility scan of the Studio's main pages: axe-core (Deque's engine, ``make axe``
installs it from npm into ``.tools/axe``) runs inside each page and must find no ``serious``
or ``critical`` violation. The engine is the local file, evaluated in the page: nothing is
loaded from another host (the Studio's CSP would refuse an inline script tag, and the test
keeps that CSP on).

Pages: sign-in, projects, labeling (NER and classification), training, evaluation (of a model
trained with the fast config on a tiny project), deployments, test, a conversation
project's utterances, and the Team page (a new user's key showing, their keys open).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from lexicraft.domain.projects import Dataset, Project
from lexicraft.formats import azure
from lexicraft.formats.base import LabeledData
from tests.integration.server import API_VERSION, LiveServer
from tests.studio.clu_project import CONVERSATIONS, clu_project_file
from tests.studio.conftest import Studio
from tests.studio.test_studio_e2e import sign_in
from tests.unit.formats.samples import ner_data, single_label_data

AXE = (
    Path(__file__).resolve().parents[2]
    / ".tools"
    / "axe"
    / "node_modules"
    / "axe-core"
    / "axe.min.js"
)
BLOCKING = ("serious", "critical")
NER, TOPICS, CLU = "a11y-ner", "a11y-topics", "a11y-clu"

# Every violation with the elements it was found on, as plain data.
_RUN_AXE = """async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return {
    passed: results.passes.map((rule) => rule.id),
    violations: results.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
    })),
  };
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(
            f"axe-core is not installed at {AXE}; run `make axe` (npm install --prefix "
            ".tools/axe axe-core@4).",
            pytrace=False,
        )
    return AXE.read_text("utf-8")


def project_file(name: str, data: LabeledData) -> dict[str, Any]:
    """``data`` as the Azure project file of project ``name``, every fourth document in Test."""
    documents = tuple(
        replace(document, dataset=Dataset.TEST if number % 4 == 3 else Dataset.TRAIN)
        for number, document in enumerate(data.documents)
    )
    project = Project(name=name, kind=data.kind, language="en", storage_container=name)
    return azure.render(replace(data, documents=documents, project=project))


@pytest.fixture(scope="module")
def projects(studio_server: LiveServer) -> LiveServer:
    """A trained and deployed NER project, a classification project and a CLU project."""
    studio_server.import_project(NER, project_file(NER, ner_data(4)))
    studio_server.train(NER, "m1")
    studio_server.deploy(NER, "production", "m1")
    studio_server.import_project(TOPICS, project_file(TOPICS, single_label_data(6)))
    studio_server.run_job(
        "POST",
        f"{CONVERSATIONS}/{CLU}/:import",
        params={"api-version": API_VERSION},
        json=clu_project_file(CLU),
    )
    return studio_server


def scan(page: Page, axe_source: str, name: str, found: dict[str, list[dict[str, Any]]]) -> None:
    """Run axe on the page as it is; keep its serious and critical violations under ``name``."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    results = page.evaluate(_RUN_AXE)
    # The scan ran its rules on the page's content (not on an empty or half-drawn page).
    assert {"color-contrast", "label", "button-name"} & set(results["passed"]), results["passed"]
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
    if blocking:
        found[name] = blocking


def readable(found: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for page_name, violations in found.items():
        for violation in violations:
            lines.append(
                f"{page_name}: [{violation['impact']}] {violation['id']}: {violation['help']}"
            )
            for node in violation["nodes"][:8]:
                summary = " ".join(node["summary"].split())
                lines.append(f"    {node['target']}  —  {summary}")
    return "\n".join(lines)


def open_page(page: Page, project: str, slug: str, heading: str) -> None:
    page.goto(f"{page.url.split('#')[0]}#/p/{project}/{slug}")
    expect(page.locator("main h1")).to_have_text(heading)


def test_main_pages_have_no_serious_or_critical_violations(
    studio: Studio, studio_key: str, projects: LiveServer, axe_source: str
) -> None:
    page = studio.page
    found: dict[str, list[dict[str, Any]]] = {}

    page.goto(studio.url)
    expect(page.locator("#api-key")).to_be_visible()
    scan(page, axe_source, "sign-in", found)

    sign_in(studio, studio_key, screenshot=False)
    expect(page.locator(f'#projects-table tr[data-project="{CLU}"]')).to_be_visible()
    scan(page, axe_source, "projects", found)
    # With the per-line report of a refused import showing.
    page.fill("#import-data-name", "a11y-broken")
    page.set_input_files(
        "#import-data-file",
        files=[{"name": "bad.conll", "mimeType": "text/plain", "buffer": b"Anna\tX-Person\n"}],
    )
    page.click("#import-data-submit")
    expect(page.locator("#import-report li")).to_have_count(1)
    scan(page, axe_source, "projects (import report)", found)

    open_page(page, NER, "label", "Labeling")
    page.locator("#doc-list .doc-item").first.click()
    expect(page.locator("#doc-text mark").first).to_be_visible()
    scan(page, axe_source, "labeling (NER)", found)

    open_page(page, TOPICS, "label", "Labeling")
    page.locator("#doc-list .doc-item").first.click()
    expect(page.locator("#doc-text")).not_to_be_empty()
    scan(page, axe_source, "labeling (classification)", found)

    open_page(page, NER, "agreement", "Agreement")
    expect(page.locator("#review-settings")).to_be_visible()
    scan(page, axe_source, "agreement", found)

    open_page(page, NER, "train", "Training")
    expect(page.locator('#models-table tr[data-model="m1"]')).to_be_visible()
    scan(page, axe_source, "training", found)

    open_page(page, NER, "evaluate", "Evaluation")
    expect(page.locator("#confusion-matrix")).to_be_visible()
    page.locator("#eval-documents .doc-item").first.click()
    expect(page.locator("#eval-text")).to_be_visible()
    scan(page, axe_source, "evaluation", found)

    open_page(page, NER, "deploy", "Deployments")
    expect(page.locator('#deployments-table tr[data-deployment="production"]')).to_be_visible()
    scan(page, axe_source, "deployments", found)

    open_page(page, NER, "test", "Test")
    page.fill("#test-text", "Yesterday Anna flew to Paris.")
    page.click("#run-test")
    expect(page.locator("#test-json")).to_contain_text("CustomEntityRecognitionLROResults")
    scan(page, axe_source, "test", found)

    open_page(page, CLU, "label", "Labeling")
    expect(page.locator("#intent-list li")).to_have_count(3)
    page.locator("#doc-list .doc-item").first.click()
    expect(page.locator("#review-panel")).to_be_visible()
    scan(page, axe_source, "utterances (CLU)", found)

    open_page(page, CLU, "agreement", "Agreement")
    expect(page.locator("#review-settings")).to_contain_text("accepted utterances")
    scan(page, axe_source, "agreement (CLU)", found)

    page.goto(f"{page.url.split('#')[0]}#/team")
    expect(page.locator("main h1")).to_have_text("Team")
    page.fill("#new-user-name", "a11y-ana")
    page.click("#add-user")
    expect(page.locator("#new-key")).to_be_visible()
    expect(page.locator("#keys-panel tbody tr")).to_have_count(1)
    scan(page, axe_source, "team", found)

    assert not found, "axe found serious or critical violations:\n" + readable(found)
    studio.assert_offline()
