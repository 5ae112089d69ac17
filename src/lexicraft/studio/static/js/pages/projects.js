// Projects: list, create (kind, language, labels), import and export the Azure project file,
// import a labeled-data file in another tool's format, delete.

import {
  ApiError,
  AUTHORING,
  CONVERSATIONS,
  PROJECT_KINDS,
  familyOf,
  getJson,
  jobErrorMessage,
  labelingPath,
  listAll,
  projectPath,
  request,
  runJob,
  sendJson,
  versionQuery,
  waitJob,
} from "../api.js";
import { busy, downloadJson, emptyRow, field, fill, formatDate, h, select, showMessage } from "../ui.js";

// The formats POST …/:import-file reads (services/file_imports.UPLOAD_FORMATS), as the CLI names them.
const DATA_FORMATS = [
  ["", "Detect from the file"],
  ["conll", "CoNLL (IOB1, IOB2 or BIOES tags)"],
  ["conll-iob1", "CoNLL, IOB1 tags"],
  ["conll-iob2", "CoNLL, IOB2 tags"],
  ["conll-bioes", "CoNLL, BIOES tags"],
  ["jsonl", "JSON Lines (id, text, entities or classes)"],
  ["label-studio", "Label Studio JSON export"],
  ["doccano", "doccano JSONL"],
  ["csv", "CSV (text,label…)"],
  ["comprehend", "Amazon Comprehend classification CSV"],
  ["azure", "Azure Language project file (custom text or CLU)"],
  ["luis", "LUIS app export (becomes a CLU project)"],
];
// Extensions that name one format; .json, .jsonl and .csv are shared by several, so the
// server tells those apart from the content.
const FORMAT_OF_EXTENSION = {
  conll: "conll", bio: "conll", iob: "conll", iob1: "conll-iob1", iob2: "conll-iob2",
  bioes: "conll-bioes", bilou: "conll-bioes",
};
// Formats whose files say which kind of project they make.
const KIND_FROM_FILE = new Set(["conll", "conll-iob1", "conll-iob2", "conll-bioes", "azure", "luis", "csv", "comprehend"]);
const DATA_FILE_TYPES = ".conll,.bio,.iob,.iob1,.iob2,.bioes,.bilou,.json,.jsonl,.ndjson,.csv,.txt";

export async function projectsPage(container, context) {
  const { signal } = context;
  // Custom text and conversation projects live under two authoring APIs; the list shows both.
  const allProjects = async () => {
    const [text, conversations] = await Promise.all([
      listAll(AUTHORING, { query: versionQuery, signal }),
      listAll(CONVERSATIONS, { query: versionQuery, signal }),
    ]);
    return [...text, ...conversations].sort((a, b) => (a.projectName < b.projectName ? -1 : a.projectName > b.projectName ? 1 : 0));
  };
  const [projects, languages] = await Promise.all([
    allProjects(),
    listAll(`${AUTHORING}/global/languages`, { query: versionQuery, signal }),
  ]);
  if (!context.alive()) return null;

  const tableBody = h("tbody");
  const reload = async () => {
    renderRows(await allProjects());
  };
  let shown = projects;

  // Importing into a project that exists replaces its documents and labels: say how many, and
  // go on only when the user agrees. True when there is nothing to replace.
  async function confirmReplace(name) {
    const existing = shown.find((project) => project.projectName === name);
    if (!existing) return true;
    const page = await getJson(labelingPath(name, "/documents"), { query: { top: 1 }, signal });
    const total = page.counts ? page.counts.total : 0;
    const what = existing.projectKind === "Conversation" ? "utterances" : "documents";
    return window.confirm(
      `Project ${name} already exists. Importing replaces it: its ${total} ${what} and all their labels are replaced by the file's. Continue?`,
    );
  }

  function renderRows(rows) {
    shown = rows;
    tableBody.replaceChildren();
    if (!rows.length) tableBody.append(emptyRow(6, "No projects yet. Create one or import a project file."));
    for (const project of rows) {
      const name = project.projectName;
      const exportButton = h("button", { type: "button", class: "secondary small", "data-needs": "author" }, "Export");
      exportButton.addEventListener("click", () =>
        busy(exportButton, async () => {
          const state = await runJob("POST", projectPath(project, "/:export"), {
            query: { stringIndexType: "Utf16CodeUnit" },
            signal,
          });
          const projectFile = await getJson(state.resultUrl, { signal });
          downloadJson(`${name}.json`, projectFile);
          showMessage(`Exported ${name}.`, "success");
        }),
      );
      const deleteButton = h("button", { type: "button", class: "danger small", "data-needs": "author" }, "Delete");
      deleteButton.addEventListener("click", () =>
        busy(deleteButton, async () => {
          // What services/projects.run_delete removes: files a user uploaded stay (see there).
          const container = project.storageInputContainerName ? ` (container ${project.storageInputContainerName})` : "";
          if (!window.confirm(`Delete project ${name}? This deletes its documents and labels, its trained models and their files, its deployments, and the document files Lexicraft wrote to its storage container${container}. Files you put in the container yourself, and files another project uses, stay there.`)) return;
          await runJob("DELETE", projectPath(project), { signal });
          showMessage(`Deleted ${name}.`, "success");
          await reload();
        }),
      );
      tableBody.append(
        h(
          "tr",
          { dataset: { project: name } },
          h("td", {}, h("a", { href: `#/p/${encodeURIComponent(name)}/label` }, name),
            project.description ? h("div", { class: "muted small" }, project.description) : null),
          h("td", {}, PROJECT_KINDS[project.projectKind] || project.projectKind),
          h("td", {}, project.language),
          h("td", {}, formatDate(project.lastTrainedDateTime)),
          h("td", {}, formatDate(project.lastDeployedDateTime)),
          h("td", { class: "actions" }, exportButton, deleteButton),
        ),
      );
    }
  }
  renderRows(projects);

  // -- create ---------------------------------------------------------------------------------
  const nameInput = h("input", { type: "text", id: "new-project-name", required: true, pattern: "[A-Za-z0-9_.\\-]{1,100}", autocomplete: "off" });
  const kindSelect = select(Object.entries(PROJECT_KINDS), { id: "new-project-kind" });
  const languageSelect = select(
    languages.map((language) => [language.languageCode, `${language.languageName} (${language.languageCode})`]),
    { id: "new-project-language", value: "en-us" },
  );
  const labelsInput = h("textarea", { id: "new-project-labels", rows: 3, placeholder: "Person\nCity" });
  const intentsInput = h("textarea", { id: "new-project-intents", rows: 3, placeholder: "BookFlight\nGetWeather" });
  const intentsField = field("Intents", intentsInput, "one per line or comma-separated; None is always there");
  const descriptionInput = h("input", { type: "text", id: "new-project-description" });
  const labelsLabel = () =>
    ["CustomEntityRecognition", "Conversation"].includes(kindSelect.value) ? "Entities" : "Classes";
  const labelsField = field(labelsLabel(), labelsInput, "one per line or comma-separated");
  const showKind = () => {
    labelsField.querySelector("label").firstChild.textContent = labelsLabel();
    intentsField.hidden = kindSelect.value !== "Conversation";
  };
  kindSelect.addEventListener("change", showKind);
  showKind();
  const createButton = h("button", { type: "submit" }, "Create project");
  const createForm = h(
    "form",
    { class: "card", "aria-labelledby": "create-title", "data-needs": "author" },
    h("h2", { id: "create-title" }, "Create a project"),
    h("div", { class: "grid-2" },
      h("div", {}, field("Name", nameInput, "letters, digits, _ - ."), field("Kind", kindSelect), field("Language", languageSelect)),
      h("div", {}, intentsField, labelsField, field("Description", descriptionInput, "optional")),
    ),
    createButton,
  );
  createForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(createButton, async () => {
      const name = nameInput.value.trim();
      const names = (input) => [
        ...new Set(
          input.value
            .split(/[\n,]/)
            .map((label) => label.trim())
            .filter(Boolean),
        ),
      ];
      const labels = names(labelsInput);
      if (kindSelect.value === "Conversation") {
        await sendJson("PATCH", `${CONVERSATIONS}/${encodeURIComponent(name)}`, {
          projectName: name,
          projectKind: "Conversation",
          language: languageSelect.value,
          description: descriptionInput.value.trim() || undefined,
          multilingual: false,
          settings: { confidenceThreshold: 0 },
        }, { query: versionQuery, signal });
        for (const intent of names(intentsInput).filter((item) => item !== "None")) {
          await sendJson("POST", labelingPath(name, "/intents"), { category: intent }, { signal });
        }
        for (const entity of labels) {
          await sendJson("POST", labelingPath(name, "/entities"), { category: entity }, { signal });
        }
        showMessage(`Created ${name}.`, "success");
        window.location.hash = `#/p/${encodeURIComponent(name)}/label`;
        return;
      }
      await sendJson("PATCH", `${AUTHORING}/${encodeURIComponent(name)}`, {
        projectName: name,
        projectKind: kindSelect.value,
        language: languageSelect.value,
        storageInputContainerName: name,
        description: descriptionInput.value.trim() || undefined,
        multilingual: false,
      }, { query: versionQuery, signal });
      await sendJson("PUT", labelingPath(name, "/labels"), { labels }, { signal });
      showMessage(`Created ${name}.`, "success");
      window.location.hash = `#/p/${encodeURIComponent(name)}/label`;
    });
  });

  // -- import ---------------------------------------------------------------------------------
  const fileInput = h("input", { type: "file", id: "import-file", accept: ".json,application/json", required: true });
  const importNameInput = h("input", { type: "text", id: "import-name", autocomplete: "off" });
  const importButton = h("button", { type: "submit" }, "Import");
  const importForm = h(
    "form",
    { class: "card", "aria-labelledby": "import-title", "data-needs": "author" },
    h("h2", { id: "import-title" }, "Import a project file"),
    h("p", { class: "muted small" }, "An Azure Language project file (JSON, UTF-16 offsets): custom text or conversation (CLU), e.g. exported from Language Studio. Importing replaces a project of the same name."),
    h("div", { class: "row" },
      field("Project file", fileInput),
      field("Project name", importNameInput, "optional: defaults to the file's"),
      h("div", { class: "field" }, importButton),
    ),
  );
  importForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(importButton, async () => {
      const file = fileInput.files[0];
      if (!file) throw new Error("Choose a project file first.");
      let projectFile;
      try {
        projectFile = JSON.parse(await file.text());
      } catch (error) {
        throw new Error(`${file.name} is not JSON: ${error.message}`);
      }
      const metadata = projectFile.metadata || {};
      const name = importNameInput.value.trim() || metadata.projectName;
      if (!name) throw new Error("The file names no project; enter a project name.");
      if (importNameInput.value.trim()) {
        // Only the name changes: the documents stay in the storage container the file names.
        metadata.projectName = name;
        projectFile.metadata = metadata;
      }
      // The file's kind picks the authoring API (a CLU file names "Conversation").
      const kind = metadata.projectKind || (projectFile.assets || {}).projectKind || "";
      if (!(await confirmReplace(name))) {
        showMessage(`Nothing imported: ${name} is unchanged.`, "info");
        return;
      }
      await runJob("POST", `${familyOf(kind)}/${encodeURIComponent(name)}/:import`, { body: projectFile, signal });
      showMessage(`Imported ${name}.`, "success");
      importForm.reset();
      await reload();
    });
  });

  // -- import a labeled-data file (CoNLL, JSON Lines, Label Studio, doccano, CSV, LUIS …) -------
  const dataFileInput = h("input", { type: "file", id: "import-data-file", accept: DATA_FILE_TYPES, required: true });
  const dataFormatSelect = select(DATA_FORMATS, { id: "import-data-format" });
  const dataNameInput = h("input", { type: "text", id: "import-data-name", required: true, pattern: "[A-Za-z0-9_.\\-]{1,100}", autocomplete: "off" });
  const dataKindSelect = select(
    [["", "From the file"], ...Object.entries(PROJECT_KINDS).filter(([kind]) => kind !== "Conversation")],
    { id: "import-data-kind" },
  );
  const dataLanguageSelect = select(
    languages.map((language) => [language.languageCode, `${language.languageName} (${language.languageCode})`]),
    { id: "import-data-language", value: "en-us" },
  );
  const dataDatasetSelect = select([["", "As in the file"], ["Train", "Train"], ["Test", "Test"]], { id: "import-data-dataset" });
  const dataSkipInput = h("input", { type: "checkbox", id: "import-data-skip" });
  const dataKindField = field("Project kind", dataKindSelect, "for a new project, when the file cannot tell");
  const dataButton = h("button", { type: "submit", id: "import-data-submit" }, "Import file");
  const report = h("div", { id: "import-report", class: "import-report", "aria-live": "polite" });
  const showDataKind = () => {
    dataKindField.hidden = KIND_FROM_FILE.has(dataFormatSelect.value);
  };
  dataFormatSelect.addEventListener("change", showDataKind);
  dataFileInput.addEventListener("change", () => {
    const file = dataFileInput.files[0];
    if (!file) return;
    const dot = file.name.lastIndexOf(".");
    const extension = dot > 0 ? file.name.slice(dot + 1).toLowerCase() : "";
    dataFormatSelect.value = FORMAT_OF_EXTENSION[extension] || "";
    if (!dataNameInput.value.trim()) {
      // The file's name, as far as a project name may hold it.
      const stem = (dot > 0 ? file.name.slice(0, dot) : file.name).replace(/[^A-Za-z0-9_.-]+/g, "-").slice(0, 100);
      dataNameInput.value = stem;
    }
    showDataKind();
  });
  showDataKind();

  // The server's per-line report of a file: each invalid record with its line and field.
  function showReport(title, note, records, kind) {
    fill(
      report,
      h("h3", { id: "import-report-title" }, title),
      note ? h("p", { class: "small" }, note) : null,
      h(
        "ol",
        // Focusable: a long report scrolls, and keyboard users must be able to scroll it.
        { class: `import-errors ${kind}`, "aria-labelledby": "import-report-title", tabindex: "0" },
        records.map((record) =>
          h(
            "li",
            { dataset: { line: record.line == null ? "" : String(record.line) } },
            record.line == null ? null : h("span", { class: "line-number" }, `Line ${record.line}`),
            // The line is shown apart: the message need not start with it too.
            h("span", {}, record.line == null ? record.message : record.message.replace(/^line \d+(, |: )/, "")),
          ),
        ),
      ),
    );
  }

  async function readUtf8(file) {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(await file.arrayBuffer());
    } catch {
      throw new Error(`${file.name} is not UTF-8 text; save it as UTF-8 and try again.`);
    }
  }

  const dataForm = h(
    "form",
    { class: "card", id: "import-data-form", "aria-labelledby": "import-data-title", "data-needs": "author" },
    h("h2", { id: "import-data-title" }, "Import labeled data from another tool"),
    h("p", { class: "muted small" }, "CoNLL, JSON Lines, Label Studio, doccano, CSV, Amazon Comprehend, an Azure or CLU project file, or a LUIS app export — the formats lexicraft import reads. A file with an invalid record imports nothing; each one is listed with its line."),
    h("div", { class: "row" },
      field("File", dataFileInput),
      field("Format", dataFormatSelect),
      field("Project name", dataNameInput, "new or existing"),
      dataKindField,
      field("Language", dataLanguageSelect, "of a new project"),
      field("Dataset", dataDatasetSelect),
      h("div", { class: "field inline" }, dataSkipInput, h("label", { for: "import-data-skip" }, "Skip invalid records")),
      h("div", { class: "field" }, dataButton),
    ),
    report,
  );
  dataForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(dataButton, async () => {
      report.replaceChildren();
      const file = dataFileInput.files[0];
      if (!file) throw new Error("Choose a file first.");
      const name = dataNameInput.value.trim();
      if (!name) throw new Error("Enter a project name.");
      const content = await readUtf8(file);
      if (!(await confirmReplace(name))) {
        showMessage(`Nothing imported: ${name} is unchanged.`, "info");
        return;
      }
      const body = {
        content,
        fileName: file.name,
        format: dataFormatSelect.value || undefined,
        projectKind: (!dataKindField.hidden && dataKindSelect.value) || undefined,
        language: dataLanguageSelect.value,
        dataset: dataDatasetSelect.value || undefined,
        skipInvalid: dataSkipInput.checked,
      };
      let response;
      try {
        response = await request("POST", labelingPath(name, "/:import-file"), { body, signal });
      } catch (error) {
        if (error instanceof ApiError && error.details && error.details.length) {
          const note = error.details.length > 1 ? error.message.split(";")[0] : null;
          showReport(`Nothing was imported from ${file.name}`, note, error.details, "error");
        }
        throw error;
      }
      const summary = await response.json();
      const state = await waitJob(response.headers.get("Operation-Location"), { signal });
      if (state.status !== "succeeded") throw new Error(jobErrorMessage(state));
      const what = summary.projectKind === "Conversation" ? "utterances" : "documents";
      if (summary.skipped.length) {
        showReport(`${summary.skipped.length} invalid record(s) of ${file.name} skipped`, null, summary.skipped, "warning");
      }
      showMessage(`Imported ${summary.documentCount} ${what} into ${name} (${summary.format}).`, "success");
      dataForm.reset();
      showDataKind();
      await reload();
    });
  });

  container.replaceChildren(
    h("div", { class: "page-head" }, h("h1", {}, "Projects"), h("span", { class: "muted" }, "Custom NER, text classification and conversation (CLU) projects on this server")),
    h("div", { class: "card" },
      h("table", { id: "projects-table" },
        h("caption", { class: "muted small", hidden: true }, "Projects"),
        h("thead", {}, h("tr", {},
          ["Name", "Kind", "Language", "Last trained", "Last deployed"].map((title) => h("th", { scope: "col" }, title)),
          // Named for screen readers (an empty header is announced as nothing).
          h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
        )),
        tableBody,
      ),
    ),
    h("div", { class: "grid-2" }, createForm, importForm),
    dataForm,
  );
  return null;
}
