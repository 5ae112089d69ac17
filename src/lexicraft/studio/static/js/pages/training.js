// Training: start a training job (model label, config version, split), watch its progress, and
// the project's trained models. The form preselects the server's default configuration, says
// what each one does and how long it should take on this data (from the speed this server
// measured), warns before retraining a deployed label and about labels without training
// examples, and cannot start with nothing labeled.

import {
  API_VERSION,
  DEFAULT_CONFIG,
  familyOf,
  isConversation,
  projectPath,
  getJson,
  labelingPath,
  listAll,
  request,
  startJob,
  versionQuery,
  waitJob,
  jobErrorMessage,
} from "../api.js";
import { busy, emptyRow, field, formatDate, h, select, showMessage } from "../ui.js";

const ACTIVE = new Set(["notStarted", "running", "cancelling"]);

// Overall progress of a training job: training is 90 % of the work, evaluation the rest.
function overallPercent(state) {
  const result = state.result || {};
  const training = (result.trainingStatus && result.trainingStatus.percentComplete) || 0;
  const evaluation = (result.evaluationStatus && result.evaluationStatus.percentComplete) || 0;
  if (state.status === "succeeded") return 100;
  return Math.round(training * 0.9 + evaluation * 0.1);
}

// A duration in words: seconds, minutes or hours.
function duration(seconds) {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

// Whether modelId names a training run of model label: run ids are "{label}-{UTC time}-{12 hex
// digits}" (services/training.py), and a deployment keeps the id of the run it pinned.
function modelIdOfLabel(modelId, label) {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return Boolean(label) && new RegExp(`^${escaped}-\\d{8}T\\d{6}Z-[0-9a-f]{12}$`).test(modelId);
}

// Per label, how many labeled documents use it ({all, train}: train = not in the Test set).
function exampleCounts(documents, conversation, ner) {
  const counts = new Map();
  for (const document of documents) {
    const names = conversation
      ? [document.intent]
      : ner
        ? (document.entities || []).map((entity) => entity.category)
        : (document.classes || []).map((item) => item.category);
    for (const name of new Set(names)) {
      const found = counts.get(name) || { all: 0, train: 0 };
      found.all += 1;
      if (document.dataset !== "Test") found.train += 1;
      counts.set(name, found);
    }
  }
  return counts;
}

export async function trainingPage(container, context) {
  const { project, signal } = context;
  const projectName = project.projectName;
  const conversation = isConversation(project);
  const items = conversation ? "utterances" : "documents";
  const [versions, listing, defaultVersion, estimates, deployments, documents, labelNames, reviewSettings] = await Promise.all([
    listAll(`${familyOf(project)}/global/training-config-versions`, { query: { ...versionQuery, projectKind: project.projectKind }, signal }),
    // top=0: only the counts, not the documents.
    getJson(labelingPath(projectName, "/documents"), { query: { top: 0 }, signal }),
    // What a request naming no version trains with: preselected (the list's order is not it).
    getJson(DEFAULT_CONFIG, { signal }),
    getJson(labelingPath(projectName, "/training-estimates"), { signal }),
    listAll(projectPath(project, "/deployments"), { query: versionQuery, signal }),
    listAll(labelingPath(projectName, "/documents"), { signal }),
    conversation
      ? getJson(labelingPath(projectName, "/conversation"), { signal }).then((body) => body.intents.map((intent) => intent.category).filter((name) => name !== "None"))
      : getJson(labelingPath(projectName, "/labels"), { signal }).then((body) => body.labels.map((label) => label.category)),
    // Whether the project trains on accepted documents (utterances) only (pages/agreement.js sets it).
    getJson(labelingPath(projectName, "/review-settings"), { signal }),
  ]);
  if (!context.alive()) return null;
  const counts = listing.counts;
  const estimateOf = new Map(estimates.value.map((estimate) => [estimate.trainingConfigVersion, estimate]));

  const modelsBody = h("tbody");
  const jobsBody = h("tbody");
  const progress = h("progress", { id: "train-progress", max: 100, value: 0 });
  const progressText = h("span", { id: "train-progress-text" }, "No training running.");
  const progressStatus = h("span", { id: "train-status", class: "badge" }, "idle");
  const cancelButton = h("button", { type: "button", class: "danger small", id: "train-cancel", hidden: true, "data-needs": "author" }, "Cancel training");
  let watching = null; // Operation-Location being polled

  async function loadModels() {
    const models = await listAll(projectPath(project, "/models"), { query: versionQuery, signal });
    modelsBody.replaceChildren();
    if (!models.length) modelsBody.append(emptyRow(5, "No trained models yet."));
    for (const model of models) {
      const deleteButton = h("button", { type: "button", class: "danger small", "aria-label": `Delete model ${model.label}`, "data-needs": "author" }, "Delete");
      deleteButton.addEventListener("click", () =>
        busy(deleteButton, async () => {
          if (!window.confirm(`Delete trained model ${model.label}?`)) return;
          await request("DELETE", projectPath(project, `/models/${encodeURIComponent(model.label)}`), { query: versionQuery, signal });
          showMessage(`Deleted model ${model.label}.`, "success");
          await loadModels();
        }),
      );
      modelsBody.append(
        h(
          "tr",
          { dataset: { model: model.label } },
          h("td", {}, h("strong", {}, model.label), h("div", { class: "muted small mono" }, model.modelId)),
          h("td", {}, formatDate(model.lastTrainedDateTime)),
          h("td", { class: "num" }, `${model.lastTrainingDurationInSeconds} s`),
          h("td", {}, model.modelTrainingConfigVersion),
          h(
            "td",
            { class: "actions" },
            h("a", { class: "button secondary small", href: `#/p/${encodeURIComponent(projectName)}/evaluate/${encodeURIComponent(model.label)}` }, "Evaluation"),
            h("a", { class: "button secondary small", href: `#/p/${encodeURIComponent(projectName)}/deploy` }, "Deploy"),
            deleteButton,
          ),
        ),
      );
    }
    return models;
  }

  async function loadJobs() {
    const jobs = await listAll(projectPath(project, "/train/jobs"), { query: versionQuery, signal });
    jobsBody.replaceChildren();
    if (!jobs.length) jobsBody.append(emptyRow(5, "No training jobs yet."));
    for (const job of jobs.slice(0, 10)) {
      jobsBody.append(
        h(
          "tr",
          {},
          h("td", {}, job.result ? job.result.modelLabel : "—"),
          h("td", {}, h("span", { class: `badge ${job.status === "succeeded" ? "ok" : job.status === "failed" ? "bad" : ""}` }, job.status)),
          h("td", {}, formatDate(job.createdDateTime)),
          h("td", { class: "num" }, `${overallPercent(job)}%`),
          h("td", { class: "small" }, (job.errors || []).map((error) => error.message).join(" ")),
        ),
      );
    }
    return jobs;
  }

  function showProgress(state) {
    const value = overallPercent(state);
    progress.value = value;
    const result = state.result || {};
    const training = result.trainingStatus ? result.trainingStatus.percentComplete : 0;
    const evaluation = result.evaluationStatus ? result.evaluationStatus.percentComplete : 0;
    progressText.textContent = `${result.modelLabel || ""}: ${value}% · training ${training}% · evaluation ${evaluation}%`;
    progressStatus.textContent = state.status;
    progressStatus.className = `badge ${state.status === "succeeded" ? "ok" : state.status === "failed" ? "bad" : ""}`;
    cancelButton.hidden = !ACTIVE.has(state.status);
  }

  async function watch(location) {
    watching = location;
    try {
      const state = await waitJob(location, { signal, intervalMs: 300, onUpdate: showProgress });
      if (state.status === "succeeded") {
        showMessage(`Model ${state.result.modelLabel} is trained.`, "success");
      } else {
        showMessage(`Training ${state.status}: ${jobErrorMessage(state)}`, "error", 12000);
      }
      await Promise.all([loadModels(), loadJobs()]);
    } finally {
      watching = null;
    }
  }

  cancelButton.addEventListener("click", () =>
    busy(cancelButton, async () => {
      if (!watching) return;
      const path = new URL(watching, window.location.origin).pathname;
      await request("POST", `${path}/:cancel`, { query: versionQuery, signal });
      showMessage("Cancelling…");
    }),
  );

  // -- form -------------------------------------------------------------------------------------
  const labelInput = h("input", { type: "text", id: "model-label", required: true, autocomplete: "off", pattern: "[A-Za-z0-9_.\\-]{1,100}" });
  const versionSelect = select(
    versions.map((version) => {
      const name = version.trainingConfigVersion;
      return [name, name === defaultVersion.trainingConfigVersion ? `${name} (default)` : name];
    }),
    { id: "config-version" },
  );
  if (versions.some((version) => version.trainingConfigVersion === defaultVersion.trainingConfigVersion)) {
    versionSelect.value = defaultVersion.trainingConfigVersion;
  }
  const explanation = h("div", { class: "config-explanation", id: "config-explanation", "aria-live": "polite" });
  function explainConfig() {
    const estimate = estimateOf.get(versionSelect.value);
    if (!estimate) {
      explanation.replaceChildren();
      return;
    }
    const documentsWord = `${estimates.documentCount} ${conversation ? "utterance" : "document"}${estimates.documentCount === 1 ? "" : "s"}`;
    const measured = estimate.estimatedDurationInSeconds === null
      ? h("span", { class: "estimate", id: "config-estimate" }, `No measurement yet: this server has not recently finished a training with this configuration, so it cannot say how long one takes on these ${documentsWord}.`)
      : h(
          "span",
          { class: "estimate", id: "config-estimate" },
          `About ${duration(estimate.estimatedDurationInSeconds)} on these ${documentsWord}`,
          h("span", { class: "hint" }, ` (measured on this server: ${estimate.secondsPerDocument.toFixed(3)} s per ${conversation ? "utterance" : "document"}, median of ${estimate.measuredTrainings} training${estimate.measuredTrainings === 1 ? "" : "s"}; small projects spend most of it starting up).`),
        );
    explanation.replaceChildren(h("p", { class: "small" }, estimate.description), h("p", { class: "small" }, measured));
  }
  versionSelect.addEventListener("change", explainConfig);
  explainConfig();

  // A label whose model a deployment serves: retraining replaces the project's model of that
  // label, but each deployment keeps the model it was deployed with (it pins the run).
  const retrainWarning = h("p", { class: "badge todo wrap", id: "retrain-warning", role: "note", hidden: true });
  function warnRetrain() {
    const label = labelInput.value.trim();
    const serving = deployments.filter((deployment) => modelIdOfLabel(deployment.modelId, label)).map((deployment) => deployment.deploymentName);
    retrainWarning.hidden = !serving.length;
    retrainWarning.textContent = serving.length
      ? `Model ${label} is deployed (${serving.join(", ")}). Training replaces model ${label} here; ${serving.length === 1 ? "that deployment keeps" : "those deployments keep"} serving the model ${serving.length === 1 ? "it was" : "they were"} deployed with until you deploy ${label} again.`
      : "";
  }
  labelInput.addEventListener("input", warnRetrain);
  // CLU's train body requires a training mode; Lexicraft trains both the same way.
  const modeSelect = select([["standard", "Standard"], ["advanced", "Advanced"]], { id: "training-mode" });
  const splitName = "split-kind";
  const percentageRadio = h("input", { type: "radio", name: splitName, value: "percentage", id: "split-percentage", checked: counts.test === 0 });
  const manualRadio = h("input", { type: "radio", name: splitName, value: "manual", id: "split-manual", checked: counts.test > 0 });
  const trainPercent = h("input", { type: "number", id: "train-percent", min: 1, max: 99, value: "80" });
  // Nothing to learn from: the server refuses it (400), so the button does not offer it.
  const reviewedOnly = Boolean(reviewSettings && reviewSettings.trainReviewedOnly);
  const accepted = documents.filter((doc) => doc.state === "accepted").length;
  const noLabels = conversation ? counts.total === 0 : counts.labeled === 0;
  const nothingLabeled = noLabels || (reviewedOnly && accepted === 0);
  const startButton = h("button", { type: "submit", id: "start-training", disabled: nothingLabeled }, "Start training");
  const labelWarnings = h("ul", { class: "warning-list", id: "label-warnings" });
  function warnLabels() {
    const examples = exampleCounts(documents, conversation, project.projectKind === "CustomEntityRecognition");
    const manual = manualRadio.checked;
    const noun = conversation ? "intent" : project.projectKind === "CustomEntityRecognition" ? "entity" : "class";
    const items = conversation ? "utterance" : "document";
    const lines = [];
    for (const name of labelNames) {
      const found = examples.get(name) || { all: 0, train: 0 };
      if (!found.all) lines.push(`No ${items} is labeled with the ${noun} ${name}: the model cannot learn to predict it.`);
      else if (manual && !found.train) lines.push(`The ${noun} ${name} has no training examples: its ${found.all} ${items}${found.all === 1 ? " is" : "s are"} all in the Test set.`);
    }
    labelWarnings.replaceChildren(...lines.map((line) => h("li", { class: "badge todo", dataset: { kind: "label" } }, line)));
  }
  const warnings = [];
  if (counts.unlabeled && !conversation) {
    warnings.push(
      project.projectKind === "CustomSingleLabelClassification"
        ? `${counts.unlabeled} documents have no class; single-label training needs exactly one class per document. Label or delete them first.`
        : `${counts.unlabeled} documents have no labels; they train as documents without ${project.projectKind === "CustomEntityRecognition" ? "entities" : "classes"}.`,
    );
  }
  if (noLabels) {
    warnings.unshift(conversation ? "Add utterances before training." : `No document is labeled yet: label some first (${project.projectKind === "CustomEntityRecognition" ? "tag entity spans" : "give documents their classes"}) on the Labeling page.`);
  }
  if (!counts.test) warnings.push(`No ${conversation ? "utterance" : "document"} is assigned to Test, so a manual split has nothing to evaluate on.`);
  if (reviewedOnly) {
    warnings.unshift(`Trains on accepted ${items} only: ${accepted} of ${counts.total} ${accepted ? "" : "(accept some on the Labeling page, or turn this off on the Agreement page)"}`.trim());
  }

  const form = h(
    "form",
    { class: "card", "aria-labelledby": "train-title", "data-needs": "author" },
    h("h2", { id: "train-title" }, "Train a model"),
    h("p", { class: "muted", id: "train-data" }, conversation
      ? `${counts.total} utterances: Train ${counts.train}, Test ${counts.test}, unassigned ${counts.unassigned}.`
      : `${counts.total} documents: ${counts.labeled} labeled, Train ${counts.train}, Test ${counts.test}, unassigned ${counts.unassigned}.`),
    h("ul", { class: "warning-list", id: "train-warnings" }, warnings.map((warning) => h("li", { class: "badge todo" }, warning))),
    labelWarnings,
    h("div", { class: "row" }, field("Model label", labelInput, "a new label trains a new model; an existing one is replaced"), field("Training configuration", versionSelect),
      conversation ? field("Training mode", modeSelect) : null),
    retrainWarning,
    explanation,
    h(
      "fieldset",
      {},
      h("legend", {}, "Evaluation split"),
      h("label", { class: "choice", for: "split-percentage" }, percentageRadio, "Random split, training share"),
      h("span", { class: "field inline" }, h("label", { for: "train-percent", class: "hint" }, "Training %"), trainPercent),
      h("br"),
      h("label", { class: "choice", for: "split-manual" }, manualRadio, `Manual: use each ${conversation ? "utterance" : "document"}'s Train / Test assignment`),
    ),
    startButton,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(startButton, async () => {
      const manual = manualRadio.checked;
      const training = Number(trainPercent.value);
      const evaluationOptions = manual
        ? { kind: "manual" }
        : { kind: "percentage", trainingSplitPercentage: training, testingSplitPercentage: 100 - training };
      const body = { modelLabel: labelInput.value.trim(), trainingConfigVersion: versionSelect.value, evaluationOptions };
      if (conversation) body.trainingMode = modeSelect.value;
      const location = await startJob("POST", projectPath(project, "/:train"), {
        body,
        signal,
      });
      showMessage("Training started.");
      await loadJobs();
      await watch(location);
    });
  });

  const [models, jobs] = await Promise.all([loadModels(), loadJobs()]);
  if (!context.alive()) return null;
  labelInput.value = `model-${models.length + 1}`;
  warnRetrain();
  warnLabels();
  for (const radio of [percentageRadio, manualRadio]) radio.addEventListener("change", warnLabels);
  container.replaceChildren(
    h("div", { class: "page-head" }, h("h1", {}, "Training"), h("span", { class: "muted" }, `Train on this project's labeled ${items}; the test split is held out for evaluation`)),
    form,
    h(
      "section",
      { class: "card", "aria-labelledby": "progress-title" },
      h("div", { class: "page-head" }, h("h2", { id: "progress-title" }, "Progress"), progressStatus, cancelButton),
      progress,
      h("div", { class: "progress-line" }, progressText),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "models-title" },
      h("h2", { id: "models-title" }, "Trained models"),
      h("table", { id: "models-table" }, h("thead", {}, h("tr", {}, ["Model", "Trained", "Duration", "Configuration", ""].map((title) => h("th", { scope: "col" }, title)))), modelsBody),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "jobs-title" },
      h("h2", { id: "jobs-title" }, "Recent training jobs"),
      h("table", { id: "jobs-table" }, h("thead", {}, h("tr", {}, ["Model", "Status", "Started", "Progress", "Errors"].map((title) => h("th", { scope: "col" }, title)))), jobsBody),
    ),
  );
  // A job started earlier (or in another tab) that is still running: keep watching it.
  const running = jobs.find((job) => ACTIVE.has(job.status));
  if (running) {
    watch(projectPath(project, `/train/jobs/${encodeURIComponent(running.jobId)}?api-version=${API_VERSION}`)).catch(() => {});
  }
  return null;
}
