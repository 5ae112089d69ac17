// Evaluation of a trained model: micro/macro figures, per-label precision/recall/F1, the
// confusion-matrix heatmap, and the test documents with false positives and negatives marked;
// a warning when the test set is too small to trust, a link from each test document to its
// labeling view, and a comparison with another model of the project (per-label deltas, the
// test documents whose prediction changed).

import { getJson, isConversation, isNer, labelingPath, listAll, projectPath, versionQuery } from "../api.js";
import { colourClass } from "../colors.js";
import { highlightOutcomes, labelingHref, outcomeLegend } from "../tagging.js";
import { emptyRow, field, fill, h, percent, select } from "../ui.js";

// Below how many test documents, or test examples of a label, figures are too small to trust
// (settings evaluation_min_test_documents and evaluation_min_test_examples_per_label).
const THRESHOLDS = "/language/lexicraft/evaluation-thresholds";

// The labeling view of one document (the labeling page's route for a document).
function evaluationHref(projectName, label, other) {
  const base = `#/p/${encodeURIComponent(projectName)}/evaluate/${encodeURIComponent(label)}`;
  return other ? `${base}/vs/${encodeURIComponent(other)}` : base;
}

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
  // extra: "{label}" or "{label}/vs/{other}" (model labels have no slash).
  const [wanted, vs, wantedOther] = (extra || "").split("/");
  const known = (name) => Boolean(name) && models.some((model) => model.label === name);
  const byDate = [...models].sort((a, b) => String(b.lastTrainedDateTime).localeCompare(String(a.lastTrainedDateTime)));
  const label = known(wanted) ? wanted : byDate[0].label;
  const other = vs === "vs" && known(wantedOther) && wantedOther !== label ? wantedOther : null;
  const modelPath = (name) => projectPath(project, `/models/${encodeURIComponent(name)}`);
  const evaluationOf = (name) =>
    Promise.all([
      getJson(`${modelPath(name)}/evaluation/summary-result`, { query: versionQuery, signal }),
      listAll(`${modelPath(name)}/evaluation/result`, { query: { ...versionQuery, stringIndexType: "Utf16CodeUnit" }, signal }),
    ]);
  if (isConversation(project)) {
    return conversationEvaluation(container, context, { models, label, other, evaluationOf });
  }
  const [[summary, results], compared, documents, labelList, thresholds] = await Promise.all([
    evaluationOf(label),
    other ? evaluationOf(other) : null,
    listAll(labelingPath(projectName, "/documents"), { signal }),
    getJson(labelingPath(projectName, "/labels"), { signal }),
    getJson(THRESHOLDS, { signal }),
  ]);
  if (!context.alive()) return null;
  const texts = new Map(documents.map((document) => [document.location, document.text]));
  const labelOrder = labelList.labels.map((item) => item.category);
  const metricsOf = (body) =>
    body.customEntityRecognitionEvaluation ||
    body.customSingleLabelClassificationEvaluation ||
    body.customMultiLabelClassificationEvaluation ||
    {};
  const evaluation = metricsOf(summary);
  const perLabel = evaluation.entities || evaluation.classes || {};
  const otherEvaluation = compared ? metricsOf(compared[0]) : null;
  const labels = Object.keys(perLabel);
  const outcomeOf = (result) => (ner ? entityOutcomes(result) : classOutcomes(result));

  fill(
    container,
    h("div", { class: "page-head" }, h("h1", {}, "Evaluation"), h("span", { class: "muted" }, `Model ${label} · ${splitText(summary.evaluationOptions, "document")} · ${results.length} test documents`)),
    h("div", { class: "row" }, modelChoosers(projectName, models, label, other)),
    trustWarning(thresholds, results.length, [[perLabel, ner ? "entity" : "class"]], "document"),
    other
      ? renderComparison({
          projectName,
          label,
          other,
          sections: [[ner ? "Entity" : "Class", evaluation, perLabel, otherEvaluation, otherEvaluation.entities || otherEvaluation.classes || {}]],
          results,
          otherResults: compared[1],
          prediction: (result) => predictionText(outcomeOf(result), ner),
          errors: (result) => errorCount(outcomeOf(result)),
          labelOrder,
          noun: "document",
        })
      : null,
    h("section", { class: "card", "aria-labelledby": "summary-title" }, h("h2", { id: "summary-title" }, "Summary"), renderMetrics(evaluation, "eval-metrics"), renderLabelTable(perLabel, "label-metrics", ner ? "Entity" : "Class", labelOrder)),
    renderSelection(evaluation.modelSelection),
    renderConfusionMatrix(evaluation.confusionMatrix, labels),
    renderDocumentBrowser(results, texts, ner, projectName, labelOrder),
  );
  return null;
}

// The model to read and the one to compare it with; each choice is a URL of its own.
function modelChoosers(projectName, models, label, other) {
  const modelSelect = select(models.map((model) => [model.label, model.label]), { id: "eval-model", value: label });
  const compareSelect = select([["", "(none)"], ...models.filter((model) => model.label !== label).map((model) => [model.label, model.label])], { id: "eval-compare", value: other || "" });
  modelSelect.addEventListener("change", () => {
    window.location.hash = evaluationHref(projectName, modelSelect.value, compareSelect.value !== modelSelect.value ? compareSelect.value : null);
  });
  compareSelect.addEventListener("change", () => {
    window.location.hash = evaluationHref(projectName, label, compareSelect.value || null);
  });
  return [field("Model", modelSelect), field("Compare with", compareSelect, models.length < 2 ? "train another model to compare" : "another model of this project")];
}

// Test examples of a label: its expected spans / documents (true positives + false negatives).
function testExamples(values) {
  return (values.truePositiveCount || 0) + (values.falseNegativeCount || 0);
}

function plural(noun) {
  return noun.endsWith("y") ? `${noun.slice(0, -1)}ies` : noun.endsWith("s") ? `${noun}es` : `${noun}s`;
}

// A warning when the figures rest on too few test items, or on too few examples of a label.
function trustWarning(thresholds, testCount, groups, noun) {
  const reasons = [];
  if (testCount < thresholds.minTestDocuments) {
    reasons.push(`Only ${testCount} test ${noun}${testCount === 1 ? "" : "s"} (fewer than ${thresholds.minTestDocuments}): one ${noun} more or less right moves every figure a lot.`);
  }
  for (const [perLabel, noun] of groups) {
    const few = Object.entries(perLabel).filter(([, values]) => testExamples(values) < thresholds.minTestExamplesPerLabel);
    if (few.length) {
      reasons.push(`Fewer than ${thresholds.minTestExamplesPerLabel} test examples of the ${few.length > 1 ? plural(noun) : noun} ${few.map(([name, values]) => `${name} (${testExamples(values)})`).join(", ")}: ${few.length > 1 ? "their" : "its"} precision, recall and F1 are not reliable.`);
    }
  }
  if (!reasons.length) return null;
  return h(
    "div",
    { class: "trust-warning", id: "eval-trust-warning", role: "note" },
    h("strong", {}, "This test set is too small to trust."),
    h("ul", {}, reasons.map((reason) => h("li", {}, reason))),
    h("p", { class: "small" }, `Assign more labeled ${noun}s to the Test set (or raise the test share of a random split) and train again.`),
  );
}

function signed(delta) {
  const points = (delta * 100).toFixed(1);
  return delta > 0 ? `+${points}` : delta < 0 ? points : "±0.0";
}

// One label's figures in two models, and their difference (other minus this).
function deltaCells(a, b, key) {
  const before = a ? a[key] || 0 : 0;
  const after = b ? b[key] || 0 : 0;
  const delta = after - before;
  return [
    h("td", { class: "num" }, a ? percent(before) : "—"),
    h("td", { class: "num" }, b ? percent(after) : "—"),
    h("td", { class: `num ${delta > 0.0005 ? "delta-up" : delta < -0.0005 ? "delta-down" : ""}`, dataset: { delta: key } }, signed(delta)),
  ];
}

// Two models side by side: per-label precision, recall and F1 with their deltas, and the test
// documents whose prediction changed (with which model gets each one more right).
function renderComparison({ projectName, label, other, sections, results, otherResults, prediction, errors, labelOrder, noun, linkable = true }) {
  const tables = sections.map(([what, totals, perLabel, otherTotals, otherPerLabel], index) => {
    const names = [...new Set([...Object.keys(perLabel), ...Object.keys(otherPerLabel)])];
    const rows = names.map((name) =>
      h(
        "tr",
        { dataset: { label: name } },
        h("th", { scope: "row" }, h("span", { class: `badge ${colourClass(labelOrder, name)}` }, name)),
        ...["precision", "recall", "f1"].flatMap((key) => deltaCells(perLabel[name], otherPerLabel[name], key)),
      ),
    );
    rows.push(
      h(
        "tr",
        { dataset: { label: "(micro)" } },
        h("th", { scope: "row" }, "All (micro)"),
        ...["Precision", "Recall", "F1"].flatMap((key) => deltaCells({ v: totals[`micro${key}`] }, { v: otherTotals[`micro${key}`] }, "v")),
      ),
    );
    const head = (text) => [h("th", { scope: "col", class: "num" }, `${text} ${label}`), h("th", { scope: "col", class: "num" }, `${text} ${other}`), h("th", { scope: "col", class: "num" }, "Δ")];
    return h(
      "table",
      { id: index ? `compare-labels-${index}` : "compare-labels", class: "compare-table" },
      h("caption", { class: "muted small" }, `${what} figures of ${label} and ${other}; Δ in points (${other} minus ${label})`),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, what), ...head("P"), ...head("R"), ...head("F1"))),
      h("tbody", {}, rows),
    );
  });
  const otherByLocation = new Map(otherResults.map((result) => [result.location, result]));
  const changed = [];
  for (const result of results) {
    const counterpart = otherByLocation.get(result.location);
    if (!counterpart) continue;
    const [before, after] = [prediction(result), prediction(counterpart)];
    if (before === after) continue;
    const [errorsBefore, errorsAfter] = [errors(result), errors(counterpart)];
    changed.push({ location: result.location, before, after, errorsBefore, errorsAfter });
  }
  const shared = results.filter((result) => otherByLocation.has(result.location)).length;
  const verdict = (row) => (row.errorsAfter < row.errorsBefore ? ["ok", `better in ${other}`] : row.errorsAfter > row.errorsBefore ? ["bad", `worse in ${other}`] : ["", "different"]);
  const body = changed.length
    ? changed.map((row) => {
        const [badge, words] = verdict(row);
        return h(
          "tr",
          { dataset: { location: row.location } },
          h("td", {}, linkable ? h("a", { href: labelingHref(projectName, row.location), title: `Open ${row.location} in labeling` }, row.location) : h("bdi", {}, row.location)),
          h("td", { class: "small" }, h("bdi", {}, row.before)),
          h("td", { class: "small" }, h("bdi", {}, row.after)),
          h("td", {}, h("span", { class: `badge ${badge}` }, words), h("span", { class: "muted small" }, ` errors ${row.errorsBefore} → ${row.errorsAfter}`)),
        );
      })
    : [emptyRow(4, `No ${noun} of the shared test set is predicted differently.`)];
  return h(
    "section",
    { class: "card", id: "eval-compare-card", "aria-labelledby": "compare-title" },
    h("h2", { id: "compare-title" }, `${label} compared with ${other}`),
    ...tables,
    h("h3", {}, `${noun[0].toUpperCase()}${noun.slice(1)}s whose prediction changed (${changed.length} of ${shared} in both test sets)`),
    shared < results.length ? h("p", { class: "hint" }, `The two models were tested on different ${noun}s; only the ${shared} both were tested on are compared.`) : null,
    h(
      "table",
      { id: "compare-documents" },
      h("thead", {}, h("tr", {}, [`Test ${noun}`, `Predicted by ${label}`, `Predicted by ${other}`, "Change"].map((title) => h("th", { scope: "col" }, title)))),
      h("tbody", {}, body),
    ),
  );
}

function splitText(evaluationOptions, noun = "item") {
  const options = evaluationOptions || {};
  return options.kind === "manual"
    ? `manual split (each ${noun}'s Train/Test)`
    : `random split ${options.trainingSplitPercentage}/${options.testingSplitPercentage}`;
}

// What training chose on the documents it held out of the training split: the share of the
// second model mixed in (ner.minilm.v2: a CRF; the MiniLM classifiers: a TF-IDF model), each
// candidate's score there, and (NER) the confidence calibration; nothing for other models.
const CANDIDATES = { encoder: "Transformer alone", crf: "CRF alone", linear: "TF-IDF model alone", blend: "Chosen mix" };
const MEASURES = { microF1: "micro F1", accuracy: "accuracy", macroF1: "macro-F1" };

function renderSelection(selection) {
  if (!selection) return null;
  const scores = Object.entries(selection.scores || {});
  const measure = MEASURES[selection.measure] || selection.measure;
  const [second, share] = "crfWeight" in selection ? ["CRF", selection.crfWeight] : ["TF-IDF model", selection.linearWeight];
  const verdict = selection.chosen === "encoder" ? "the transformer alone did best" : `the ${second}'s share in the mix is ${Math.round(100 * share)} %`;
  const notes = [];
  if ("calibrationErrorBefore" in selection) {
    notes.push(
      selection.calibration
        ? `Confidences calibrated there: calibration error ${selection.calibrationErrorBefore.toFixed(3)} → ${selection.calibrationErrorAfter.toFixed(3)} (on the same documents).`
        : "Confidences are not calibrated (too few held-out entities, or calibrating did not help there).",
    );
  }
  return h(
    "section",
    { class: "card", id: "model-selection", "aria-labelledby": "selection-title" },
    h("h2", { id: "selection-title" }, "How this model was chosen"),
    h("p", { class: "small" }, `${selection.documents} training documents were held out (never the test set). On them ${verdict}.`),
    h(
      "table",
      { class: "table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Candidate"), h("th", { scope: "col" }, `Held-out ${measure}`))),
      h("tbody", {}, scores.map(([name, value]) => h("tr", {}, h("td", {}, CANDIDATES[name] || name), h("td", {}, percent(value))))),
    ),
    notes.map((note) => h("p", { class: "muted small" }, note)),
  );
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

function renderLabelTable(perLabel, id, what, labelOrder) {
  const rows = Object.keys(perLabel).map((name) => {
    const values = perLabel[name];
    return h(
      "tr",
      { dataset: { label: name } },
      h("th", { scope: "row" }, h("span", { class: `badge ${colourClass(labelOrder, name)}` }, name)),
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
async function conversationEvaluation(container, context, { models, label, other, evaluationOf }) {
  const { project, signal } = context;
  const [[summary, results], compared, assets, thresholds] = await Promise.all([
    evaluationOf(label),
    other ? evaluationOf(other) : null,
    getJson(labelingPath(project.projectName, "/conversation"), { signal }),
    getJson(THRESHOLDS, { signal }),
  ]);
  if (!context.alive()) return null;
  const intentOrder = assets.intents.map((intent) => intent.category);
  const entityOrder = assets.entities.map((entity) => entity.category);
  const intents = summary.intentsEvaluation || {};
  const entities = summary.entitiesEvaluation || {};
  const section = (id, title, evaluation, perLabel, what, matrixId, order) =>
    h(
      "section",
      { class: "card", "aria-labelledby": `${id}-title` },
      h("h2", { id: `${id}-title` }, title),
      renderMetrics(evaluation, `${id}-metrics`),
      renderLabelTable(perLabel || {}, `${id}-table`, what, order),
      h("h3", {}, "Confusion matrix"),
      confusionTable(evaluation.confusionMatrix || {}, Object.keys(perLabel || {}), matrixId),
    );
  // An utterance's prediction in words, and its errors (a wrong intent counts as one).
  const outcome = (result) => utteranceOutcome(result);
  const comparison = () => {
    const [otherSummary, otherResults] = compared;
    const otherIntents = otherSummary.intentsEvaluation || {};
    const otherEntities = otherSummary.entitiesEvaluation || {};
    // Utterances have no location in evaluation results: their text identifies them.
    const keyed = (list) => list.map((result) => ({ ...result, location: result.text }));
    return renderComparison({
      projectName: project.projectName,
      label,
      other,
      sections: [
        ["Intent", intents, intents.intents || {}, otherIntents, otherIntents.intents || {}],
        ["Entity", entities, entities.entities || {}, otherEntities, otherEntities.entities || {}],
      ],
      results: keyed(results),
      otherResults: keyed(otherResults),
      prediction: (result) => {
        const found = outcome(result);
        return `${(result.intentsResult || {}).predictedIntent || "(none)"} · ${predictionText(found, true)}`;
      },
      errors: (result) => {
        const found = outcome(result);
        return errorCount(found) + (found.intentRight ? 0 : 1);
      },
      labelOrder: [...intentOrder, ...entityOrder],
      noun: "utterance",
      linkable: false,
    });
  };
  fill(
    container,
    h("div", { class: "page-head" }, h("h1", {}, "Evaluation"), h("span", { class: "muted" }, `Model ${label} · ${splitText(summary.evaluationOptions)} · ${results.length} test utterances`)),
    h("div", { class: "row" }, modelChoosers(project.projectName, models, label, other)),
    trustWarning(thresholds, results.length, [[intents.intents || {}, "intent"], [entities.entities || {}, "entity"]], "utterance"),
    other ? comparison() : null,
    section("intents-eval", "Intents", intents, intents.intents, "Intent", "intent-matrix", intentOrder),
    section("entities-eval", "Entities", entities, entities.entities, "Entity", "entity-matrix", entityOrder),
    renderUtteranceBrowser(results),
  );
  return null;
}

function utteranceOutcome(result) {
  const expected = (result.entitiesResult && result.entitiesResult.expectedEntities) || [];
  const predicted = (result.entitiesResult && result.entitiesResult.predictedEntities) || [];
  const intents = result.intentsResult || {};
  return { result, intentRight: intents.expectedIntent === intents.predictedIntent, ...spanOutcomes(expected, predicted) };
}

function renderUtteranceBrowser(results) {
  const outcomes = results.map(utteranceOutcome);
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

function errorCount(outcome) {
  return outcome.falsePositives.length + outcome.falseNegatives.length;
}

// What a model predicted for a test item, in words (compared between two models): its
// classes, or its spans (category, code-unit offset+length) in text order.
function predictionText(outcome, spans) {
  if (!spans) return outcome.predicted.join(", ") || "(none)";
  const predicted = [...outcome.truePositives, ...outcome.falsePositives].sort((a, b) => a.offset - b.offset || a.length - b.length);
  return predicted.map((entity) => `${entity.category} ${entity.offset}+${entity.length}`).join(", ") || "(no entities)";
}

function renderDocumentBrowser(results, texts, ner, projectName, labelOrder) {
  const outcomes = results.map((result) => ({ result, ...(ner ? entityOutcomes(result) : classOutcomes(result)) }));
  const filter = select([["all", "All test documents"], ["errors", "With errors"], ["correct", "Correct"]], { id: "eval-filter" });
  const list = h("ul", { class: "suggestion-list", id: "eval-documents", "aria-label": "Test documents" });
  const detail = h("div", { id: "eval-detail", tabindex: "-1" });
  const badge = (category) => (category === "—" ? category : h("span", { class: `badge ${colourClass(labelOrder, category)}` }, category));
  let selected = null;

  // The detail of the document chosen, brought into view: beside a long list it would open
  // above the screen, under it on a phone below.
  function show(outcome) {
    selected = outcome;
    renderList();
    renderDetail();
    const box = detail.getBoundingClientRect();
    if (box.top < 0 || box.top > window.innerHeight - 80) detail.scrollIntoView({ block: "start" });
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
              onclick: () => show(outcome),
            },
            h(
              "span",
              { class: "doc-name" },
              h("span", { class: "location" }, location),
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
    const wrong = errorCount(selected) > 0;
    const children = [
      h(
        "div",
        { class: "page-head" },
        h("h3", {}, location),
        h(
          "span",
          { class: "head-actions" },
          h("a", { class: `button small ${wrong ? "" : "secondary"}`, id: "eval-open-labeling", href: labelingHref(projectName, location), title: wrong ? "Correct its labels, or see why the model got it wrong" : "Open it on the labeling page" }, "Open in labeling"),
        ),
      ),
    ];
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
        h("tr", {}, h("td", {}, kind), h("td", {}, h("bdi", {}, text.slice(...utf16(entity)))), h("td", {}, badge(expected)), h("td", {}, badge(predicted))),
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
        h("div", { class: "doc-text compact", id: "eval-text", tabindex: "0", role: "document", dir: "auto" }, text),
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
