// Agreement: the project's review settings (train on accepted documents only; the share of
// documents annotated by several people), inter-annotator agreement for every pair of
// annotators (span F1 for entities, Cohen's kappa for classes and for a conversation's intents;
// per label, with the documents where they differ), and the side-by-side view of one document's
// versions at #/p/{project}/agreement/{location}, where a reviewer uses one version as the
// document's labels. A conversation (CLU) project's pairs have two parts, intents and entities
// (GET …/agreement lists them in `parts`); its versions show an intent and entity spans.

import { documentPath, getJson, isConversation, isNer, labelingPath, listAll, sendJson } from "../api.js";
import { can } from "../identity.js";
import { compareHref, reviewSettingsPath, stateBadge } from "../review.js";
import { labelingHref } from "../tagging.js";
import { TextIndex, colourClass, renderMarked } from "../text.js";
import { busy, emptyRow, field, h, score, showMessage } from "../ui.js";

const MEASURES = { spanF1: "span F1", cohenKappa: "Cohen's kappa" };
// Words for each part of the labels agreement compares: its heading, its table's first column,
// and what its counts count.
const PARTS = {
  entities: { title: "Entities", column: "Entity", counts: "spans" },
  classes: { title: "Classes", column: "Class", counts: "documents" },
  intents: { title: "Intents", column: "Intent", counts: "utterances" },
};

function figure(value) {
  return value === null || value === undefined ? "—" : score(value);
}

export async function agreementPage(container, context) {
  const { project, signal } = context;
  const projectName = project.projectName;
  const conversation = isConversation(project);
  // Entity spans on the text (NER, utterances); classes (classification); an intent (utterances).
  const spans = isNer(project) || conversation;
  const item = conversation ? "utterance" : "document";
  const items = `${item}s`;
  const [settings, agreement, labels, texts] = await Promise.all([
    getJson(reviewSettingsPath(projectName), { signal }),
    getJson(labelingPath(projectName, "/agreement"), { signal }),
    // The colours of entities (classes) follow the labeling page's order of them.
    conversation
      ? getJson(labelingPath(projectName, "/conversation"), { signal }).then((body) => body.entities.map((entity) => entity.category))
      : getJson(labelingPath(projectName, "/labels"), { signal }).then((body) => body.labels.map((label) => label.category)),
    // An utterance's location is a hash of its text: conflicts are named by their text.
    conversation ? listAll(labelingPath(projectName, "/documents"), { signal }).then((listed) => new Map(listed.map((utterance) => [utterance.location, utterance.text]))) : new Map(),
  ]);
  const nameOf = (location) => (texts.has(location) ? `“${texts.get(location)}”` : location);
  if (!context.alive()) return null;

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
    h("div", { class: "field inline" }, reviewedOnly, h("label", { for: "train-reviewed-only" }, `Train on accepted ${items} only`)),
    field(`Double annotation (% of ${items})`, fraction, "each annotator labels these on their own; their versions are compared below"),
    h("div", { class: "dialog-actions", "data-needs": "author" }, saveSettings),
  );
  for (const control of [reviewedOnly, fraction]) control.disabled = !can("author");

  // -- agreement --------------------------------------------------------------------------------
  const parts = agreement.parts;
  const measureOf = (part) => MEASURES[part.measure] || part.measure;
  // One part's scores: per label, and each annotator's counts.
  function partTable(part, first, second) {
    const words = PARTS[part.part] || PARTS.entities;
    const badge = (category) => (part.part === "intents" ? "intent" : colourClass(labels, category));
    const rows = part.labels.map((row) =>
      h(
        "tr",
        { dataset: { category: row.category } },
        h("th", { scope: "row" }, h("span", { class: `badge ${badge(row.category)}` }, row.category)),
        h("td", { class: "num score" }, figure(row.score)),
        h("td", { class: "num" }, String(row.firstCount)),
        h("td", { class: "num" }, String(row.secondCount)),
        h("td", { class: "num" }, String(row.bothCount)),
      ),
    );
    return h(
      "table",
      { class: "agreement-table", dataset: { part: part.part } },
      h("caption", { class: "muted small" }, `${parts.length > 1 ? `${words.title}: ` : ""}per ${words.column.toLowerCase()}, ${measureOf(part)}, and the ${words.counts} each gave and shared`),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, words.column), h("th", { scope: "col" }, measureOf(part)), h("th", { scope: "col" }, `${first} ${words.counts}`), h("th", { scope: "col" }, `${second} ${words.counts}`), h("th", { scope: "col" }, "Both"))),
      h("tbody", {}, rows.length ? rows : emptyRow(5, "No labels.")),
    );
  }
  const pairs = agreement.pairs.map((pair) => {
    const [first, second] = pair.annotators;
    const pairParts = pair.parts;
    // Each part's overall score ("intents Cohen's kappa 0.64 · entities span F1 0.80").
    const overall = pairParts.flatMap((part, index) => [
      index ? " · " : "",
      `${parts.length > 1 ? `${(PARTS[part.part] || {}).title.toLowerCase()} ` : "overall "}${measureOf(part)} `,
      h("strong", { class: "overall", dataset: { part: part.part } }, figure(part.overall)),
    ]);
    const noun = pair.documentCount === 1 ? item : items;
    return h(
      "section",
      { class: "card agreement-pair", dataset: { pair: `${first}|${second}` } },
      h("h2", {}, `${first} ↔ ${second}`),
      h("p", { class: "pair-summary" }, `${pair.documentCount} ${noun} in common · `, ...overall),
      pairParts.map((part) => partTable(part, first, second)),
      h("h3", {}, `Conflicting ${items} (${pair.conflicts.length})`),
      pair.conflicts.length
        ? h("ul", { class: "conflicts" }, pair.conflicts.map((location) => h("li", {}, h("a", { href: compareHref(projectName, location), dataset: { location }, title: location }, nameOf(location)))))
        : h("p", { class: "muted" }, `They agree on every ${item}.`),
    );
  });
  const agreementCard = h(
    "div",
    { id: "agreement" },
    h("p", { class: "muted", id: "agreement-summary" }, `${agreement.annotators.length} annotator${agreement.annotators.length === 1 ? "" : "s"} with own versions · ${agreement.documentCount} ${agreement.documentCount === 1 ? item : items} annotated by two or more · ${parts.map((part) => (parts.length > 1 ? `${PARTS[part.part].title.toLowerCase()}: ${measureOf(part)}` : measureOf(part))).join(", ")}`),
    pairs.length ? pairs : h("div", { class: "card" }, h("p", { class: "muted" }, `No two annotators have labeled the same ${item} yet. Set a double-annotation share: ${items} in the sample are labeled by each annotator as their own version on the Labeling page.`)),
  );

  // -- side by side -----------------------------------------------------------------------------
  const compare = h("div", { id: "compare" });
  async function renderCompare(location) {
    const body = await getJson(`${documentPath(projectName, location)}/annotations`, { signal });
    const doc = body.document;
    const versions = body.value;
    // A span, class or intent every version has is agreed; the others are marked as conflicts.
    const spanKey = (entity) => `${entity.category}\u0000${entity.offset}\u0000${entity.length}`;
    const agreedOn = (keysOf) => {
      const [head, ...rest] = versions.map((version) => new Set(keysOf(version)));
      return new Set([...(head || [])].filter((key) => rest.every((keys) => keys.has(key))));
    };
    const agreedSpans = agreedOn((version) => (version.entities || []).map(spanKey));
    const agreedClasses = agreedOn((version) => (version.classes || []).map((given) => given.category));
    const agreedIntents = agreedOn((version) => (version.intent ? [version.intent] : []));
    const index = new TextIndex(doc.text);
    const column = (title, version, annotator) => {
      const view = [];
      if (conversation) {
        const agreed = agreedIntents.has(version.intent);
        view.push(h("p", { class: "version-intent" }, "Intent ", h("span", { class: `badge intent ${agreed ? "" : "differs"}`, title: agreed ? null : "not in every version" }, version.intent || "—")));
      }
      if (spans) {
        const text = h("div", { class: "doc-text", role: "document", lang: doc.language || project.language, tabindex: "0", "aria-label": `${title}: ${doc.location}` });
        const marks = (version.entities || []).map((entity, number) => {
          const [start, end] = index.spanToUtf16(entity.offset, entity.length);
          const agreed = agreedSpans.has(spanKey(entity));
          return { start, end, id: `v${number}`, category: entity.category, classes: ["entity", colourClass(labels, entity.category), ...(agreed ? [] : ["differs"])], tag: entity.category, title: agreed ? entity.category : `${entity.category} (not in every version)` };
        });
        renderMarked(text, doc.text, marks);
        view.push(text);
      } else {
        view.push(h("p", { class: "version-classes" }, version.classes.length ? version.classes.map((given) => h("span", { class: `badge ${colourClass(labels, given.category)} ${agreedClasses.has(given.category) ? "" : "differs"}` }, given.category)) : h("span", { class: "muted" }, "No class")));
      }
      const use = annotator
        ? h("button", { type: "button", class: "small", id: `use-${annotator}`, "data-needs": "review", dataset: { annotator } }, "Use this version")
        : null;
      if (use) {
        use.addEventListener("click", () =>
          busy(use, async () => {
            await sendJson("POST", `${documentPath(projectName, location)}:resolve`, { from: annotator }, { signal });
            showMessage(`${location}: ${annotator}'s version is now the ${item}'s labels (accepted).`, "success");
            await renderCompare(location);
          }),
        );
      }
      return h("section", { class: "version card", dataset: { annotator: annotator || "" } }, h("h3", {}, title), ...view, use);
    };
    const columns = [...versions.map((version) => column(version.annotator, version, version.annotator)), column(`${item[0].toUpperCase()}${item.slice(1)} (resolved)`, doc, null)];
    compare.replaceChildren(
      h(
        "div",
        { class: "card" },
        h("div", { class: "page-head" }, h("h2", { id: "compare-title" }, `Versions of ${conversation ? `“${doc.text}”` : location}`), stateBadge(doc), h("a", { href: labelingHref(projectName, location) }, "Open in Labeling")),
        versions.length ? null : h("p", { class: "muted" }, `Nobody has an own version of this ${item} yet.`),
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
