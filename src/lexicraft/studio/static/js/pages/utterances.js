// Labeling a conversation (CLU) project: the utterance list, an intent picker per utterance,
// entity spans tagged on the utterance text (selection and keys 1–9, as on the NER labeling
// page, with the same text.js offsets and colours), Train/Test assignment, and the project's
// intents and entities with their list, regex and prebuilt components.
//
// Utterances change through the Studio's conversation routes (…/utterances, …/intents,
// …/entities), which apply the import's rules; offsets count code points.

import { documentPath, getJson, labelingPath, request, sendJson } from "../api.js";
import { TextIndex, colourClass, renderMarked, selectOffsets, selectionOffsets } from "../text.js";
import { busy, field, fill, h, select, showError, showMessage, uid } from "../ui.js";

const TYPING = "input[type=text], input[type=password], input[type=number], input[type=search], input[type=file], textarea, select, [contenteditable]";

function utterancePath(projectName, location) {
  return documentPath(projectName, location).replace(/\/documents\//, "/utterances/");
}

export async function utterancesPage(container, context) {
  const { project, signal } = context;
  const projectName = project.projectName;
  const state = {
    intents: [], // [{category, utteranceCount}]
    entities: [], // [{category, utteranceCount, list?, regex?, prebuilts?, …}]
    utterances: [],
    counts: null,
    current: null, // location
    index: null, // TextIndex of the current utterance
    pending: null, // [start, end) UTF-16, snapped
    selectedSpan: null, // index into current.entities
    saving: Promise.resolve(),
    openComponents: new Set(), // entities whose components are shown (kept across renders)
  };
  const entityNames = () => state.entities.map((entity) => entity.category);
  const intentNames = () => state.intents.map((intent) => intent.category);

  // -- elements -------------------------------------------------------------------------------
  const intentFilter = select([["", "All intents"]], { id: "filter-intent" });
  const datasetFilter = select([["", "Any"], ["Train", "Train"], ["Test", "Test"], ["none", "Unassigned"]], { id: "filter-dataset" });
  const countsLine = h("p", { class: "counts", id: "doc-counts" });
  const list = h("ul", { id: "doc-list", "aria-label": "Utterances" });
  const newText = h("input", { type: "text", id: "new-utterance-text", autocomplete: "off", placeholder: "A new utterance…" });
  const newIntent = select([], { id: "new-utterance-intent" });
  const addButton = h("button", { type: "submit", id: "add-utterance" }, "Add");
  const addForm = h("form", { id: "add-utterance-form", "aria-label": "Add an utterance" }, field("Utterance", newText), h("div", { class: "row" }, field("Intent", newIntent), h("div", { class: "field" }, addButton)));
  const editor = h("div", { class: "doc-editor" });
  const intentsCard = h("div", { class: "card side-panel", id: "intents-card" });
  const entitiesCard = h("div", { class: "card side-panel", id: "entities-card" });

  // -- data -----------------------------------------------------------------------------------
  function takeLabels(body) {
    state.intents = body.intents;
    state.entities = body.entities;
  }

  async function loadLabels() {
    takeLabels(await getJson(labelingPath(projectName, "/conversation"), { signal }));
  }

  async function loadUtterances() {
    const pages = [];
    let next = labelingPath(projectName, "/documents");
    let query = datasetFilter.value ? { dataset: datasetFilter.value } : {};
    while (next) {
      const page = await getJson(next, { query, signal });
      pages.push(page);
      next = page.nextLink;
      query = undefined;
    }
    const wanted = intentFilter.value;
    state.utterances = pages.flatMap((page) => page.value).filter((item) => !wanted || item.intent === wanted);
    state.counts = pages[0].counts;
  }

  function currentUtterance() {
    return state.utterances.find((item) => item.location === state.current) || null;
  }

  // Swap in an utterance the server returned; the project-wide counts change by its difference.
  function replaceUtterance(updated) {
    const position = state.utterances.findIndex((item) => item.location === updated.location);
    if (position < 0) return;
    const previous = state.utterances[position];
    state.utterances[position] = updated;
    const counts = state.counts;
    if (!counts) return;
    for (const [item, sign] of [[previous, -1], [updated, 1]]) {
      counts.train += sign * (item.dataset === "Train" ? 1 : 0);
      counts.test += sign * (item.dataset === "Test" ? 1 : 0);
      counts.unassigned += sign * (item.dataset ? 0 : 1);
    }
  }

  // Changes go one after another so a slow answer never overwrites a newer change.
  function save(location, body) {
    const status = editor.querySelector("#save-status");
    if (status) status.textContent = "Saving…";
    state.saving = state.saving
      .then(async () => {
        const updated = await sendJson("PATCH", utterancePath(projectName, location), body, { signal });
        replaceUtterance(updated);
        await loadLabels();
        renderAll();
        const saved = editor.querySelector("#save-status");
        if (saved) saved.textContent = "Saved";
      })
      .catch(async (error) => {
        showError(error);
        const failed = editor.querySelector("#save-status");
        if (failed) failed.textContent = "Not saved";
        try {
          replaceUtterance(await getJson(documentPath(projectName, location), { signal }));
          renderEditor();
        } catch (reloadError) {
          showError(reloadError);
        }
      });
    return state.saving;
  }

  function spanList(utterance) {
    return utterance.entities.map((entity) => ({ category: entity.category, offset: entity.offset, length: entity.length }));
  }

  // One entity's spans may not overlap (the import's rule); different entities' may.
  function clashes(entities, candidate) {
    return entities.some(
      (entity) =>
        entity.category === candidate.category &&
        candidate.offset < entity.offset + entity.length &&
        entity.offset < candidate.offset + candidate.length,
    );
  }

  function addSpan(category, start, end) {
    const utterance = currentUtterance();
    const candidate = { category, ...state.index.spanToCodePoints(start, end) };
    const entities = spanList(utterance);
    if (clashes(entities, candidate)) {
      showMessage(`Spans of ${category} cannot overlap: delete or change the existing span first.`, "error");
      return null;
    }
    state.pending = null;
    window.getSelection().removeAllRanges();
    return save(utterance.location, { entities: [...entities, candidate] });
  }

  function changeSpan(position, category) {
    const utterance = currentUtterance();
    const entities = spanList(utterance);
    entities[position] = { ...entities[position], category };
    return save(utterance.location, { entities });
  }

  function deleteSpan(position) {
    const utterance = currentUtterance();
    state.selectedSpan = null;
    return save(utterance.location, { entities: spanList(utterance).filter((_, index) => index !== position) });
  }

  function applyEntity(category) {
    if (!currentUtterance()) return;
    if (state.pending) addSpan(category, ...state.pending);
    else if (state.selectedSpan !== null) changeSpan(state.selectedSpan, category);
    else showMessage("Select some text of the utterance first, then choose an entity.");
  }

  // -- rendering: list --------------------------------------------------------------------------
  function renderFilters() {
    const chosen = intentFilter.value;
    fill(intentFilter, h("option", { value: "" }, "All intents"), intentNames().map((name) => h("option", { value: name }, name)));
    intentFilter.value = intentNames().includes(chosen) ? chosen : "";
    const newChosen = newIntent.value;
    fill(newIntent, intentNames().map((name) => h("option", { value: name }, name)));
    newIntent.value = intentNames().includes(newChosen) ? newChosen : "None";
  }

  function renderList() {
    const counts = state.counts;
    if (counts) countsLine.textContent = `${counts.total} utterances · Train ${counts.train} · Test ${counts.test} · unassigned ${counts.unassigned}`;
    list.replaceChildren();
    if (!state.utterances.length) {
      list.append(h("li", { class: "empty" }, "No utterances match. Add some, or change the filters."));
      return;
    }
    for (const utterance of state.utterances) {
      list.append(
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "doc-item",
              "aria-current": utterance.location === state.current ? "true" : "false",
              dataset: { location: utterance.location, intent: utterance.intent },
              onclick: () => selectUtterance(utterance.location),
            },
            h(
              "span",
              { class: "doc-name" },
              h("span", { class: "badge intent" }, utterance.intent),
              utterance.entities.length ? h("span", { class: "badge" }, `${utterance.entities.length} ${utterance.entities.length === 1 ? "entity" : "entities"}`) : null,
              utterance.dataset ? h("span", { class: `badge ${utterance.dataset.toLowerCase()}` }, utterance.dataset) : null,
            ),
            h("span", { class: "doc-snippet" }, utterance.text),
          ),
        ),
      );
    }
  }

  // -- rendering: editor ------------------------------------------------------------------------
  function renderEditor() {
    const utterance = currentUtterance();
    if (!utterance) {
      editor.replaceChildren(h("div", { class: "card" }, h("p", { class: "muted" }, "Choose an utterance on the left, or add one.")));
      state.index = null;
      return;
    }
    if (!state.index || state.index.text !== utterance.text) state.index = new TextIndex(utterance.text);
    const position = state.utterances.findIndex((item) => item.location === utterance.location);
    const labels = entityNames();

    const previous = h("button", { type: "button", class: "secondary small", disabled: position <= 0, title: "Previous utterance (key p)", onclick: () => step(-1) }, "‹ Previous");
    const next = h("button", { type: "button", class: "secondary small", disabled: position >= state.utterances.length - 1, title: "Next utterance (key n)", onclick: () => step(1) }, "Next ›");
    const editButton = h("button", { type: "button", class: "secondary small", id: "edit-text" }, "Edit text");
    editButton.addEventListener("click", () => {
      const text = window.prompt("The utterance's text (its entity spans are cleared):", utterance.text);
      if (text !== null && text !== utterance.text) save(utterance.location, { text });
    });
    const deleteButton = h("button", { type: "button", class: "danger small", id: "delete-document" }, "Delete");
    deleteButton.addEventListener("click", () =>
      busy(deleteButton, async () => {
        if (!window.confirm(`Delete the utterance “${utterance.text}”?`)) return;
        await request("DELETE", documentPath(projectName, utterance.location), { signal });
        showMessage("Deleted the utterance.", "success");
        state.current = null;
        await refresh();
      }),
    );

    const intentSelect = select(intentNames().map((name) => [name, name]), {
      id: "intent-select",
      value: utterance.intent,
      onchange: (event) => save(utterance.location, { intent: event.target.value }),
    });

    const textView = h("div", {
      class: "doc-text utterance-text",
      id: "doc-text",
      tabindex: "0",
      role: "document",
      "aria-label": "Utterance text. Select text, then press 1 to 9 to tag it.",
      lang: utterance.language || project.language,
    });
    const marks = utterance.entities.map((entity, index) => {
      const [start, end] = state.index.spanToUtf16(entity.offset, entity.length);
      return {
        start,
        end,
        id: `s${index}`,
        category: entity.category,
        classes: ["entity", colourClass(labels, entity.category), ...(state.selectedSpan === index ? ["selected"] : [])],
        tag: entity.category,
        title: `${entity.category} (click to select; Delete removes it)`,
      };
    });
    renderMarked(textView, utterance.text, marks);
    textView.addEventListener("mouseup", () => captureSelection(textView));
    textView.addEventListener("keyup", (event) => {
      if (event.shiftKey) captureSelection(textView);
    });
    textView.addEventListener("click", (event) => {
      const mark = event.target.closest("mark");
      if (!mark || !window.getSelection().isCollapsed) return;
      const spanId = (mark.dataset.marks || "").split(" ").find((id) => id.startsWith("s"));
      if (spanId === undefined) return;
      state.selectedSpan = Number(spanId.slice(1));
      state.pending = null;
      renderEditor();
      editor.querySelector("#doc-text").focus();
    });

    const bar = h("div", { class: "label-bar", role: "group", "aria-label": "Entities" });
    if (!labels.length) bar.append(h("span", { class: "muted" }, "No entities yet: add some under Entities."));
    labels.forEach((label, index) => {
      bar.append(
        h(
          "button",
          {
            type: "button",
            class: `label-button ${colourClass(labels, label)}`,
            dataset: { label },
            onmousedown: (event) => event.preventDefault(), // keep the text selection
            onclick: () => applyEntity(label),
          },
          index < 9 ? h("kbd", {}, String(index + 1)) : null,
          label,
        ),
      );
    });

    const focused = window.document.activeElement;
    const focusedId = focused && editor.contains(focused) ? focused.id : "";
    editor.replaceChildren(
      h(
        "div",
        { class: "card" },
        h(
          "div",
          { class: "page-head" },
          h("h2", { id: "doc-title" }, `Utterance ${position + 1} of ${state.utterances.length}`),
          h("span", { class: "muted small", id: "save-status", "aria-live": "polite" }),
          h("span", { class: "head-actions" }, previous, next, editButton, deleteButton),
        ),
        h("div", { class: "row" }, field("Intent", intentSelect)),
        bar,
        h("p", { class: "selection-hint", id: "selection-hint", "aria-live": "polite" }),
        textView,
        renderSpanTable(utterance),
        renderDataset(utterance),
      ),
    );
    if (focusedId) {
      const again = window.document.getElementById(focusedId);
      if (again) again.focus({ preventScroll: true });
    }
    renderHint();
  }

  function renderHint() {
    const hint = editor.querySelector("#selection-hint");
    const utterance = currentUtterance();
    if (!hint || !utterance) return;
    if (state.pending) {
      hint.textContent = `Selected “${utterance.text.slice(...state.pending)}” — press 1–9 or click an entity to tag it.`;
    } else if (state.selectedSpan !== null && utterance.entities[state.selectedSpan]) {
      const entity = utterance.entities[state.selectedSpan];
      hint.textContent = `Span ${entity.category} “${utterance.text.slice(...state.index.spanToUtf16(entity.offset, entity.length))}” — press 1–9 to change it, Delete to remove it, Esc to deselect.`;
    } else {
      hint.textContent = "Select text with the mouse (or Shift+arrows), then press 1–9 or click an entity.";
    }
  }

  function renderSpanTable(utterance) {
    const labels = entityNames();
    const body = h("tbody");
    utterance.entities.forEach((entity, index) => {
      const surface = utterance.text.slice(...state.index.spanToUtf16(entity.offset, entity.length));
      body.append(
        h(
          "tr",
          { class: state.selectedSpan === index ? "selected" : null, dataset: { category: entity.category } },
          h("td", {}, surface),
          h("td", {}, select(labels.map((label) => [label, label]), { value: entity.category, "aria-label": `Entity of “${surface}”`, onchange: (event) => changeSpan(index, event.target.value) })),
          h("td", { class: "num" }, String(entity.offset)),
          h("td", { class: "num" }, String(entity.length)),
          h("td", { class: "actions" }, h("button", { type: "button", class: "danger small", "aria-label": `Delete span “${surface}”`, onclick: () => deleteSpan(index) }, "Delete")),
        ),
      );
    });
    if (!utterance.entities.length) body.append(h("tr", {}, h("td", { colspan: "5", class: "empty" }, "No entities labelled.")));
    return h(
      "details",
      { open: true },
      h("summary", {}, `Entities (${utterance.entities.length})`),
      h("table", { id: "span-table" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Text"), h("th", { scope: "col" }, "Entity"), h("th", { scope: "col", class: "num" }, "Offset"), h("th", { scope: "col", class: "num" }, "Length"), h("th", {}, ""))),
        body,
      ),
      h("p", { class: "hint" }, "Offsets and lengths count Unicode code points; exports count UTF-16 code units, as Azure's files do."),
    );
  }

  function renderDataset(utterance) {
    const name = uid("dataset");
    return h(
      "fieldset",
      { id: "dataset-choice" },
      h("legend", {}, "Dataset"),
      [["Train", "Train"], ["Test", "Test"], ["", "Unassigned"]].map(([value, text]) =>
        h("label", { class: "choice" },
          h("input", { type: "radio", name, value, checked: (utterance.dataset || "") === value, onchange: () => save(utterance.location, { dataset: value || null }) }),
          text,
        ),
      ),
      h("span", { class: "hint" }, "Manual training splits use it; unassigned utterances train."),
    );
  }

  // -- side panels: intents, entities and their components ----------------------------------------
  async function changeLabels(method, path, body) {
    takeLabels(await sendJson(method, labelingPath(projectName, path), body, { signal }));
    await loadUtterances();
    renderAll();
  }

  function nameForm(id, what, path) {
    const input = h("input", { type: "text", id, autocomplete: "off" });
    const button = h("button", { type: "submit", class: "secondary" }, "Add");
    const form = h("form", { class: "row" }, field(`New ${what}`, input), h("div", { class: "field" }, button));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const name = input.value.trim();
      if (!name) return;
      busy(button, async () => {
        await changeLabels("POST", path, { category: name });
        input.value = "";
      });
    });
    return form;
  }

  function labelActions(what, name, path) {
    const rename = h("button", { type: "button", class: "secondary small", "aria-label": `Rename ${what} ${name}` }, "Rename");
    rename.addEventListener("click", () =>
      busy(rename, async () => {
        const wanted = window.prompt(`Rename ${what} ${name} to:`, name);
        if (wanted && wanted.trim() && wanted.trim() !== name) {
          await changeLabels("PATCH", `${path}/${encodeURIComponent(name)}`, { category: wanted.trim() });
        }
      }),
    );
    const remove = h("button", { type: "button", class: "danger small", "aria-label": `Remove ${what} ${name}` }, "Remove");
    remove.addEventListener("click", () => busy(remove, () => changeLabels("DELETE", `${path}/${encodeURIComponent(name)}`)));
    return h("span", { class: "actions" }, rename, remove);
  }

  function renderIntentsCard() {
    const rows = state.intents.map((intent) =>
      h(
        "li",
        { dataset: { intent: intent.category } },
        h("span", { class: "badge intent" }, intent.category),
        h("span", { class: "muted small" }, ` ${intent.utteranceCount} `),
        intent.category === "None" ? h("span", { class: "hint" }, "always there") : labelActions("intent", intent.category, "/intents"),
      ),
    );
    fill(intentsCard, h("h3", {}, "Intents"), h("ul", { class: "suggestion-list", id: "intent-list" }, rows), nameForm("new-intent", "intent", "/intents"));
  }

  // "key: synonym, synonym" per line ⇄ the list component's sublists (every language).
  function listText(entity) {
    const sublists = (entity.list && entity.list.sublists) || [];
    return sublists
      .map((sublist) => `${sublist.listKey || ""}: ${sublist.synonyms.flatMap((words) => words.values).join(", ")}`)
      .join("\n");
  }

  function parseList(text, entity) {
    const languages = new Map(((entity.list && entity.list.sublists) || []).map((sublist) => [sublist.listKey || "", sublist.synonyms[0] ? sublist.synonyms[0].language : undefined]));
    return text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => {
        // "key: a, b"; a line without a key is keyed by its first synonym.
        const colon = line.indexOf(":");
        const values = (colon < 0 ? line : line.slice(colon + 1)).split(",").map((value) => value.trim()).filter(Boolean);
        const key = colon < 0 ? values[0] || "" : line.slice(0, colon).trim();
        const language = languages.get(key);
        return { listKey: key || undefined, synonyms: [{ ...(language ? { language } : {}), values }] };
      });
  }

  function renderComponents(entity) {
    const parts = [h("div", { class: "small" }, "Composition: ", h("code", {}, entity.compositionSetting))];
    if (entity.requiredComponents && entity.requiredComponents.length) {
      parts.push(h("div", { class: "small" }, `Required components: ${entity.requiredComponents.join(", ")}`));
    }
    const sublists = (entity.list && entity.list.sublists) || [];
    parts.push(
      h("div", { class: "component", dataset: { component: "list" } },
        h("strong", { class: "small" }, `List (${sublists.length})`),
        sublists.length
          ? h("ul", { class: "small" }, sublists.map((sublist) =>
              h("li", { dataset: { listKey: sublist.listKey || "" } },
                h("code", {}, sublist.listKey || "—"), ": ",
                sublist.synonyms.map((words) => `${words.values.join(", ")}${words.language ? ` (${words.language})` : ""}`).join("; "),
              )))
          : null,
      ),
    );
    const expressions = (entity.regex && entity.regex.expressions) || [];
    if (expressions.length) {
      parts.push(
        h("div", { class: "component", dataset: { component: "regex" } },
          h("strong", { class: "small" }, `Regex (${expressions.length})`),
          h("ul", { class: "small" }, expressions.map((expression) =>
            h("li", {}, h("code", {}, expression.regexKey || "—"), " ", h("code", { class: "mono" }, expression.regexPattern || ""), expression.language ? ` (${expression.language})` : ""),
          )),
        ),
      );
    }
    const prebuilts = entity.prebuilts || [];
    if (prebuilts.length) {
      parts.push(
        h("div", { class: "component", dataset: { component: "prebuilts" } },
          h("strong", { class: "small" }, "Prebuilt: "),
          h("span", { class: "small" }, prebuilts.map((prebuilt) => prebuilt.category).join(", ")),
        ),
      );
    }
    // Editing the list's synonyms: one item a line.
    const textArea = h("textarea", { rows: 3, class: "list-editor", "aria-label": `List items of ${entity.category}`, placeholder: "paris: Paris, City of Light" });
    textArea.value = listText(entity);
    const saveButton = h("button", { type: "button", class: "secondary small" }, "Save list");
    saveButton.addEventListener("click", () =>
      busy(saveButton, () => changeLabels("PATCH", `/entities/${encodeURIComponent(entity.category)}`, { list: { sublists: parseList(textArea.value, entity) } })),
    );
    parts.push(h("details", {}, h("summary", { class: "small" }, "Edit list synonyms"), textArea, h("p", { class: "hint" }, "One item a line: key: synonym, synonym"), saveButton));
    return parts;
  }

  function renderEntitiesCard() {
    const labels = entityNames();
    const rows = state.entities.map((entity, index) =>
      h(
        "li",
        { dataset: { entity: entity.category }, class: "entity-definition" },
        h("div", {},
          h("span", { class: `badge ${colourClass(labels, entity.category)}` }, index < 9 ? `${index + 1} ` : "", entity.category),
          h("span", { class: "muted small" }, ` ${entity.utteranceCount} `),
          labelActions("entity", entity.category, "/entities"),
        ),
        h(
          "details",
          {
            class: "components",
            open: state.openComponents.has(entity.category),
            ontoggle: (event) => {
              if (event.currentTarget.open) state.openComponents.add(entity.category);
              else state.openComponents.delete(entity.category);
            },
          },
          h("summary", { class: "small" }, "Components"),
          renderComponents(entity),
        ),
      ),
    );
    fill(entitiesCard, h("h3", {}, "Entities"), h("ul", { class: "suggestion-list", id: "entity-list" }, rows), nameForm("new-entity", "entity", "/entities"));
  }

  function renderAll() {
    renderFilters();
    renderList();
    renderEditor();
    renderIntentsCard();
    renderEntitiesCard();
  }

  // -- selection and keys -------------------------------------------------------------------------
  function captureSelection(textView) {
    if (!state.index) return;
    const offsets = selectionOffsets(textView);
    if (!offsets) return;
    const snapped = state.index.snap(...offsets);
    state.pending = snapped;
    state.selectedSpan = null;
    if (snapped) selectOffsets(textView, ...snapped);
    renderHint();
  }

  function onKeyDown(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest && event.target.closest(TYPING)) return;
    if (/^[1-9]$/.test(event.key)) {
      const label = entityNames()[Number(event.key) - 1];
      if (label) {
        event.preventDefault();
        applyEntity(label);
      }
    } else if ((event.key === "Delete" || event.key === "Backspace") && state.selectedSpan !== null) {
      event.preventDefault();
      deleteSpan(state.selectedSpan);
    } else if (event.key === "Escape") {
      state.pending = null;
      state.selectedSpan = null;
      window.getSelection().removeAllRanges();
      renderEditor();
    } else if (event.key === "n") {
      step(1);
    } else if (event.key === "p") {
      step(-1);
    }
  }

  function onSelectionChange() {
    if (!state.pending) return;
    const view = editor.querySelector("#doc-text");
    if (!view || !selectionOffsets(view)) {
      state.pending = null;
      renderHint();
    }
  }

  function selectUtterance(location) {
    state.current = location;
    state.pending = null;
    state.selectedSpan = null;
    renderList();
    renderEditor();
  }

  function step(delta) {
    const position = state.utterances.findIndex((item) => item.location === state.current);
    const target = state.utterances[position + delta];
    if (target) selectUtterance(target.location);
  }

  async function refresh() {
    await loadUtterances();
    if (!state.utterances.some((item) => item.location === state.current)) {
      state.current = state.utterances.length ? state.utterances[0].location : null;
    }
    renderAll();
  }

  addForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(addButton, async () => {
      const text = newText.value;
      if (!text.trim()) throw new Error("Type the utterance's text first.");
      const added = await sendJson("POST", labelingPath(projectName, "/utterances"), { text, intent: newIntent.value }, { signal });
      showMessage("Added the utterance.", "success");
      newText.value = "";
      await Promise.all([loadUtterances(), loadLabels()]);
      state.current = added.location;
      renderAll();
    });
  });
  for (const filter of [intentFilter, datasetFilter]) filter.addEventListener("change", () => refresh().catch(showError));

  // -- first render -------------------------------------------------------------------------------
  await Promise.all([loadLabels(), loadUtterances()]);
  if (!context.alive()) return null;
  state.current = state.utterances.length ? state.utterances[0].location : null;
  container.replaceChildren(
    h("div", { class: "page-head" }, h("h1", {}, "Labeling"), h("span", { class: "muted" }, "Pick each utterance's intent · select text and press 1–9 to tag entities · n / p: next / previous")),
    h(
      "div",
      { class: "labeling" },
      h("aside", { class: "doc-list card", "aria-label": "Utterance list" },
        h("div", { class: "filters" }, field("Intent", intentFilter), field("Dataset", datasetFilter)),
        countsLine,
        addForm,
        list,
      ),
      h("div", { class: "editor-grid" }, editor, h("div", {}, intentsCard, entitiesCard)),
    ),
  );
  renderAll();
  window.document.addEventListener("keydown", onKeyDown);
  window.document.addEventListener("selectionchange", onSelectionChange);
  return () => {
    window.document.removeEventListener("keydown", onKeyDown);
    window.document.removeEventListener("selectionchange", onSelectionChange);
  };
}
