// Agreement: the project's review settings (train on accepted documents only; the share of
// documents annotated by several people), inter-annotator agreement for every pair of
// annotators (span F1 for entities, Cohen's kappa for classes; per label, with the documents
// where they differ), and the side-by-side view of one document's versions at
// #/p/{project}/agreement/{location}, where a reviewer uses one version as the document's labels.

import { documentPath, getJson, isConversation, isNer, labelingPath, sendJson } from "../api.js";
import { can } from "../identity.js";
import { compareHref, reviewSettingsPath, stateBadge } from "../review.js";
import { labelingHref } from "../tagging.js";
import { TextIndex, colourClass, renderMarked } from "../text.js";
import { busy, emptyRow, field, h, score, showMessage } from "../ui.js";

const MEASURES = { spanF1: "span F1", cohenKappa: "Cohen's kappa" };

function figure(value) {
  return value === null || value === undefined ? "—" : score(value);
}

export async function agreementPage(container, context) {
  const { project, signal } = context;
  const projectName = project.projectName;
  if (isConversation(project)) {
    container.replaceChildren(h("div", { class: "card" }, h("h1", {}, "Agreement"), h("p", { class: "muted" }, "Review and double annotation are for custom text projects.")));
    return null;
  }
  const ner = isNer(project);
  const [settings, agreement, labelBody] = await Promise.all([
    getJson(reviewSettingsPath(projectName), { signal }),
    getJson(labelingPath(projectName, "/agreement"), { signal }),
    getJson(labelingPath(projectName, "/labels"), { signal }),
  ]);
  if (!context.alive()) return null;
  const labels = labelBody.labels.map((label) => label.category);

  // -- settings ---------------------------------------------------------------------------------
  const reviewedOnly = h("input", { type: "checkbox", id: "train-reviewed-only", checked: settings.trainReviewedOnly });
  const fraction = h("input", { type: "number", id: "double-fraction", min: "0", max: "100", step: "1", value: String(Math.round(settings.doubleAnnotationFraction * 100)) });
  const saveSettings = h("button", { type: "button", id: "save-review-settings" }, "Save");
  saveSettings.addEventListener("click", () =>
    busy(saveSettings, async () => {
      const share = Number(fraction.value);
      if (!Number.isFinite(share) || share < 0 || share > 100) throw new Error("The double-annotation share is a percentage from 0 to 100.");
      await sendJson("PATCH", reviewSettingsPath(projectName), { trainReviewedOnly: reviewedOnly.checked, doubleAnnotationFraction: share / 100 }, { signal });
      showMessage("Review settings saved.", "success");
    }),
  );
  const settingsCard = h(
    "div",
    { class: "card", id: "review-settings" },
    h("h2", {}, "Review settings"),
    h("div", { class: "field inline" }, reviewedOnly, h("label", { for: "train-reviewed-only" }, "Train on accepted documents only")),
    field("Double annotation (% of documents)", fraction, "each annotator labels these on their own; their versions are compared below"),
    h("div", { class: "dialog-actions", "data-needs": "author" }, saveSettings),
  );
  for (const control of [reviewedOnly, fraction]) control.disabled = !can("author");

  // -- agreement --------------------------------------------------------------------------------
  const measure = MEASURES[agreement.measure] || agreement.measure;
  const pairs = agreement.pairs.map((pair) => {
    const [first, second] = pair.annotators;
    const rows = pair.labels.map((row) =>
      h(
        "tr",
        { dataset: { category: row.category } },
        h("th", { scope: "row" }, h("span", { class: `badge ${colourClass(labels, row.category)}` }, row.category)),
        h("td", { class: "num score" }, figure(row.score)),
        h("td", { class: "num" }, String(row.firstCount)),
        h("td", { class: "num" }, String(row.secondCount)),
        h("td", { class: "num" }, String(row.bothCount)),
      ),
    );
    const countWord = ner ? "spans" : "documents";
    return h(
      "section",
      { class: "card agreement-pair", dataset: { pair: `${first}|${second}` } },
      h("h2", {}, `${first} ↔ ${second}`),
      h("p", { class: "pair-summary" }, `${pair.documentCount} document${pair.documentCount === 1 ? "" : "s"} in common · overall ${measure} `, h("strong", { class: "overall" }, figure(pair.overall))),
      h(
        "table",
        { class: "agreement-table" },
        h("caption", { class: "muted small" }, `Per ${ner ? "entity type" : "class"}: ${measure}, and the ${countWord} each gave and shared`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, ner ? "Entity" : "Class"), h("th", { scope: "col" }, measure), h("th", { scope: "col" }, `${first} ${countWord}`), h("th", { scope: "col" }, `${second} ${countWord}`), h("th", { scope: "col" }, "Both"))),
        h("tbody", {}, rows.length ? rows : emptyRow(5, "No labels.")),
      ),
      h("h3", {}, `Conflicting documents (${pair.conflicts.length})`),
      pair.conflicts.length
        ? h("ul", { class: "conflicts" }, pair.conflicts.map((location) => h("li", {}, h("a", { href: compareHref(projectName, location), dataset: { location } }, location))))
        : h("p", { class: "muted" }, "They agree on every document."),
    );
  });
  const agreementCard = h(
    "div",
    { id: "agreement" },
    h("p", { class: "muted", id: "agreement-summary" }, `${agreement.annotators.length} annotator${agreement.annotators.length === 1 ? "" : "s"} with own versions · ${agreement.documentCount} document${agreement.documentCount === 1 ? "" : "s"} annotated by two or more · ${measure}`),
    pairs.length ? pairs : h("div", { class: "card" }, h("p", { class: "muted" }, "No two annotators have labeled the same document yet. Set a double-annotation share: documents in the sample are labeled by each annotator as their own version on the Labeling page.")),
  );

  // -- side by side -----------------------------------------------------------------------------
  const compare = h("div", { id: "compare" });
  async function renderCompare(location) {
    const body = await getJson(`${documentPath(projectName, location)}/annotations`, { signal });
    const doc = body.document;
    const versions = body.value;
    // A span or class every version has is agreed; the others are marked as conflicts.
    const key = (item) => (ner ? `${item.category}\u0000${item.offset}\u0000${item.length}` : item.category);
    const itemsOf = (version) => (ner ? version.entities : version.classes) || [];
    const agreed = new Set(itemsOf(versions[0] || { entities: [], classes: [] }).map(key).filter((k) => versions.every((v) => itemsOf(v).some((item) => key(item) === k))));
    const index = new TextIndex(doc.text);
    const column = (title, version, annotator) => {
      let view;
      if (ner) {
        view = h("div", { class: "doc-text", role: "document", lang: doc.language || project.language, tabindex: "0", "aria-label": `${title}: ${doc.location}` });
        const marks = version.entities.map((entity, number) => {
          const [start, end] = index.spanToUtf16(entity.offset, entity.length);
          return { start, end, id: `v${number}`, category: entity.category, classes: ["entity", colourClass(labels, entity.category), ...(agreed.has(key(entity)) ? [] : ["differs"])], tag: entity.category, title: agreed.has(key(entity)) ? entity.category : `${entity.category} (not in every version)` };
        });
        renderMarked(view, doc.text, marks);
      } else {
        view = h("p", { class: "version-classes" }, version.classes.length ? version.classes.map((item) => h("span", { class: `badge ${colourClass(labels, item.category)} ${agreed.has(key(item)) ? "" : "differs"}` }, item.category)) : h("span", { class: "muted" }, "No class"));
      }
      const use = annotator
        ? h("button", { type: "button", class: "small", id: `use-${annotator}`, "data-needs": "review", dataset: { annotator } }, "Use this version")
        : null;
      if (use) {
        use.addEventListener("click", () =>
          busy(use, async () => {
            await sendJson("POST", `${documentPath(projectName, location)}:resolve`, { from: annotator }, { signal });
            showMessage(`${location}: ${annotator}'s version is now the document's labels (accepted).`, "success");
            await renderCompare(location);
          }),
        );
      }
      return h("section", { class: "version card", dataset: { annotator: annotator || "" } }, h("h3", {}, title), view, use);
    };
    const columns = [...versions.map((version) => column(version.annotator, version, version.annotator)), column("Document (resolved)", doc, null)];
    compare.replaceChildren(
      h(
        "div",
        { class: "card" },
        h("div", { class: "page-head" }, h("h2", { id: "compare-title" }, `Versions of ${location}`), stateBadge(doc), h("a", { href: labelingHref(projectName, location) }, "Open in Labeling")),
        versions.length ? null : h("p", { class: "muted" }, "Nobody has an own version of this document yet."),
        h("div", { class: "versions" }, columns),
      ),
    );
  }

  container.replaceChildren(
    h("div", { class: "page-head" }, h("h1", {}, "Agreement"), h("span", { class: "muted" }, "Review settings, inter-annotator agreement, and conflicts side by side")),
    compare,
    agreementCard,
    settingsCard,
  );
  if (context.extra) {
    await renderCompare(context.extra);
    compare.scrollIntoView?.({ block: "start" });
  }
  return null;
}
