// Projects: list, create (kind, language, labels), import and export the Azure project file, delete.

import {
  AUTHORING,
  CONVERSATIONS,
  PROJECT_KINDS,
  familyOf,
  getJson,
  labelingPath,
  listAll,
  projectPath,
  runJob,
  sendJson,
  versionQuery,
} from "../api.js";
import { busy, downloadJson, emptyRow, field, formatDate, h, select, showMessage } from "../ui.js";

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

  function renderRows(rows) {
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
      await runJob("POST", `${familyOf(kind)}/${encodeURIComponent(name)}/:import`, { body: projectFile, signal });
      showMessage(`Imported ${name}.`, "success");
      importForm.reset();
      await reload();
    });
  });

  container.replaceChildren(
    h("div", { class: "page-head" }, h("h1", {}, "Projects"), h("span", { class: "muted" }, "Custom NER, text classification and conversation (CLU) projects on this server")),
    h("div", { class: "card" },
      h("table", { id: "projects-table" },
        h("caption", { class: "muted small", hidden: true }, "Projects"),
        h("thead", {}, h("tr", {}, ["Name", "Kind", "Language", "Last trained", "Last deployed", ""].map((title) => h("th", { scope: "col" }, title)))),
        tableBody,
      ),
    ),
    h("div", { class: "grid-2" }, createForm, importForm),
  );
  return null;
}
