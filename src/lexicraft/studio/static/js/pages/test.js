// Test: run a deployment on pasted or uploaded text through the public analyze-text API and show
// the entities (highlighted, with confidence) or classes (with scores), and the raw JSON.

import { analyze, analyzeConversation, getJson, isConversation, isNer, labelingPath, listAll, projectPath, versionQuery } from "../api.js";
import { highlightPredictions } from "../tagging.js";
import { colourClass } from "../text.js";
import { busy, emptyRow, field, h, score, select } from "../ui.js";

export async function testPage(container, context) {
  if (isConversation(context.project)) return conversationTestPage(container, context);
  const { project, signal } = context;
  const projectName = project.projectName;
  const ner = isNer(project);
  const [deployments, labelList] = await Promise.all([
    listAll(projectPath(project, "/deployments"), { query: versionQuery, signal }),
    // The project's labels in order: entities take the colours the labeling page gives them.
    getJson(labelingPath(projectName, "/labels"), { signal }),
  ]);
  if (!context.alive()) return null;
  const names = deployments.map((deployment) => deployment.deploymentName);
  const labels = labelList.labels.map((label) => label.category);

  const deploymentSelect = select(names.length ? names.map((name) => [name, name]) : [["", "No deployments yet"]], { id: "test-deployment", disabled: !names.length });
  const textArea = h("textarea", { id: "test-text", rows: 6, dir: "auto", placeholder: "Type or paste text to analyze…" });
  const fileInput = h("input", { type: "file", id: "test-file", accept: ".txt,text/plain" });
  const languageInput = h("input", { type: "text", id: "test-language", value: project.language });
  const runButton = h("button", { type: "submit", id: "run-test", disabled: !names.length }, "Run");
  const results = h("section", { class: "card", id: "test-results", "aria-live": "polite", hidden: true });

  fileInput.addEventListener("change", async () => {
    const file = fileInput.files[0];
    if (file) textArea.value = await file.text();
  });

  const form = h(
    "form",
    { class: "card", "aria-labelledby": "test-title" },
    h("h2", { id: "test-title" }, "Test a deployment"),
    h("div", { class: "row" }, field("Deployment", deploymentSelect), field("Language", languageInput)),
    field("Text", textArea),
    h("div", { class: "row" }, field("Or load a .txt file", fileInput), h("div", { class: "field" }, runButton)),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(runButton, async () => {
      const text = textArea.value;
      if (!text.trim()) throw new Error("Enter some text to analyze.");
      const { jobs, results: byIndex, errors } = await analyze(project, deploymentSelect.value, [text], {
        language: languageInput.value.trim() || undefined,
        signal,
      });
      renderResults(text, byIndex.get(0), errors.get(0), jobs[0]);
    });
  });

  function renderResults(text, result, error, job) {
    const children = [h("h2", {}, "Result")];
    if (error) {
      children.push(h("p", { class: "badge bad", role: "alert" }, error.message));
    } else if (ner) {
      // Entities come in code points (stringIndexType UnicodeCodePoint); the page counts UTF-16.
      const view = highlightPredictions(text, result, labels, { "aria-label": "Text with the entities found" });
      children.push(
        view,
        h(
          "table",
          { id: "test-entities" },
          h("thead", {}, h("tr", {}, ["Text", "Entity", "Confidence", "Offset", "Length"].map((title, index) => h("th", { scope: "col", class: index > 1 ? "num" : null }, title)))),
          h(
            "tbody",
            {},
            result.length
              ? result.map((entity) =>
                  h("tr", { dataset: { category: entity.category } },
                    h("td", {}, h("bdi", {}, entity.text)),
                    h("td", {}, h("span", { class: `badge ${colourClass(labels, entity.category)}` }, entity.category)),
                    h("td", { class: "num" }, score(entity.confidenceScore)),
                    h("td", { class: "num" }, String(entity.offset)),
                    h("td", { class: "num" }, String(entity.length)),
                  ),
                )
              : emptyRow(5, "No entities found."),
          ),
        ),
        h("p", { class: "hint" }, "Offsets and lengths count Unicode code points (stringIndexType UnicodeCodePoint)."),
      );
    } else {
      const ordered = [...result].sort((a, b) => b.confidenceScore - a.confidenceScore);
      children.push(
        h(
          "ul",
          { class: "class-scores", id: "test-classes" },
          ordered.length
            ? ordered.map((item, position) =>
                h("li", { class: position === 0 ? "top" : null, dataset: { category: item.category } },
                  h("span", {}, h("span", { class: `badge ${colourClass(labels, item.category)}` }, item.category)),
                  h("meter", { min: 0, max: 1, value: item.confidenceScore, "aria-label": `${item.category} score` }),
                  h("span", { class: "num" }, score(item.confidenceScore)),
                ),
              )
            : h("li", { class: "empty" }, "No class passed the model's threshold."),
        ),
      );
    }
    children.push(
      h("details", { open: true }, h("summary", {}, "Raw JSON (GET analyze-text job)"), h("pre", { class: "json", id: "test-json", tabindex: "0", "aria-label": "Raw JSON response" }, JSON.stringify(job, null, 2))),
    );
    results.replaceChildren(...children);
    results.hidden = false;
  }

  container.replaceChildren(
    h("div", { class: "page-head" }, h("h1", {}, "Test"), h("span", { class: "muted" }, "Runs POST /language/analyze-text/jobs like any client")),
    form,
    results,
  );
  return null;
}

// A CLU deployment: one utterance through POST /language/:analyze-conversations; every intent
// with its score (the top one marked), and the entities highlighted in the colours the labeling
// page gives them (their place in the project's entity list).
async function conversationTestPage(container, context) {
  const { project, signal } = context;
  const [deployments, labels] = await Promise.all([
    listAll(projectPath(project, "/deployments"), { query: versionQuery, signal }),
    getJson(labelingPath(project.projectName, "/conversation"), { signal }),
  ]);
  if (!context.alive()) return null;
  const names = deployments.map((deployment) => deployment.deploymentName);
  const entityNames = labels.entities.map((entity) => entity.category);

  const deploymentSelect = select(names.length ? names.map((name) => [name, name]) : [["", "No deployments yet"]], { id: "test-deployment", disabled: !names.length });
  const input = h("input", { type: "text", id: "test-text", dir: "auto", autocomplete: "off", placeholder: "Type an utterance…", maxlength: "1000" });
  const languageInput = h("input", { type: "text", id: "test-language", value: project.language });
  const runButton = h("button", { type: "submit", id: "run-test", disabled: !names.length }, "Run");
  const results = h("section", { class: "card", id: "test-results", "aria-live": "polite", hidden: true });

  const form = h(
    "form",
    { class: "card", "aria-labelledby": "test-title" },
    h("h2", { id: "test-title" }, "Test a deployment"),
    h("div", { class: "row" }, field("Deployment", deploymentSelect), field("Language", languageInput)),
    h("div", { class: "row" }, h("div", { class: "wide" }, field("Utterance", input)), h("div", { class: "field" }, runButton)),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(runButton, async () => {
      const text = input.value;
      if (!text.trim()) throw new Error("Enter an utterance to analyze.");
      const body = await analyzeConversation(project, deploymentSelect.value, text, {
        language: languageInput.value.trim() || undefined,
        signal,
      });
      render(text, body);
    });
  });

  function render(text, body) {
    const prediction = body.result.prediction;
    const view = highlightPredictions(text, prediction.entities, entityNames, { "aria-label": "Utterance with the entities found" });
    const extra = (entity) =>
      (entity.extraInformation || [])
        .map((item) => (item.key ? `${item.extraInformationKind} ${item.key}` : `${item.extraInformationKind} ${item.value ?? ""}`))
        .join(", ");
    results.replaceChildren(
      h("h2", {}, "Result"),
      h("p", {}, "Top intent: ", h("strong", { id: "test-top-intent", class: "badge ok" }, prediction.topIntent || "—")),
      h(
        "ul",
        { class: "class-scores", id: "test-intents" },
        prediction.intents.map((intent) =>
          h("li", { class: intent.category === prediction.topIntent ? "top" : null, dataset: { category: intent.category } },
            h("span", {}, intent.category),
            h("meter", { min: 0, max: 1, value: intent.confidenceScore, "aria-label": `${intent.category} score` }),
            h("span", { class: "num" }, score(intent.confidenceScore)),
          ),
        ),
      ),
      view,
      h(
        "table",
        { id: "test-entities" },
        h("thead", {}, h("tr", {}, ["Text", "Entity", "Confidence", "Offset", "Length", "Extra information"].map((title, index) => h("th", { scope: "col", class: index > 1 && index < 5 ? "num" : null }, title)))),
        h(
          "tbody",
          {},
          prediction.entities.length
            ? prediction.entities.map((entity) =>
                h("tr", { dataset: { category: entity.category } },
                  h("td", {}, entity.text),
                  h("td", {}, h("span", { class: `badge ${colourClass(entityNames, entity.category)}` }, entity.category)),
                  h("td", { class: "num" }, score(entity.confidenceScore)),
                  h("td", { class: "num" }, String(entity.offset)),
                  h("td", { class: "num" }, String(entity.length)),
                  h("td", { class: "small" }, extra(entity)),
                ),
              )
            : emptyRow(6, "No entities found."),
        ),
      ),
      h("p", { class: "hint" }, "Offsets and lengths count Unicode code points (stringIndexType UnicodeCodePoint)."),
      h("details", { open: true }, h("summary", {}, "Raw JSON (POST :analyze-conversations)"), h("pre", { class: "json", id: "test-json", tabindex: "0", "aria-label": "Raw JSON response" }, JSON.stringify(body, null, 2))),
    );
    results.hidden = false;
  }

  container.replaceChildren(
    h("div", { class: "page-head" }, h("h1", {}, "Test"), h("span", { class: "muted" }, "Runs POST /language/:analyze-conversations like any client")),
    form,
    results,
  );
  return null;
}
