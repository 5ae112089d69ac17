// Labeling: the doc list (status, Train/Test, search, filters by label and by model
// disagreement, "label next" by model uncertainty, bulk Train/Test assignment), span tagging by
// selection and keyboard (word snapping, retag by re-selecting, resize by dragging an edge),
// class assignment, Train/Test assignment, adding documents, the label list (rename and
// merge), suggestions from a deployed model (accept those above a confidence), and undo/redo of
// every change (js/undo.js). Each document has its own address, #/p/{project}/label/{location}.
// Review (js/review.js): each document's state, filters by state and annotator, Accept / Send
// back; a document in the double-annotation sample is labeled as the user's own version (PUT
// …/annotations/mine) unless they switch to the resolved labels.

import {
  analyze,
  projectPath,
  documentPath,
  getJson,
  isNer,
  labelingPath,
  listAll,
  listPages,
  request,
  sendJson,
  versionQuery,
} from "../api.js";
import {
  datasetChoice,
  followCurrent,
  labelBadge,
  labelButtons,
  replaceItem,
  showAddress as showItemAddress,
  spanList,
  spanTagger,
  stillListed,
} from "../tagging.js";
import { historyPanel } from "../history.js";
import { ownBadge, ownVersions, reviewFilters, reviewPanel, stateBadge } from "../review.js";
import { colourClass, renderMarked } from "../text.js";
import { busy, field, fill, h, replaceKeepingFocus, score, select, showError, showMessage, uid } from "../ui.js";
import { stateOf, undoHistory } from "../undo.js";

// The confidence above which "Accept above" takes a suggestion, until the user changes it.
const DEFAULT_THRESHOLD = 0.8;

export async function labelingPage(container, context) {
  const { project, signal } = context;
  const ner = isNer(project);
  const multi = project.projectKind === "CustomMultiLabelClassification";
  const labelWord = ner ? "entity" : "class";

  const state = {
    labels: [],
    usage: new Map(),
    documents: [],
    counts: null,
    current: null, // location
    index: null, // TextIndex of the current doc
    pending: null, // [start, end) UTF-16, snapped
    selectedSpan: null, // index into current.entities
    suggestions: [], // current doc's suggestions
    predictions: new Map(), // location → analyze result (entities or classes)
    confidence: new Map(), // location → lowest confidence
    deployments: [],
    deployment: "",
    order: "document",
    saving: Promise.resolve(),
    checked: new Set(), // locations ticked for a bulk dataset assignment
    threshold: DEFAULT_THRESHOLD,
  };
  // Double annotation: a sampled document shows and saves my own version (js/review.js).
  const own = ownVersions({
    projectName: project.projectName,
    signal,
    empty: ner ? { entities: [] } : { classes: [] },
    items: () => state.documents,
    changed: (location) => {
      if (state.current === location) renderEditor({ keepSuggestions: true });
    },
  });

  // -- elements -------------------------------------------------------------------------------
  // Status (labeled or not, or a review state) and annotator.
  const review = reviewFilters();
  const datasetFilter = select([["", "Any"], ["Train", "Train"], ["Test", "Test"], ["none", "Unassigned"]], { id: "filter-dataset" });
  const orderSelect = select([["document", "Document order"], ["uncertainty", "Least confident first"]], { id: "order", title: "By the deployment under Model assistance" });
  const searchInput = h("input", { type: "search", id: "filter-search", autocomplete: "off", placeholder: "Text or name" });
  const labelFilter = select([], { id: "filter-label" });
  const disagreeFilter = h("input", { type: "checkbox", id: "filter-disagree" });
  const selectAll = h("input", { type: "checkbox", id: "select-all", "aria-label": "Select every listed document" });
  const bulkCount = h("span", { class: "muted small", id: "bulk-count" });
  const bulkButtons = [["Train", "Train"], ["Test", "Test"], ["", "Unassigned"]].map(([dataset, text]) =>
    h("button", { type: "button", class: "secondary small", id: `bulk-${(dataset || "none").toLowerCase()}`, disabled: true, onclick: (event) => busy(event.currentTarget, () => undoable.saving(assignChecked(dataset || null))) }, `→ ${text}`),
  );
  const countsLine = h("p", { class: "counts", id: "doc-counts" });
  const list = h("ul", { id: "doc-list", "aria-label": "Documents" });
  const addButton = h("button", { type: "button", id: "add-documents" }, "Add documents");
  const labelNextButton = h("button", { type: "button", class: "secondary", id: "label-next", title: "The next unlabeled document in this order (key n)" }, "Label next");

  const editor = h("div", { class: "doc-editor" });
  const labelsCard = h("div", { class: "card side-panel", id: "labels-card" });
  const assistCard = h("div", { class: "card side-panel", id: "assist-card" });

  // -- data -----------------------------------------------------------------------------------
  async function loadLabels() {
    const body = await getJson(labelingPath(project.projectName, "/labels"), { signal });
    state.labels = body.labels.map((label) => label.category);
    state.usage = new Map(body.labels.map((label) => [label.category, label.documentCount]));
  }

  async function loadDocuments() {
    const query = review.query();
    if (datasetFilter.value) query.dataset = datasetFilter.value;
    const pages = await listPages(labelingPath(project.projectName, "/documents"), { query, signal });
    state.documents = pages.flatMap((page) => page.value);
    review.note(state.documents);
    state.counts = pages[0].counts;
    if (state.order === "uncertainty") await scoreDocuments();
    sortDocuments();
  }

  async function loadDeployments() {
    const deployments = await listAll(projectPath(project, "/deployments"), { query: versionQuery, signal });
    state.deployments = deployments.map((deployment) => deployment.deploymentName);
    if (!state.deployments.includes(state.deployment)) state.deployment = state.deployments[0] || "";
  }

  function currentDocument() {
    return own.viewOf(state.documents.find((doc) => doc.location === state.current) || null);
  }

  // A label change of a sampled document goes to my own version, one save after another.
  function saveOwn(location, body) {
    state.saving = own.saveAfter(state.saving, location, body, () => editor.querySelector("#save-status"));
    return state.saving;
  }

  // The documents the list shows: the server's (status and dataset filters) narrowed here by
  // the search, the label and the model's disagreement.
  function visible() {
    const words = searchInput.value.trim().toLowerCase();
    const label = labelFilter.value;
    return state.documents.filter(
      (doc) =>
        (!words || doc.location.toLowerCase().includes(words) || doc.text.toLowerCase().includes(words)) &&
        (!label || (ner ? doc.entities.some((entity) => entity.category === label) : doc.classes.some((item) => item.category === label))) &&
        (!disagreeFilter.checked || disagrees(doc)),
    );
  }

  // Whether the chosen deployment's prediction differs from a labeled document's labels.
  function disagrees(doc) {
    const result = state.predictions.get(`${state.deployment}\u0000${doc.location}`);
    if (!doc.labeled || !result) return false;
    const keys = ner
      ? [doc.entities.map((e) => `${e.offset}:${e.length}:${e.category}`), result.map((e) => `${e.offset}:${e.length}:${e.category}`)]
      : [doc.classes.map((item) => item.category), result.map((item) => item.category)];
    const [labeled, predicted] = keys.map((list) => new Set(list));
    return labeled.size !== predicted.size || [...labeled].some((key) => !predicted.has(key));
  }

  function showAddress() {
    if (context.alive()) showItemAddress(project.projectName, state.current);
  }

  function replaceDocument(updated) {
    replaceItem(state.documents, state.counts, updated);
  }

  function sortDocuments() {
    if (state.order !== "uncertainty") return;
    const value = (doc) => (state.confidence.has(doc.location) ? state.confidence.get(doc.location) : 2);
    state.documents.sort((a, b) => value(a) - value(b));
  }

  // -- predictions ------------------------------------------------------------------------------
  function documentConfidence(result) {
    if (ner) {
      // No entity found: the model sees nothing to tag, which it is sure about.
      if (!result.length) return 1;
      return Math.min(...result.map((entity) => entity.confidenceScore));
    }
    if (!result.length) return 0; // no class passed the threshold: the model cannot decide
    return multi
      ? Math.min(...result.map((item) => item.confidenceScore))
      : Math.max(...result.map((item) => item.confidenceScore));
  }

  async function predict(documents) {
    if (!state.deployment) throw new Error("Deploy a model first (Deployments page), then choose it here.");
    const missing = documents.filter((doc) => !state.predictions.has(`${state.deployment}\u0000${doc.location}`));
    if (!missing.length) return;
    const progress = assistCard.querySelector("#assist-progress");
    const { results } = await analyze(project, state.deployment, missing.map((doc) => doc.text), {
      signal,
      onProgress: (done, total) => {
        if (progress) progress.textContent = `Scored ${done} of ${total} documents…`;
      },
    });
    missing.forEach((doc, index) => {
      const result = results.get(index) || [];
      state.predictions.set(`${state.deployment}\u0000${doc.location}`, result);
      state.confidence.set(doc.location, documentConfidence(result));
    });
    if (progress) progress.textContent = "";
  }

  async function scoreDocuments() {
    if (!state.deployment) {
      showMessage("Choose a deployment under Model assistance to order by uncertainty.", "error");
      orderSelect.value = "document";
      state.order = "document";
      return;
    }
    await predict(state.documents);
  }

  // -- saving -----------------------------------------------------------------------------------
  // Changes are sent one after another so a slow answer never overwrites a newer change.
  function save(location, body) {
    const raw = state.documents.find((item) => item.location === location);
    if (own.takes(raw, body)) return saveOwn(location, body);
    const saveStatus = editor.querySelector("#save-status");
    if (saveStatus) saveStatus.textContent = "Saving…";
    state.saving = state.saving
      .then(async () => {
        const updated = await sendJson("PATCH", documentPath(project.projectName, location), body, { signal });
        replaceDocument(updated);
        renderList();
        if (state.current === location) renderEditor({ keepSuggestions: true });
        const status = editor.querySelector("#save-status");
        if (status) status.textContent = "Saved";
        await loadLabels();
        renderLabelsCard();
        return true;
      })
      .catch(async (error) => {
        showError(error);
        const status = editor.querySelector("#save-status");
        if (status) status.textContent = "Not saved";
        try {
          replaceDocument(await getJson(documentPath(project.projectName, location), { signal }));
          if (state.current === location) renderEditor({ keepSuggestions: true });
        } catch (reloadError) {
          showError(reloadError);
        }
        return false;
      });
    return state.saving;
  }

  // A labeling change of one document: saved, then undoable (undo saves its state before).
  function change(location, body) {
    const doc = own.viewOf(state.documents.find((item) => item.location === location));
    const before = doc ? stateOf(doc, body) : null;
    const what = `${"dataset" in body ? "the dataset" : ner ? "the spans" : "the classes"} of ${location}`;
    return undoable.saving(
      save(location, body).then((ok) => {
        if (ok && before) undoable.record({ location, what, undo: () => save(location, before), redo: () => save(location, body) });
        return ok;
      }),
    );
  }

  const undoable = undoHistory({
    current: () => state.current,
    open: async (location) => {
      if (visible().some((doc) => doc.location === location)) tagger.select(location);
    },
  });

  // -- bulk dataset assignment ------------------------------------------------------------------
  async function assignDataset(locations, dataset) {
    const body = await sendJson("POST", labelingPath(project.projectName, "/documents:assign-dataset"), { locations, dataset }, { signal });
    const moved = new Set(body.changed);
    state.documents = state.documents.map((doc) => (moved.has(doc.location) ? { ...doc, dataset: body.dataset } : doc));
    state.counts = body.counts;
    if (datasetFilter.value) await loadDocuments(); // moved documents may leave the list
    state.current = stillListed(visible(), state.current);
    renderList();
    renderEditor({ keepSuggestions: true });
    return true;
  }

  // The ticked documents into one dataset, in one request; undone by putting each back.
  async function assignChecked(dataset) {
    const locations = [...state.checked];
    if (!locations.length) return;
    const before = new Map(state.documents.filter((doc) => state.checked.has(doc.location)).map((doc) => [doc.location, doc.dataset || null]));
    await assignDataset(locations, dataset);
    showMessage(`${locations.length} document${locations.length === 1 ? "" : "s"} → ${dataset || "unassigned"}.`, "success");
    state.checked.clear();
    renderList();
    undoable.record({
      location: null,
      what: `the dataset of ${locations.length} document(s)`,
      undo: async () => {
        const groups = new Map();
        for (const [location, previous] of before) groups.set(previous, [...(groups.get(previous) || []), location]);
        for (const [previous, group] of groups) await assignDataset(group, previous);
        return true;
      },
      redo: () => assignDataset(locations, dataset),
    });
  }

  // A custom NER document's spans may not overlap at all.
  function overlaps(entities, candidate) {
    return entities.some(
      (entity) => candidate.offset < entity.offset + entity.length && entity.offset < candidate.offset + candidate.length,
    );
  }

  const tagger = spanTagger({
    state,
    editor,
    items: visible,
    current: currentDocument,
    show: () => {
      renderList();
      renderEditor();
      showAddress();
    },
    save: change,
    clashes: overlaps,
    clashMessage: () => "Spans cannot overlap: delete or change the existing span first.",
    labels: () => state.labels,
    apply: applyLabel,
    rerender: () => renderEditor({ keepSuggestions: true }),
    renderHint,
    selecting: () => ner,
  });

  function setClasses(classes) {
    const doc = currentDocument();
    return change(doc.location, { classes });
  }

  function toggleClass(category) {
    const doc = currentDocument();
    const current = doc.classes.map((item) => item.category);
    if (!multi) return setClasses(current[0] === category ? [] : [category]);
    return setClasses(current.includes(category) ? current.filter((item) => item !== category) : [...current, category]);
  }

  function applyLabel(category) {
    if (!currentDocument()) return;
    if (!ner) {
      toggleClass(category);
      return;
    }
    tagger.tag(category, `Select some text first, then choose an ${labelWord}.`);
  }

  // -- rendering: list ----------------------------------------------------------------------------
  function renderCounts() {
    const counts = state.counts;
    if (!counts) return;
    countsLine.textContent = `${counts.total} documents · ${counts.labeled} labeled · ${counts.unlabeled} unlabeled · Train ${counts.train} · Test ${counts.test} · unassigned ${counts.unassigned}`;
  }

  function renderList() {
    renderCounts();
    list.replaceChildren();
    const shown = visible();
    for (const location of state.checked) {
      if (!shown.some((doc) => doc.location === location)) state.checked.delete(location);
    }
    selectAll.checked = shown.length > 0 && state.checked.size === shown.length;
    bulkCount.textContent = state.checked.size ? `${state.checked.size} selected` : "Tick documents to move them";
    for (const button of bulkButtons) button.disabled = !state.checked.size;
    if (!shown.length) {
      list.append(h("li", { class: "empty" }, " No documents match. Add some, or change the filters."));
      return;
    }
    for (const doc of shown) {
      const confidence = state.confidence.get(doc.location);
      const tick = h("input", {
        type: "checkbox",
        class: "doc-check",
        checked: state.checked.has(doc.location),
        "aria-label": `Select ${doc.location}`,
        onchange: (event) => {
          if (event.target.checked) state.checked.add(doc.location);
          else state.checked.delete(doc.location);
          renderList();
        },
      });
      const item = h(
        "button",
        {
          type: "button",
          class: "doc-item",
          "aria-current": doc.location === state.current ? "true" : "false",
          dataset: { location: doc.location },
          onclick: () => tagger.select(doc.location),
        },
        h(
          "span",
          { class: "doc-name" },
          h("span", { class: "location", title: doc.location }, doc.location),
          stateBadge(doc),
          doc.dataset ? h("span", { class: `badge ${doc.dataset.toLowerCase()}` }, doc.dataset) : null,
          confidence !== undefined && state.order === "uncertainty"
            ? h("span", { class: "badge", title: "Lowest model confidence" }, `conf ${score(confidence)}`)
            : null,
        ),
        ner || !doc.classes.length
          ? null
          : h("span", { class: "doc-classes" }, doc.classes.map((item) => h("span", { class: `badge ${colourClass(state.labels, item.category)}`, dataset: { category: item.category } }, item.category))),
        h("span", { class: "doc-snippet" }, doc.text.slice(0, 120)),
      );
      list.append(h("li", {}, tick, item));
    }
    followCurrent(list);
  }

  // The label filter's options follow the label list.
  function renderLabelFilter() {
    const chosen = labelFilter.value;
    fill(labelFilter, h("option", { value: "" }, ner ? "Any entity" : "Any class"), state.labels.map((label) => h("option", { value: label }, label)));
    labelFilter.value = state.labels.includes(chosen) ? chosen : "";
  }

  // -- rendering: editor --------------------------------------------------------------------------
  function renderEditor({ keepSuggestions = false } = {}) {
    const doc = tagger.prepare();
    if (!keepSuggestions) state.suggestions = [];
    if (!doc) {
      editor.replaceChildren(h("div", { class: "card" }, h("p", { class: "muted" }, "Choose a document on the left, or add documents.")));
      return;
    }
    const [previous, next] = tagger.stepButtons("document");
    const deleteButton = h("button", { type: "button", class: "danger small", id: "delete-document", "data-needs": "author" }, "Delete document");
    deleteButton.addEventListener("click", () =>
      busy(deleteButton, async () => {
        if (!window.confirm(`Delete ${doc.location} from the project?`)) return;
        await request("DELETE", documentPath(project.projectName, doc.location), { signal });
        undoable.forget(doc.location); // deleting cannot be undone; neither can its changes
        showMessage(`Deleted ${doc.location}.`, "success");
        state.current = null;
        await refresh();
      }),
    );

    const textView = h("div", {
      class: "doc-text",
      id: "doc-text",
      tabindex: "0",
      role: "document",
      "aria-label": `Text of ${doc.location}${ner ? ". Select text, then press 1 to 9 to tag it." : ""}`,
      lang: doc.language || project.language,
    });
    const marks = [];
    if (ner) {
      marks.push(...tagger.marks(state.labels));
      state.suggestions.forEach((suggestion, index) => {
        if (overlaps(doc.entities, suggestion)) return;
        const [start, end] = state.index.spanToUtf16(suggestion.offset, suggestion.length);
        marks.push({
          start,
          end,
          id: `g${index}`,
          classes: ["suggestion", colourClass(state.labels, suggestion.category)],
          tag: `${suggestion.category}? ${score(suggestion.confidenceScore)}`,
          title: `Suggested ${suggestion.category} (${score(suggestion.confidenceScore)})`,
        });
      });
    }
    renderMarked(textView, doc.text, marks);
    tagger.watch(textView);

    const hint = h("p", { class: "selection-hint", id: "selection-hint", "aria-live": "polite" });
    const children = [
      h(
        "div",
        { class: "page-head" },
        h("h2", { id: "doc-title" }, doc.location),
        stateBadge(doc),
        ownBadge(own, doc),
        h("span", { class: "muted small", id: "save-status", "aria-live": "polite" }),
        h("span", { class: "head-actions" }, ...undoable.controls(), previous, next, deleteButton),
      ),
      renderLabelBar(doc),
      hint,
      textView,
    ];
    if (ner) {
      children.push(
        tagger.table(state.labels, { summary: "Spans", empty: "No spans yet.", note: "Offsets and lengths count Unicode code points, as the labeling API stores them." }),
        renderTagByText(),
      );
    }
    children.push(datasetChoice(doc.dataset, (dataset) => change(doc.location, { dataset }), "documents"));
    if (doc.state) {
      children.push(
        reviewPanel(project.projectName, doc, {
          signal,
          onReviewed: (updated) => {
            replaceDocument(updated);
            renderList();
            renderEditor({ keepSuggestions: true });
          },
          own,
          onOwnToggled: () => {
            state.selectedSpan = null;
            renderEditor({ keepSuggestions: true });
          },
        }),
      );
    }
    children.push(historyPanel(project.projectName, doc.location, { signal, text: doc.text }));
    replaceKeepingFocus(editor, h("div", { class: "card" }, ...children));
    renderHint();
    renderAssistCard();
  }

  function renderHint() {
    const hint = editor.querySelector("#selection-hint");
    if (!hint) return;
    if (!ner) {
      hint.textContent = multi
        ? "Press 1–9 or tick the classes that apply."
        : "Press 1–9 or choose the document's class.";
      return;
    }
    hint.textContent = tagger.hint();
  }

  function renderLabelBar(doc) {
    const bar = h("div", { class: "label-bar", role: "group", "aria-label": ner ? "Entities" : "Classes" });
    if (!state.labels.length) {
      bar.append(h("span", { class: "muted" }, `No ${ner ? "entities" : "classes"} yet: add some under Labels.`));
      return bar;
    }
    if (ner) {
      bar.append(...labelButtons(state.labels, applyLabel));
      return bar;
    }
    const chosen = doc.classes.map((item) => item.category);
    const name = uid("class");
    state.labels.forEach((label, index) => {
      const input = h("input", {
        type: multi ? "checkbox" : "radio",
        name,
        value: label,
        checked: chosen.includes(label),
        onchange: () => (multi ? toggleClass(label) : setClasses([label])),
      });
      bar.append(h("label", { class: `choice class-choice ${colourClass(state.labels, label)}`, dataset: { label } }, input, index < 9 ? h("kbd", {}, String(index + 1)) : null, label));
    });
    if (!multi && chosen.length) {
      bar.append(h("button", { type: "button", class: "secondary small", onclick: () => setClasses([]) }, "Clear class"));
    }
    return bar;
  }

  // A keyboard-only way to tag: type the text to tag and pick its entity.
  function renderTagByText() {
    const textInput = h("input", { type: "text", id: "tag-text", autocomplete: "off" });
    const labelSelect = select(state.labels.map((label) => [label, label]), { id: "tag-label" });
    const button = h("button", { type: "submit", class: "secondary" }, "Tag");
    const form = h("form", { class: "row", "aria-label": "Tag text by typing it" }, field("Text to tag", textInput, "first untagged occurrence"), field("Entity", labelSelect), h("div", { class: "field" }, button));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const doc = currentDocument();
      const wanted = textInput.value;
      if (!wanted) return;
      let from = 0;
      for (;;) {
        const start = doc.text.indexOf(wanted, from);
        if (start < 0) {
          showMessage(`“${wanted}” is not in the document outside existing spans.`, "error");
          return;
        }
        const snapped = state.index.snap(start, start + wanted.length);
        if (snapped && !overlaps(doc.entities, state.index.spanToCodePoints(...snapped))) {
          tagger.addSpan(labelSelect.value, ...snapped);
          textInput.value = "";
          return;
        }
        from = start + 1;
      }
    });
    return h("details", {}, h("summary", {}, "Tag by typing"), form);
  }

  // -- side panels --------------------------------------------------------------------------------
  function renderLabelsCard() {
    const rows = state.labels.map((label, index) =>
      h(
        "li",
        {},
        labelBadge(state.labels, label, index),
        h("span", { class: "muted small" }, ` ${state.usage.get(label) || 0} ${(state.usage.get(label) || 0) === 1 ? "doc" : "docs"} `),
        h("button", {
          type: "button",
          class: "secondary small",
          "data-needs": "author",
          "aria-label": `Rename ${labelWord} ${label}`,
          title: `Rename (another ${labelWord}'s name merges the two)`,
          onclick: (event) => busy(event.currentTarget, () => undoable.saving(askRename(label))),
        }, "Rename"),
        h("button", {
          type: "button",
          class: "danger small",
          "data-needs": "author",
          "aria-label": `Remove ${labelWord} ${label}`,
          onclick: (event) =>
            busy(event.currentTarget, async () => {
              await setLabels(state.labels.filter((item) => item !== label));
            }),
        }, "Remove"),
      ),
    );
    const input = h("input", { type: "text", id: "new-label", autocomplete: "off" });
    const form = h("form", { class: "row", "data-needs": "author" }, field(`New ${labelWord}`, input), h("div", { class: "field" }, h("button", { type: "submit", class: "secondary" }, "Add")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const label = input.value.trim();
      if (!label) return;
      busy(form.querySelector("button"), async () => {
        await setLabels([...state.labels, label]);
        input.value = "";
      });
    });
    labelsCard.replaceChildren(
      h("h3", {}, ner ? "Entities" : "Classes"),
      h("ul", { class: "suggestion-list", id: "label-list" }, rows),
      form,
    );
  }

  async function putLabels(labels) {
    const body = await sendJson("PUT", labelingPath(project.projectName, "/labels"), { labels }, { signal });
    state.labels = body.labels.map((label) => label.category);
    state.usage = new Map(body.labels.map((label) => [label.category, label.documentCount]));
    renderLabelsCard();
    renderLabelFilter();
    renderEditor({ keepSuggestions: true });
    return true;
  }

  function setLabels(labels) {
    const before = [...state.labels];
    return undoable.saving(
      putLabels(labels).then(() => undoable.record({ location: null, what: `the ${labelWord} list`, undo: () => putLabels(before), redo: () => putLabels(labels) })),
    );
  }

  // Rename a label everywhere in one request (the server's, atomic); a name the project has
  // already merges the two, which cannot be undone.
  async function renameLabel(from, to) {
    const path = labelingPath(project.projectName, `/labels/${encodeURIComponent(from)}:rename`);
    const body = await sendJson("POST", path, { newName: to }, { signal });
    own.forget(); // the annotators' versions were renamed too
    state.labels = body.labels.map((label) => label.category);
    state.usage = new Map(body.labels.map((label) => [label.category, label.documentCount]));
    state.suggestions = [];
    renderLabelsCard();
    renderLabelFilter();
    await refresh();
    return body;
  }

  async function askRename(label) {
    const wanted = window.prompt(`Rename ${labelWord} “${label}” to (the name of another ${labelWord} merges the two):`, label);
    const to = wanted === null ? "" : wanted.trim();
    if (!to || to === label) return;
    const merging = state.labels.includes(to);
    if (merging && !window.confirm(`Merge “${label}” into “${to}”? Every ${label} becomes ${to} in ${state.usage.get(label) || 0} document(s). A merge cannot be undone.`)) return;
    const body = await renameLabel(label, to);
    showMessage(`${merging ? "Merged" : "Renamed"} “${label}” → “${to}” in ${body.changedDocuments} document(s).`, "success");
    if (merging) undoable.forget(); // earlier steps name a label that no longer exists
    else undoable.record({ location: null, what: `renaming ${label} to ${to}`, undo: () => renameLabel(to, label).then(Boolean), redo: () => renameLabel(label, to).then(Boolean) });
  }

  function renderAssistCard() {
    const doc = currentDocument();
    const deploymentSelect = select(
      state.deployments.length ? state.deployments.map((name) => [name, name]) : [["", "No deployments yet"]],
      { id: "assist-deployment", value: state.deployment, disabled: !state.deployments.length },
    );
    deploymentSelect.addEventListener("change", async () => {
      state.deployment = deploymentSelect.value;
      state.confidence.clear();
      state.suggestions = [];
      if (state.order === "uncertainty" || disagreeFilter.checked) await refresh();
      else renderEditor();
    });
    const suggestButton = h("button", { type: "button", id: "suggest", disabled: !state.deployment || !doc }, "Suggest labels");
    suggestButton.addEventListener("click", () =>
      busy(suggestButton, async () => {
        await predict([doc]);
        const result = state.predictions.get(`${state.deployment}\u0000${doc.location}`) || [];
        if (ner) {
          state.suggestions = result
            .filter((entity) => !doc.entities.some((span) => span.offset === entity.offset && span.length === entity.length && span.category === entity.category))
            .map((entity) => ({ category: entity.category, offset: entity.offset, length: entity.length, confidenceScore: entity.confidenceScore, text: entity.text }));
        } else {
          state.suggestions = result.map((item) => ({ category: item.category, confidenceScore: item.confidenceScore }));
        }
        if (!state.suggestions.length) showMessage("The model has nothing to add to this document.");
        renderEditor({ keepSuggestions: true });
      }),
    );

    const items = state.suggestions.map((suggestion, index) => {
      const blocked = ner && overlaps(doc.entities, suggestion);
      const what = ner
        ? `${suggestion.category} “${suggestion.text ?? ""}”`
        : suggestion.category;
      return h(
        "li",
        { dataset: { suggestion: String(index) } },
        h("span", { class: "what" }, h("span", { class: `badge ${colourClass(state.labels, suggestion.category)}` }, score(suggestion.confidenceScore)), " ", what, blocked ? h("span", { class: "hint" }, " (overlaps a span)") : null),
        h("span", { class: "actions" },
          h("button", { type: "button", class: "small", disabled: blocked, "aria-label": `Accept ${what}`, onclick: () => acceptSuggestions([index]) }, "Accept"),
          h("button", { type: "button", class: "secondary small", "aria-label": `Reject ${what}`, onclick: () => rejectSuggestions([index]) }, "Reject"),
        ),
      );
    });
    const all = state.suggestions.map((_, index) => index);
    const above = () => all.filter((index) => state.suggestions[index].confidenceScore >= state.threshold);
    const thresholdInput = h("input", { type: "number", id: "accept-threshold", min: "0", max: "1", step: "0.05", value: String(state.threshold) });
    const acceptAbove = h("button", { type: "button", id: "accept-above", onclick: () => acceptSuggestions(above()) });
    const countAbove = () => {
      acceptAbove.textContent = `Accept ≥ ${state.threshold} (${above().length})`;
      acceptAbove.disabled = !above().length;
    };
    thresholdInput.addEventListener("input", () => {
      const value = Number(thresholdInput.value);
      if (thresholdInput.value !== "" && value >= 0 && value <= 1) state.threshold = value;
      countAbove();
    });
    countAbove();
    // The bulk actions come first: a long document's suggestions scroll under them.
    fill(
      assistCard,
      h("h3", {}, "Model assistance"),
      field("Deployment", deploymentSelect),
      h("div", { class: "row" }, suggestButton),
      h("p", { class: "hint", id: "assist-progress", "aria-live": "polite" }),
      state.suggestions.length
        ? h("div", {},
          h("div", { class: "bulk-accept" },
            field("Confidence at least", thresholdInput),
            acceptAbove,
            h("button", { type: "button", class: "secondary", id: "accept-all", onclick: () => acceptSuggestions(all) }, `Accept all (${all.length})`),
            h("button", { type: "button", class: "secondary", id: "reject-all", onclick: () => rejectSuggestions(all) }, "Reject all"),
          ),
          h("ul", { class: "suggestion-list scrolling", id: "suggestions" }, items))
        : null,
    );
  }

  function acceptSuggestions(indexes) {
    const doc = currentDocument();
    if (!indexes.length) return null;
    const chosen = indexes.map((index) => state.suggestions[index]).filter(Boolean);
    state.suggestions = state.suggestions.filter((_, index) => !indexes.includes(index));
    if (!ner) {
      const categories = chosen.map((item) => item.category);
      const current = doc.classes.map((item) => item.category);
      return setClasses(multi ? [...new Set([...current, ...categories])] : categories.slice(0, 1));
    }
    const entities = spanList(doc.entities);
    let skipped = 0;
    for (const suggestion of [...chosen].sort((a, b) => b.confidenceScore - a.confidenceScore)) {
      const candidate = { category: suggestion.category, offset: suggestion.offset, length: suggestion.length };
      if (overlaps(entities, candidate)) skipped += 1;
      else entities.push(candidate);
    }
    if (skipped) showMessage(`${skipped} suggestion(s) overlapped a span and were left out.`);
    return change(doc.location, { entities });
  }

  function rejectSuggestions(indexes) {
    state.suggestions = state.suggestions.filter((_, index) => !indexes.includes(index));
    renderEditor({ keepSuggestions: true });
  }

  // -- moving between documents ------------------------------------------------------------------
  function labelNext() {
    const shown = visible();
    const position = shown.findIndex((doc) => doc.location === state.current);
    const ordered = [...shown.slice(position + 1), ...shown.slice(0, Math.max(position, 0))];
    const target = ordered.find((doc) => !doc.labeled);
    if (target) tagger.select(target.location);
    else showMessage("Every document in this list is labeled.");
  }

  async function refresh() {
    await loadDocuments();
    if (disagreeFilter.checked) await predict(state.documents);
    showList();
  }

  // The list again after a filter changed; the editor follows when the document shown left it.
  function showList() {
    const before = state.current;
    state.current = stillListed(visible(), state.current);
    renderList();
    if (state.current === before) return;
    state.pending = null;
    state.selectedSpan = null;
    renderEditor();
    showAddress();
  }

  // -- add documents ------------------------------------------------------------------------------
  const addDialog = buildAddDialog();

  function buildAddDialog() {
    const textArea = h("textarea", { id: "add-text", rows: 8 });
    const splitLines = h("input", { type: "checkbox", id: "add-split-lines" });
    const files = h("input", { type: "file", id: "add-files", accept: ".txt,text/plain", multiple: true });
    const language = h("input", { type: "text", id: "add-language", value: project.language });
    const dataset = select([["", "Unassigned"], ["Train", "Train"], ["Test", "Test"]], { id: "add-dataset" });
    const submit = h("button", { type: "submit", id: "add-submit" }, "Add");
    const cancel = h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, "Cancel");
    const form = h(
      "form",
      { method: "dialog" },
      h("h2", {}, "Add documents"),
      field("Paste text", textArea),
      h("div", { class: "field inline" }, splitLines, h("label", { for: "add-split-lines" }, "One document per line")),
      field("Or upload .txt files", files, "each file is one document, named after the file"),
      h("div", { class: "row" }, field("Language", language), field("Dataset", dataset)),
      h("div", { class: "dialog-actions" }, cancel, submit),
    );
    const dialog = h("dialog", { id: "add-dialog", "aria-label": "Add documents" }, form);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(submit, async () => {
        const items = [];
        const pasted = textArea.value;
        if (pasted.trim()) {
          const texts = splitLines.checked ? pasted.split(/\r?\n/).filter((line) => line.trim()) : [pasted];
          for (const text of texts) items.push({ text });
        }
        for (const file of files.files) {
          items.push({ text: await file.text(), location: file.name });
        }
        if (!items.length) throw new Error("Paste some text or choose .txt files.");
        let firstAdded = null;
        let added = 0;
        for (const item of items) {
          const body = { ...item, language: language.value.trim() || undefined, dataset: dataset.value || undefined };
          const doc = await sendJson("POST", labelingPath(project.projectName, "/documents"), body, { signal });
          firstAdded = firstAdded || doc.location;
          added += 1;
        }
        showMessage(`Added ${added} document${added === 1 ? "" : "s"}.`, "success");
        form.reset();
        language.value = project.language;
        dialog.close();
        await refresh();
        if (firstAdded) tagger.select(firstAdded);
      });
    });
    return dialog;
  }

  addButton.addEventListener("click", () => addDialog.showModal());
  labelNextButton.addEventListener("click", labelNext);
  for (const filter of [review.status, datasetFilter, review.annotator]) {
    filter.addEventListener("change", () => refresh().catch(showError));
  }
  searchInput.addEventListener("input", showList);
  labelFilter.addEventListener("change", showList);
  disagreeFilter.addEventListener("change", () => {
    if (disagreeFilter.checked && !state.deployment) {
      disagreeFilter.checked = false;
      showMessage("Choose a deployment under Model assistance to find where it disagrees with the labels.", "error");
      return;
    }
    busy(disagreeFilter, async () => {
      if (disagreeFilter.checked) await predict(state.documents);
      showList();
    });
  });
  selectAll.addEventListener("change", () => {
    state.checked = new Set(selectAll.checked ? visible().map((doc) => doc.location) : []);
    renderList();
  });
  orderSelect.addEventListener("change", () => {
    state.order = orderSelect.value;
    busy(orderSelect, refresh);
  });

  // -- first render -------------------------------------------------------------------------------
  await Promise.all([loadLabels(), loadDeployments()]);
  await loadDocuments();
  if (!context.alive()) return null;
  // The address names the document to open (#/p/{project}/label/{location}).
  state.current = stillListed(state.documents, context.extra);
  if (context.extra && state.current !== context.extra) showMessage(`There is no document ${context.extra} in this project.`, "error");
  renderLabelFilter();

  container.replaceChildren(
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Labeling"),
      h("span", { class: "muted" }, ner ? "Select text and press 1–9 to tag entities · n / p: next / previous document" : "Press 1–9 to assign classes · n / p: next / previous document"),
    ),
    h(
      "div",
      { class: "labeling" },
      h(
        "aside",
        { class: "doc-list card", "aria-label": "Document list" },
        h("div", { class: "filters" },
          h("div", { class: "wide" }, field("Search", searchInput, "in texts and names")),
          field("Status", review.status),
          field(ner ? "Entity" : "Class", labelFilter),
          h("div", { class: "filter-pair" }, field("Dataset", datasetFilter), field("Annotator", review.annotator)),
          h("div", { class: "field inline disagree" }, disagreeFilter, h("label", { for: "filter-disagree", title: "Labeled documents whose prediction by the deployment under Model assistance differs from their labels" }, "Model disagrees")),
          field("Order", orderSelect)),
        countsLine,
        h("div", { class: "list-actions" }, addButton, labelNextButton),
        h("div", { class: "bulk-bar", id: "bulk-bar", role: "group", "aria-label": "Move the ticked documents" }, h("label", { class: "choice" }, selectAll, "All"), bulkCount, ...bulkButtons),
        list,
      ),
      h("div", { class: "editor-grid" }, editor, h("div", { class: "side-column" }, labelsCard, assistCard)),
    ),
    addDialog,
  );
  renderList();
  renderLabelsCard();
  renderEditor();
  showAddress();

  const stopTagging = tagger.listen();
  const stopUndo = undoable.listen();
  return () => {
    stopTagging();
    stopUndo();
  };
}
