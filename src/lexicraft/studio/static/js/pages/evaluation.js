// Evaluation of a trained model: micro/macro figures, per-label precision/recall/F1, the
// confusion-matrix heatmap, and the test documents with false positives and negatives marked.

import { getJson, isConversation, isNer, labelingPath, listAll, projectPath, versionQuery } from "../api.js";
import { highlightOutcomes, outcomeLegend } from "../tagging.js";
import { emptyRow, field, h, percent, select } from "../ui.js";

const NONE = "$none";

function labelName(key) {
  return key === NONE ? "(none)" : key;
}

// Background of a confusion-matrix cell: blue on the diagonal (right), red off it (wrong),
// stronger with the cell's share of its row.
function cellColour(share, diagonal) {
  const strength = Math.max(0, Math.min(1, share / 100));
  const [red, green, blue] = diagonal ? [11, 87, 208] : [179, 38, 30];
  const mix = (channel) => Math.round(255 - (255 - channel) * strength);
  return [`rgb(${mix(red)} ${mix(green)} ${mix(blue)})`, strength > 0.55];
}

function spanKey(entity) {
  return `${entity.offset}:${entity.length}:${entity.category}`;
}

// Expected and predicted spans matched by offset, length and category.
function spanOutcomes(expected, predicted) {
  const expectedKeys = new Set(expected.map(spanKey));
  const predictedKeys = new Set(predicted.map(spanKey));
  return {
    truePositives: expected.filter((entity) => predictedKeys.has(spanKey(entity))),
    falseNegatives: expected.filter((entity) => !predictedKeys.has(spanKey(entity))),
    falsePositives: predicted.filter((entity) => !expectedKeys.has(spanKey(entity))),
  };
}

export async function evaluationPage(container, context) {
  const { project, signal, extra } = context;
  const projectName = project.projectName;
  const ner = isNer(project);
  const models = await listAll(projectPath(project, "/models"), { query: versionQuery, signal });
  if (!context.alive()) return null;
  if (!models.length) {
    container.replaceChildren(
      h("h1", {}, "Evaluation"),
      h("div", { class: "card" }, h("p", {}, "No trained model yet. "), h("a", { href: `#/p/${encodeURIComponent(projectName)}/train` }, "Train one on the Training page.")),
    );
    return null;
  }
  const byDate = [...models].sort((a, b) => String(b.lastTrainedDateTime).localeCompare(String(a.lastTrainedDateTime)));
  const label = extra && models.some((model) => model.label === extra) ? extra : byDate[0].label;
  const modelPath = projectPath(project, `/models/${encodeURIComponent(label)}`);
  if (isConversation(project)) {
    return conversationEvaluation(container, context, models, label, modelPath);
  }
  const [summary, results, documents] = await Promise.all([
    getJson(`${modelPath}/evaluation/summary-result`, { query: versionQuery, signal }),
    listAll(`${modelPath}/evaluation/result`, { query: { ...versionQuery, stringIndexType: "Utf16CodeUnit" }, signal }),
    listAll(labelingPath(projectName, "/documents"), { signal }),
  ]);
  if (!context.alive()) return null;
  const texts = new Map(documents.map((document) => [document.location, document.text]));
  const evaluation =
    summary.customEntityRecognitionEvaluation ||
    summary.customSingleLabelClassificationEvaluation ||
    summary.customMultiLabelClassificationEvaluation ||
    {};
  const perLabel = evaluation.entities || evaluation.classes || {};
  const labels = Object.keys(perLabel);

  container.replaceChildren(
    h("div", { class: "page-head" }, h("h1", {}, "Evaluation"), h("span", { class: "muted" }, `Model ${label} · ${splitText(summary.evaluationOptions, "document")} · ${results.length} test documents`)),
    h("div", { class: "row" }, field("Model", modelChooser(projectName, models, label))),
    h("section", { class: "card", "aria-labelledby": "summary-title" }, h("h2", { id: "summary-title" }, "Summary"), renderMetrics(evaluation, "eval-metrics"), renderLabelTable(perLabel, "label-metrics", "Label")),
    renderConfusionMatrix(evaluation.confusionMatrix, labels),
    renderDocumentBrowser(results, texts, ner),
  );
  return null;
}

function modelChooser(projectName, models, label) {
  const modelSelect = select(models.map((model) => [model.label, model.label]), { id: "eval-model", value: label });
  modelSelect.addEventListener("change", () => {
    window.location.hash = `#/p/${encodeURIComponent(projectName)}/evaluate/${encodeURIComponent(modelSelect.value)}`;
  });
  return modelSelect;
}

function splitText(evaluationOptions, noun = "item") {
  const options = evaluationOptions || {};
  return options.kind === "manual"
    ? `manual split (each ${noun}'s Train/Test)`
    : `random split ${options.trainingSplitPercentage}/${options.testingSplitPercentage}`;
}

function renderMetrics(evaluation, id) {
  const metric = (name, value) => h("div", { class: "metric" }, h("div", { class: "value" }, percent(value)), h("div", { class: "name" }, name));
  return h(
    "div",
    { class: "metrics", id },
    metric("Micro F1", evaluation.microF1),
    metric("Micro precision", evaluation.microPrecision),
    metric("Micro recall", evaluation.microRecall),
    metric("Macro F1", evaluation.macroF1),
    metric("Macro precision", evaluation.macroPrecision),
    metric("Macro recall", evaluation.macroRecall),
  );
}

function renderLabelTable(perLabel, id, what) {
  const rows = Object.keys(perLabel).map((name) => {
    const values = perLabel[name];
    return h(
      "tr",
      { dataset: { label: name } },
      h("th", { scope: "row" }, name),
      h("td", { class: "num" }, percent(values.precision)),
      h("td", { class: "num" }, percent(values.recall)),
      h("td", { class: "num" }, percent(values.f1)),
      h("td", { class: "num" }, String(values.truePositiveCount)),
      h("td", { class: "num" }, String(values.falsePositiveCount)),
      h("td", { class: "num" }, String(values.falseNegativeCount)),
      h("td", { class: "num" }, String(values.trueNegativeCount)),
    );
  });
  return h(
    "table",
    { id },
    h("caption", { class: "muted small", hidden: true }, `Per-${what.toLowerCase()} metrics`),
    h("thead", {}, h("tr", {}, [what, "Precision", "Recall", "F1", "TP", "FP", "FN", "TN"].map((title, index) => h("th", { scope: "col", class: index ? "num" : null }, title)))),
    h("tbody", {}, rows.length ? rows : emptyRow(8, "No labels.")),
  );
}

// A CLU model: intents and entities evaluated apart (spec §2.7), and the test utterances with
// the expected and predicted intent and entities.
async function conversationEvaluation(container, context, models, label, modelPath) {
  const { project, signal } = context;
  const [summary, results] = await Promise.all([
    getJson(`${modelPath}/evaluation/summary-result`, { query: versionQuery, signal }),
    listAll(`${modelPath}/evaluation/result`, { query: { ...versionQuery, stringIndexType: "Utf16CodeUnit" }, signal }),
  ]);
  if (!context.alive()) return null;
  const intents = summary.intentsEvaluation || {};
  const entities = summary.entitiesEvaluation || {};
  const section = (id, title, evaluation, perLabel, what, matrixId) =>
    h(
      "section",
      { class: "card", "aria-labelledby": `${id}-title` },
      h("h2", { id: `${id}-title` }, title),
      renderMetrics(evaluation, `${id}-metrics`),
      renderLabelTable(perLabel || {}, `${id}-table`, what),
      h("h3", {}, "Confusion matrix"),
      confusionTable(evaluation.confusionMatrix || {}, Object.keys(perLabel || {}), matrixId),
    );
  container.replaceChildren(
    h("div", { class: "page-head" }, h("h1", {}, "Evaluation"), h("span", { class: "muted" }, `Model ${label} · ${splitText(summary.evaluationOptions)} · ${results.length} test utterances`)),
    h("div", { class: "row" }, field("Model", modelChooser(project.projectName, models, label))),
    section("intents-eval", "Intents", intents, intents.intents, "Intent", "intent-matrix"),
    section("entities-eval", "Entities", entities, entities.entities, "Entity", "entity-matrix"),
    renderUtteranceBrowser(results),
  );
  return null;
}

function renderUtteranceBrowser(results) {
  const outcomes = results.map((result) => {
    const expected = (result.entitiesResult && result.entitiesResult.expectedEntities) || [];
    const predicted = (result.entitiesResult && result.entitiesResult.predictedEntities) || [];
    const intents = result.intentsResult || {};
    return { result, intentRight: intents.expectedIntent === intents.predictedIntent, ...spanOutcomes(expected, predicted) };
  });
  const wrong = (outcome) => !outcome.intentRight || outcome.falsePositives.length + outcome.falseNegatives.length > 0;
  const filter = select([["all", "All test utterances"], ["errors", "With errors"], ["correct", "Correct"]], { id: "eval-filter" });
  const table = h("tbody");
  function render() {
    table.replaceChildren();
    const shown = outcomes.filter((outcome) => (filter.value === "all" ? true : filter.value === "errors" ? wrong(outcome) : !wrong(outcome)));
    if (!shown.length) table.append(emptyRow(3, "No utterances."));
    shown.forEach((outcome, number) => {
      const { view } = highlightOutcomes(outcome.result.text, outcome, { class: "doc-text compact utterance-text", role: "document", "aria-label": `Test utterance ${number + 1}` });
      const intents = outcome.result.intentsResult || {};
      table.append(
        h(
          "tr",
          { class: wrong(outcome) ? "wrong" : null, dataset: { expected: intents.expectedIntent, predicted: intents.predictedIntent } },
          h("td", {}, view),
          h("td", {}, intents.expectedIntent),
          h("td", {}, h("span", { class: `badge ${outcome.intentRight ? "ok" : "bad"}` }, intents.predictedIntent)),
        ),
      );
    });
  }
  filter.addEventListener("change", render);
  render();
  return h(
    "section",
    { class: "card", "aria-labelledby": "docs-title" },
    h("h2", { id: "docs-title" }, "Test utterances"),
    outcomeLegend(),
    field("Show", filter),
    h("table", { id: "eval-utterances" },
      h("thead", {}, h("tr", {}, ["Utterance", "Expected intent", "Predicted intent"].map((title) => h("th", { scope: "col" }, title)))),
      table,
    ),
  );
}

function renderConfusionMatrix(matrix, labels) {
  const section = h("section", { class: "card", "aria-labelledby": "matrix-title" }, h("h2", { id: "matrix-title" }, "Confusion matrix"));
  if (!matrix) {
    section.append(h("p", { class: "muted" }, "Multi-label classification has no confusion matrix (a document can have several classes); see the per-class figures above."));
    return section;
  }
  section.append(
    h("p", { class: "muted small" }, "Counts of test spans/documents; colour shows the share of the row. Blue: right, red: wrong. (none) is “no entity” / “no class”."),
    confusionTable(matrix, labels, "confusion-matrix"),
  );
  return section;
}

function confusionTable(matrix, labels, id) {
  const keys = [...labels];
  for (const [expected, row] of Object.entries(matrix)) {
    if (!keys.includes(expected)) keys.push(expected);
    for (const predicted of Object.keys(row)) if (!keys.includes(predicted)) keys.push(predicted);
  }
  // "(none)" last: rows are expected, columns predicted.
  keys.sort((a, b) => (a === NONE) - (b === NONE));
  const header = h(
    "tr",
    {},
    h("th", { class: "axis", scope: "col" }, "Expected ↓ / Predicted →"),
    keys.map((key) => h("th", { scope: "col" }, labelName(key))),
  );
  const rows = keys.map((expected) =>
    h(
      "tr",
      {},
      h("th", { scope: "row" }, labelName(expected)),
      keys.map((predicted) => {
        const cell = (matrix[expected] || {})[predicted];
        const raw = cell ? cell.rawValue : 0;
        const share = cell ? cell.normalizedValue : 0;
        const td = h("td", {
          title: `expected ${labelName(expected)}, predicted ${labelName(predicted)}: ${raw} (${share.toFixed(1)}% of the row)`,
          dataset: { expected, predicted },
        }, raw ? String(Number(raw.toFixed(2))) : "·");
        if (expected === NONE && predicted === NONE) {
          td.textContent = "—";
        } else {
          const [background, dark] = cellColour(share, expected === predicted);
          td.style.backgroundColor = background; // CSSOM, which the page's CSP allows
          if (dark) td.classList.add("dark");
        }
        return td;
      }),
    ),
  );
  return h("table", { class: "confusion-matrix", id }, h("thead", {}, header), h("tbody", {}, rows));
}

function entityOutcomes(result) {
  const region = (result.customEntityRecognitionResult.entities || [])[0] || { expectedEntities: [], predictedEntities: [] };
  return spanOutcomes(region.expectedEntities || [], region.predictedEntities || []);
}

function classOutcomes(result) {
  const single = result.customSingleLabelClassificationResult;
  const multi = result.customMultiLabelClassificationResult;
  const expected = single ? [single.expectedClass].filter(Boolean) : multi.expectedClasses || [];
  const predicted = single ? [single.predictedClass].filter(Boolean) : multi.predictedClasses || [];
  return {
    expected,
    predicted,
    falseNegatives: expected.filter((item) => !predicted.includes(item)),
    falsePositives: predicted.filter((item) => !expected.includes(item)),
  };
}

function renderDocumentBrowser(results, texts, ner) {
  const outcomes = results.map((result) => ({ result, ...(ner ? entityOutcomes(result) : classOutcomes(result)) }));
  const filter = select([["all", "All test documents"], ["errors", "With errors"], ["correct", "Correct"]], { id: "eval-filter" });
  const list = h("ul", { class: "suggestion-list", id: "eval-documents", "aria-label": "Test documents" });
  const detail = h("div", { id: "eval-detail" });
  let selected = null;

  function errorCount(outcome) {
    return outcome.falsePositives.length + outcome.falseNegatives.length;
  }

  function renderList() {
    list.replaceChildren();
    const shown = outcomes.filter((outcome) =>
      filter.value === "all" ? true : filter.value === "errors" ? errorCount(outcome) > 0 : errorCount(outcome) === 0,
    );
    if (!shown.length) list.append(h("li", { class: "empty" }, "No documents."));
    for (const outcome of shown) {
      const location = outcome.result.location;
      list.append(
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "doc-item",
              "aria-current": selected === outcome ? "true" : "false",
              dataset: { location },
              onclick: () => {
                selected = outcome;
                renderList();
                renderDetail();
              },
            },
            h(
              "span",
              { class: "doc-name" },
              location,
              errorCount(outcome)
                ? [
                    outcome.falsePositives.length ? h("span", { class: "badge bad" }, `${outcome.falsePositives.length} FP`) : null,
                    outcome.falseNegatives.length ? h("span", { class: "badge todo" }, `${outcome.falseNegatives.length} FN`) : null,
                  ]
                : h("span", { class: "badge ok" }, "correct"),
            ),
          ),
        ),
      );
    }
  }

  function renderDetail() {
    if (!selected) {
      detail.replaceChildren(h("p", { class: "muted" }, "Choose a test document."));
      return;
    }
    const location = selected.result.location;
    const text = texts.get(location);
    const children = [h("h3", {}, location)];
    if (ner) children.push(outcomeLegend());
    if (text === undefined) {
      children.push(h("p", { class: "muted" }, "This document is no longer in the project; its text cannot be shown."));
    } else if (ner) {
      const { view, utf16 } = highlightOutcomes(text, selected, { class: "doc-text compact", id: "eval-text", tabindex: "0", role: "document", "aria-label": `Text of ${location}` });
      children.push(view);
      const rows = [
        ...selected.falsePositives.map((entity) => ["False positive", entity, "—", entity.category]),
        ...selected.falseNegatives.map((entity) => ["False negative", entity, entity.category, "—"]),
      ].map(([kind, entity, expected, predicted]) =>
        h("tr", {}, h("td", {}, kind), h("td", {}, text.slice(...utf16(entity))), h("td", {}, expected), h("td", {}, predicted)),
      );
      children.push(
        h("table", { id: "eval-errors" },
          h("thead", {}, h("tr", {}, ["Error", "Text", "Expected", "Predicted"].map((title) => h("th", { scope: "col" }, title)))),
          h("tbody", {}, rows.length ? rows : emptyRow(4, "No errors in this document.")),
        ),
      );
    } else {
      children.push(
        h("p", {}, "Expected: ", h("strong", {}, selected.expected.join(", ") || "(none)"), " · Predicted: ",
          h("strong", { class: errorCount(selected) ? "badge bad" : "badge ok" }, selected.predicted.join(", ") || "(none)")),
        h("div", { class: "doc-text compact", id: "eval-text", tabindex: "0", role: "document" }, text),
      );
    }
    detail.replaceChildren(...children);
  }

  filter.addEventListener("change", renderList);
  selected = outcomes.find((outcome) => errorCount(outcome) > 0) || outcomes[0] || null;
  renderList();
  renderDetail();
  return h(
    "section",
    { class: "card", "aria-labelledby": "docs-title" },
    h("h2", { id: "docs-title" }, "Test documents"),
    h("div", { class: "eval-docs" }, h("div", {}, field("Show", filter), list), detail),
  );
}
