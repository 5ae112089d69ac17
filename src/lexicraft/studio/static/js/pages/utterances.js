// Labeling a conversation (CLU) project: the utterance list, an intent picker per utterance,
// entity spans tagged on the utterance text (selection and keys 1–9: the NER labeling page's
// tagger from tagging.js, with the same offsets and colours), Train/Test assignment, and the project's
// intents and entities with their list, regex and prebuilt components.
//
// Utterances change through the Studio's conversation routes (…/utterances, …/intents,
// …/entities), which apply the import's rules; offsets count code points. An intent or entity
// is renamed (or merged into another) in one request, undoable unless it merged.
// Review (js/review.js), as on the custom text labeling page: each utterance's state, filters
// by state and annotator, Accept / Send back; an utterance in the double-annotation sample is
// labeled (intent and entities) as the user's own version unless they switch to the resolved
// labels.

import { documentPath, getJson, labelingPath, listPages, request, sendJson } from "../api.js";
import { datasetChoice, followCurrent, labelBadge, labelButtons, replaceItem, showAddress, spanTagger, stillListed } from "../tagging.js";
import { historyPanel } from "../history.js";
import { ownBadge, ownVersions, reviewFilters, reviewPanel, stateBadge } from "../review.js";
import { renderMarked } from "../text.js";
import { busy, field, fill, h, replaceKeepingFocus, select, showError, showMessage } from "../ui.js";
import { stateOf, undoHistory } from "../undo.js";

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
  // Double annotation: a sampled utterance shows and saves my own intent and entities; a
  // version not saved yet starts at the None intent, as a new utterance does.
  const own = ownVersions({
    projectName,
    signal,
    empty: { intent: "None", entities: [] },
    items: () => state.utterances,
    changed: (location) => {
      if (state.current === location) renderEditor();
    },
  });
  const entityNames = () => state.entities.map((entity) => entity.category);
  const intentNames = () => state.intents.map((intent) => intent.category);

  // -- elements -------------------------------------------------------------------------------
  const intentFilter = select([["", "All intents"]], { id: "filter-intent" });
  // Every utterance has an intent: the status is its review state alone.
  const review = reviewFilters({ labelStatus: false });
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
    const query = review.query();
    if (datasetFilter.value) query.dataset = datasetFilter.value;
    const pages = await listPages(labelingPath(projectName, "/documents"), { query, signal });
    const wanted = intentFilter.value;
    state.utterances = pages.flatMap((page) => page.value).filter((item) => !wanted || item.intent === wanted);
    review.note(state.utterances);
    state.counts = pages[0].counts;
  }

  function currentUtterance() {
    return own.viewOf(state.utterances.find((item) => item.location === state.current) || null);
  }

  function replaceUtterance(updated) {
    replaceItem(state.utterances, state.counts, updated);
  }

  // A label change of a sampled utterance goes to my own version, one save after another.
  function saveOwn(location, body) {
    state.saving = own.saveAfter(state.saving, location, body, () => editor.querySelector("#save-status"));
    return state.saving;
  }

  // Changes go one after another so a slow answer never overwrites a newer change.
  function save(location, body) {
    const raw = state.utterances.find((item) => item.location === location);
    if (own.takes(raw, body)) return saveOwn(location, body);
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
        return true;
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
        return false;
      });
    return state.saving;
  }

  // A labeling change of one utterance: saved, then undoable (undo saves its state before).
  function change(location, body) {
    const utterance = own.viewOf(state.utterances.find((item) => item.location === location));
    const before = utterance ? stateOf(utterance, body) : null;
    return undoable.saving(
      save(location, body).then((ok) => {
        if (ok && before) undoable.record({ location, what: `the change to “${utterance.text}”`, undo: () => save(location, before), redo: () => save(location, body) });
        return ok;
      }),
    );
  }

  const undoable = undoHistory({
    current: () => state.current,
    open: async (location) => {
      if (state.utterances.some((item) => item.location === location)) tagger.select(location);
    },
  });

  // One entity's spans may not overlap (the import's rule); different entities' may.
  function clashes(entities, candidate) {
    return entities.some(
      (entity) =>
        entity.category === candidate.category &&
        candidate.offset < entity.offset + entity.length &&
        entity.offset < candidate.offset + candidate.length,
    );
  }

  const tagger = spanTagger({
    state,
    editor,
    items: () => state.utterances,
    current: currentUtterance,
    show: () => {
      renderList();
      renderEditor();
      if (context.alive()) showAddress(projectName, state.current);
    },
    save: change,
    clashes,
    clashMessage: (category) => `Spans of ${category} cannot overlap: delete or change the existing span first.`,
    labels: entityNames,
    apply: applyEntity,
    rerender: renderEditor,
    renderHint,
  });

  function applyEntity(category) {
    if (!currentUtterance()) return;
    tagger.tag(category, "Select some text of the utterance first, then choose an entity.");
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
              onclick: () => tagger.select(utterance.location),
            },
            h(
              "span",
              { class: "doc-name" },
              h("span", { class: "badge intent" }, utterance.intent),
              stateBadge(utterance),
              utterance.entities.length ? h("span", { class: "badge" }, `${utterance.entities.length} ${utterance.entities.length === 1 ? "entity" : "entities"}`) : null,
              utterance.dataset ? h("span", { class: `badge ${utterance.dataset.toLowerCase()}` }, utterance.dataset) : null,
            ),
            h("span", { class: "doc-snippet" }, utterance.text),
          ),
        ),
      );
    }
    followCurrent(list);
  }

  // -- rendering: editor ------------------------------------------------------------------------
  function renderEditor() {
    const utterance = tagger.prepare();
    if (!utterance) {
      editor.replaceChildren(h("div", { class: "card" }, h("p", { class: "muted" }, "Choose an utterance on the left, or add one.")));
      return;
    }
    const position = state.utterances.findIndex((item) => item.location === utterance.location);
    const labels = entityNames();

    const [previous, next] = tagger.stepButtons("utterance");
    const editButton = h("button", { type: "button", class: "secondary small", id: "edit-text" }, "Edit text");
    editButton.addEventListener("click", () => {
      const text = window.prompt("The utterance's text (its entity spans are cleared):", utterance.text);
      if (text !== null && text !== utterance.text) change(utterance.location, { text });
    });
    const deleteButton = h("button", { type: "button", class: "danger small", id: "delete-document", "data-needs": "author" }, "Delete");
    deleteButton.addEventListener("click", () =>
      busy(deleteButton, async () => {
        if (!window.confirm(`Delete the utterance “${utterance.text}”?`)) return;
        await request("DELETE", documentPath(projectName, utterance.location), { signal });
        undoable.forget(utterance.location);
        showMessage("Deleted the utterance.", "success");
        state.current = null;
        await refresh();
      }),
    );

    const intentSelect = select(intentNames().map((name) => [name, name]), {
      id: "intent-select",
      value: utterance.intent,
      onchange: (event) => change(utterance.location, { intent: event.target.value }),
    });

    const textView = h("div", {
      class: "doc-text utterance-text",
      id: "doc-text",
      tabindex: "0",
      role: "document",
      "aria-label": "Utterance text. Select text, then press 1 to 9 to tag it.",
      lang: utterance.language || project.language,
    });
    renderMarked(textView, utterance.text, tagger.marks(labels));
    tagger.watch(textView);

    const bar = h("div", { class: "label-bar", role: "group", "aria-label": "Entities" });
    if (!labels.length) bar.append(h("span", { class: "muted" }, "No entities yet: add some under Entities."));
    bar.append(...labelButtons(labels, applyEntity));

    replaceKeepingFocus(
      editor,
      h(
        "div",
        { class: "card" },
        h(
          "div",
          { class: "page-head" },
          h("h2", { id: "doc-title" }, `Utterance ${position + 1} of ${state.utterances.length}`),
          stateBadge(utterance),
          ownBadge(own, utterance),
          h("span", { class: "muted small", id: "save-status", "aria-live": "polite" }),
          h("span", { class: "head-actions" }, ...undoable.controls(), previous, next, editButton, deleteButton),
        ),
        h("div", { class: "row" }, field("Intent", intentSelect)),
        bar,
        h("p", { class: "selection-hint", id: "selection-hint", "aria-live": "polite" }),
        textView,
        tagger.table(labels, { summary: "Entities", empty: "No entities labelled.", note: "Offsets and lengths count Unicode code points; exports count UTF-16 code units, as Azure's files do." }),
        datasetChoice(utterance.dataset, (dataset) => change(utterance.location, { dataset }), "utterances"),
        reviewPanel(projectName, utterance, {
          signal,
          onReviewed: (updated) => {
            replaceUtterance(updated);
            renderList();
            renderEditor();
          },
          own,
          onOwnToggled: () => {
            state.selectedSpan = null;
            renderEditor();
          },
        }),
        historyPanel(projectName, utterance.location, { signal }),
      ),
    );
    renderHint();
  }

  function renderHint() {
    const hint = editor.querySelector("#selection-hint");
    if (!hint || !currentUtterance()) return;
    hint.textContent = tagger.hint();
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
    const form = h("form", { class: "row", "data-needs": "author" }, field(`New ${what}`, input), h("div", { class: "field" }, button));
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

  // Rename an intent or entity everywhere in one request (the server's, atomic: utterances,
  // annotators' versions, an entity's definition); another's name merges the two.
  async function renameLabel(path, from, to) {
    const body = await sendJson("POST", labelingPath(projectName, `${path}/${encodeURIComponent(from)}:rename`), { newName: to }, { signal });
    own.forget();
    if (state.openComponents.delete(from)) state.openComponents.add(to);
    takeLabels(body);
    await loadUtterances();
    renderAll();
    return body;
  }

  function labelActions(what, name, path) {
    const rename = h("button", { type: "button", class: "secondary small", "aria-label": `Rename ${what} ${name}`, title: `Rename (another ${what}'s name merges the two)` }, "Rename");
    // The rename is a change being saved: an undo asked for meanwhile waits for it.
    rename.addEventListener("click", () =>
      busy(rename, () => undoable.saving(renameAndRecord())),
    );
    async function renameAndRecord() {
      const wanted = window.prompt(`Rename ${what} “${name}” to (the name of another ${what} merges the two):`, name);
      const to = wanted === null ? "" : wanted.trim();
      if (!to || to === name) return;
      const labels = what === "intent" ? state.intents : state.entities;
      const merging = labels.some((label) => label.category === to);
      if (merging) {
        const count = labels.find((label) => label.category === name)?.utteranceCount || 0;
        const components = what === "entity" ? ` Its list, prebuilt and regex components join ${to}'s.` : "";
        if (!window.confirm(`Merge ${what} “${name}” into “${to}”? Every ${name} becomes ${to} in ${count} utterance(s).${components} A merge cannot be undone.`)) return;
      }
      const body = await renameLabel(path, name, to);
      showMessage(`${merging ? "Merged" : "Renamed"} ${what} “${name}” → “${to}” in ${body.changedUtterances} utterance(s).`, "success");
      // Earlier steps name a label a merge removed; a plain rename is undone by renaming back
      // (undoing the steps before it needs the old name, which undoing it restores).
      if (merging) undoable.forget();
      else undoable.record({ location: null, what: `renaming ${what} ${name} to ${to}`, undo: () => renameLabel(path, to, name).then(Boolean), redo: () => renameLabel(path, name, to).then(Boolean) });
    }
    const remove = h("button", { type: "button", class: "danger small", "aria-label": `Remove ${what} ${name}` }, "Remove");
    remove.addEventListener("click", () => busy(remove, () => changeLabels("DELETE", `${path}/${encodeURIComponent(name)}`)));
    return h("span", { class: "actions", "data-needs": "author" }, rename, remove);
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
    parts.push(h("details", { "data-needs": "author" }, h("summary", { class: "small" }, "Edit list synonyms"), textArea, h("p", { class: "hint" }, "One item a line: key: synonym, synonym"), saveButton));
    return parts;
  }

  function renderEntitiesCard() {
    const labels = entityNames();
    const rows = state.entities.map((entity, index) =>
      h(
        "li",
        { dataset: { entity: entity.category }, class: "entity-definition" },
        h("div", {},
          labelBadge(labels, entity.category, index),
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

  // -- loading again -----------------------------------------------------------------------------
  async function refresh() {
    await loadUtterances();
    state.current = stillListed(state.utterances, state.current);
    renderAll();
    showAddress(projectName, state.current);
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
  for (const filter of [intentFilter, datasetFilter, review.status, review.annotator]) filter.addEventListener("change", () => refresh().catch(showError));

  // -- first render -------------------------------------------------------------------------------
  await Promise.all([loadLabels(), loadUtterances()]);
  if (!context.alive()) return null;
  // The address may name the utterance to open (#/p/{project}/label/{location}).
  state.current = stillListed(state.utterances, context.extra);
  container.replaceChildren(
    h("div", { class: "page-head" }, h("h1", {}, "Labeling"), h("span", { class: "muted" }, "Pick each utterance's intent · select text and press 1–9 to tag entities · n / p: next / previous")),
    h(
      "div",
      { class: "labeling" },
      h("aside", { class: "doc-list card", "aria-label": "Utterance list" },
        h("div", { class: "filters" }, field("Status", review.status), field("Intent", intentFilter), h("div", { class: "filter-pair" }, field("Dataset", datasetFilter), field("Annotator", review.annotator))),
        countsLine,
        addForm,
        list,
      ),
      h("div", { class: "editor-grid" }, editor, h("div", {}, intentsCard, entitiesCard)),
    ),
  );
  renderAll();
  showAddress(projectName, state.current);
  const stopTagging = tagger.listen();
  const stopUndo = undoable.listen();
  return () => {
    stopTagging();
    stopUndo();
  };
}
