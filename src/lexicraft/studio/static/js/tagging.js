// Entity spans on screen, in one place for every page that shows them: tagging by selection and
// keys on the NER labeling page and the conversation (CLU) utterance page (with the list
// bookkeeping those two share), and the highlighted entities of the Test pane and the Evaluation
// page. The pages differ in their words and in which spans may overlap; the offsets, keys, marks
// and colours must not differ between them.

import { TextIndex, colourClass, offsetAtPoint, renderMarked, selectOffsets, selectionOffsets } from "./text.js";
import { emptyRow, h, score, select, showMessage, uid } from "./ui.js";

// Keys typed into these belong to the control, not to the tagging shortcuts.
const TYPING = "input[type=text], input[type=password], input[type=number], input[type=search], input[type=file], textarea, select, [contenteditable]";

// -- the list of items being labelled -------------------------------------------------------------

// Swap in an item (document or utterance) the server returned; the project-wide counts of the
// labeling list change by its difference.
export function replaceItem(items, counts, updated) {
  const position = items.findIndex((item) => item.location === updated.location);
  if (position < 0) return;
  const previous = items[position];
  items[position] = updated;
  if (!counts) return;
  for (const [item, sign] of [[previous, -1], [updated, 1]]) {
    counts.labeled += sign * (item.labeled ? 1 : 0);
    counts.unlabeled += sign * (item.labeled ? 0 : 1);
    counts.train += sign * (item.dataset === "Train" ? 1 : 0);
    counts.test += sign * (item.dataset === "Test" ? 1 : 0);
    counts.unassigned += sign * (item.dataset ? 0 : 1);
  }
}

// The location to show after the list is loaded again: the same item while it is still listed,
// else the first one.
export function stillListed(items, location) {
  if (items.some((item) => item.location === location)) return location;
  return items.length ? items[0].location : null;
}

// Keep the current item (aria-current) in view in the list: only the list scrolls, never the
// page, so n / p and links keep the list on the item being labelled.
export function followCurrent(list) {
  const item = list.querySelector('.doc-item[aria-current="true"]');
  if (!item) return;
  const box = list.getBoundingClientRect();
  const itemBox = item.getBoundingClientRect();
  if (itemBox.top < box.top) list.scrollTop -= box.top - itemBox.top;
  else if (itemBox.bottom > box.bottom) list.scrollTop += itemBox.bottom - box.bottom;
}

// The address of an item of a project's labeling page (#/p/{project}/label/{location}); links
// from other pages (the evaluation's documents) open it.
export function labelingHref(projectName, location) {
  const base = `#/p/${encodeURIComponent(projectName)}/label`;
  return location ? `${base}/${encodeURIComponent(location)}` : base;
}

// Keep an item's address in the location bar without a new history entry or a hashchange
// (the page stays).
export function showAddress(projectName, location) {
  const hash = labelingHref(projectName, location);
  if (window.location.hash !== hash) window.history.replaceState(null, "", hash);
}

// -- tagging --------------------------------------------------------------------------------------

// The spans of an item as the labeling routes take them back (nothing but category and offsets).
export function spanList(entities) {
  return entities.map((entity) => ({ category: entity.category, offset: entity.offset, length: entity.length }));
}

// A label's badge in the side panel, numbered by the key that applies it.
export function labelBadge(labels, label, index) {
  return h("span", { class: `badge ${colourClass(labels, label)}` }, index < 9 ? `${index + 1} ` : "", label);
}

// One button a label for the label bar; pressing it must not drop the text selection.
export function labelButtons(labels, apply) {
  return labels.map((label, index) =>
    h(
      "button",
      {
        type: "button",
        class: `label-button ${colourClass(labels, label)}`,
        dataset: { label },
        onmousedown: (event) => event.preventDefault(), // keep the text selection
        onclick: () => apply(label),
      },
      index < 9 ? h("kbd", {}, String(index + 1)) : null,
      label,
    ),
  );
}

// The Train / Test / unassigned choice of the item being labelled.
export function datasetChoice(dataset, choose, noun) {
  const name = uid("dataset");
  const options = [["Train", "Train"], ["Test", "Test"], ["", "Unassigned"]];
  return h(
    "fieldset",
    { id: "dataset-choice" },
    h("legend", {}, "Dataset"),
    options.map(([value, text]) =>
      h(
        "label",
        { class: "choice" },
        h("input", { type: "radio", name, value, checked: (dataset || "") === value, onchange: () => choose(value || null) }),
        text,
      ),
    ),
    h("span", { class: "hint" }, `Manual training splits use it; unassigned ${noun} train.`),
  );
}

// Tagging spans on the text of the current item (a document or an utterance).
//
// The page owns `state` ({current: location, index: TextIndex, pending: [start, end) UTF-16 or
// null, selectedSpan: index or null}) and its rendering; the tagger reads and sets those and
// calls back:
//   items()                the listed items, in order
//   current()              the item shown ({location, text, entities}), or null
//   show()                 draw the list and the editor for another item
//   save(location, body)   PATCH the item
//   clashes(spans, span)   whether span may not join spans (the pages' overlap rules differ)
//   clashMessage(category) what to say when it may not
//   labels()               the labels in key order (1–9)
//   apply(label)           what a key 1–9 or a label button does
//   rerender()             draw the editor again
//   renderHint()           draw the hint line again
//   selecting()            whether selections tag spans at all (not on a classification page)
//
// Selections snap to whole words (hold Alt while selecting to keep exactly what was selected);
// a selection on an existing span retags or replaces it; a span's edges drag to resize it.
export function spanTagger({ state, editor, items, current, show, save, clashes, clashMessage, labels, apply, rerender, renderHint, selecting = () => true }) {
  // Another item: what was selected on the last one goes.
  function selectItem(location) {
    state.current = location;
    state.pending = null;
    state.selectedSpan = null;
    show();
  }

  // The next (1) or previous (-1) item, if there is one.
  function step(delta) {
    const listed = items();
    const target = listed[listed.findIndex((item) => item.location === state.current) + delta];
    if (target) selectItem(target.location);
  }

  // ‹ Previous and Next › buttons (keys p and n) for the item shown; noun names an item.
  function stepButtons(noun) {
    const listed = items();
    const position = listed.findIndex((item) => item.location === state.current);
    return [
      h("button", { type: "button", class: "secondary small", disabled: position <= 0, title: `Previous ${noun} (key p)`, onclick: () => step(-1) }, "‹ Previous"),
      h("button", { type: "button", class: "secondary small", disabled: position >= listed.length - 1, title: `Next ${noun} (key n)`, onclick: () => step(1) }, "Next ›"),
    ];
  }

  // The item to draw, with state.index kept in step with its text (null when there is none).
  function prepare() {
    const item = current();
    if (!item) state.index = null;
    else if (!state.index || state.index.text !== item.text) state.index = new TextIndex(item.text);
    return item;
  }

  function addSpan(category, start, end) {
    const item = current();
    const candidate = { category, ...state.index.spanToCodePoints(start, end) };
    const entities = spanList(item.entities);
    if (clashes(entities, candidate)) {
      showMessage(clashMessage(category), "error");
      return null;
    }
    state.pending = null;
    window.getSelection().removeAllRanges();
    return save(item.location, { entities: [...entities, candidate] });
  }

  // A label chosen for the selection: the selection of exactly a span retags it; one that
  // clashes with a single span replaces it (re-selecting wider or narrower and pressing the
  // label fixes a span in one step); clashing with several is refused.
  function placeSpan(category, start, end) {
    const item = current();
    const candidate = { category, ...state.index.spanToCodePoints(start, end) };
    const entities = spanList(item.entities);
    const same = entities.findIndex((entity) => entity.offset === candidate.offset && entity.length === candidate.length);
    if (same >= 0) {
      state.pending = null;
      window.getSelection().removeAllRanges();
      if (entities[same].category === category) {
        rerender();
        return null;
      }
      return changeSpan(same, category);
    }
    const clashing = entities.filter((entity) => clashes([entity], candidate));
    if (clashing.length > 1) {
      showMessage(`${clashMessage(category)} (the selection covers ${clashing.length} spans)`, "error");
      return null;
    }
    state.pending = null;
    state.selectedSpan = null;
    window.getSelection().removeAllRanges();
    return save(item.location, { entities: [...entities.filter((entity) => !clashing.includes(entity)), candidate] });
  }

  // Move span ``position``'s edges to [start, end) (UTF-16, snapped).
  function resizeSpan(position, start, end) {
    const item = current();
    const entities = spanList(item.entities);
    const resized = { ...entities[position], ...state.index.spanToCodePoints(start, end) };
    const others = entities.filter((_, index) => index !== position);
    if (resized.offset === entities[position].offset && resized.length === entities[position].length) {
      rerender();
      return null;
    }
    if (clashes(others, resized)) {
      showMessage(clashMessage(resized.category), "error");
      rerender();
      return null;
    }
    entities[position] = resized;
    state.selectedSpan = null;
    return save(item.location, { entities });
  }

  function changeSpan(position, category) {
    const item = current();
    const entities = spanList(item.entities);
    entities[position] = { ...entities[position], category };
    return save(item.location, { entities });
  }

  function deleteSpan(position) {
    const item = current();
    const entities = spanList(item.entities).filter((_, index) => index !== position);
    state.selectedSpan = null;
    return save(item.location, { entities });
  }

  // A label chosen: it tags the selected text, or retags the selected span.
  function tag(category, nothingSelected) {
    if (state.pending) placeSpan(category, ...state.pending);
    else if (state.selectedSpan !== null) changeSpan(state.selectedSpan, category);
    else showMessage(nothingSelected);
  }

  // The selection, widened to whole grapheme clusters and words (not while Alt is held),
  // becomes the pending span. A mouse selection is widened on screen too, so what the user
  // sees is what gets tagged; a keyboard one is not (Shift+arrow must still move one character
  // at a time), and the hint line says what will be tagged.
  function capture(textView, event) {
    if (!selecting() || !state.index) return;
    const offsets = selectionOffsets(textView);
    if (!offsets) return;
    const snapped = state.index.snap(...offsets, { words: !event.altKey });
    state.pending = snapped;
    state.selectedSpan = null;
    if (snapped && event.type === "mouseup") selectOffsets(textView, ...snapped);
    renderHint();
  }

  // Handles on each span's first and last character: dragging one moves that edge.
  function addHandles(textView) {
    if (!selecting()) return;
    current().entities.forEach((entity, index) => {
      const pieces = textView.querySelectorAll(`mark[data-marks~="s${index}"]`);
      if (!pieces.length) return;
      const handle = (edge) =>
        h("span", {
          class: `span-handle ${edge}`,
          dataset: { span: String(index), edge },
          title: `Drag to move the ${edge} of this ${entity.category} span`,
          "aria-hidden": "true",
        });
      pieces[0].before(handle("start"));
      pieces[pieces.length - 1].after(handle("end"));
    });
  }

  // Dragging a handle: the selection shows the span's new extent until the button is released.
  function startResize(textView, event) {
    const handle = event.target.closest(".span-handle");
    if (!handle || event.button !== 0) return;
    event.preventDefault(); // no text selection, and no mouse events of the drag
    const position = Number(handle.dataset.span);
    const entity = current().entities[position];
    let [start, end] = state.index.spanToUtf16(entity.offset, entity.length);
    const fromEdge = handle.dataset.edge;
    handle.setPointerCapture(event.pointerId);
    const onMove = (moved) => {
      const offset = offsetAtPoint(textView, moved.clientX, moved.clientY);
      if (offset === null) return;
      if (fromEdge === "start") start = Math.min(offset, end - 1);
      else end = Math.max(offset, start + 1);
      selectOffsets(textView, start, end);
    };
    const onUp = (released) => {
      handle.removeEventListener("pointermove", onMove);
      window.getSelection().removeAllRanges();
      // Only the dragged edge snaps to its word: the other stays where it was.
      if (!released.altKey && fromEdge === "start") start = (state.index.wordAround(start) || [start])[0];
      if (!released.altKey && fromEdge === "end") end = (state.index.wordAround(end) || [0, end])[1];
      const snapped = state.index.snap(start, end);
      if (snapped) resizeSpan(position, ...snapped);
      else rerender();
    };
    handle.addEventListener("pointermove", onMove);
    handle.addEventListener("pointerup", onUp, { once: true });
    handle.addEventListener("pointercancel", () => handle.removeEventListener("pointermove", onMove), { once: true });
  }

  // Selecting by mouse or Shift+arrows, clicking a span to select it, dragging its edges.
  function watch(textView) {
    addHandles(textView);
    textView.addEventListener("pointerdown", (event) => startResize(textView, event));
    textView.addEventListener("mouseup", (event) => capture(textView, event));
    textView.addEventListener("keyup", (event) => {
      if (event.shiftKey) capture(textView, event);
    });
    textView.addEventListener("click", (event) => {
      const mark = event.target.closest("mark");
      if (!mark || !window.getSelection().isCollapsed) return;
      const spanId = (mark.dataset.marks || "").split(" ").find((id) => id.startsWith("s"));
      if (spanId === undefined) return;
      state.selectedSpan = Number(spanId.slice(1));
      state.pending = null;
      rerender();
      editor.querySelector("#doc-text").focus();
    });
  }

  function onKeyDown(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest && event.target.closest(TYPING)) return;
    if (window.document.querySelector("dialog[open]")) return;
    if (/^[1-9]$/.test(event.key)) {
      const label = labels()[Number(event.key) - 1];
      if (label) {
        event.preventDefault();
        apply(label);
      }
    } else if ((event.key === "Delete" || event.key === "Backspace") && state.selectedSpan !== null) {
      event.preventDefault();
      deleteSpan(state.selectedSpan);
    } else if (event.key === "Escape") {
      state.pending = null;
      state.selectedSpan = null;
      window.getSelection().removeAllRanges();
      rerender();
    } else if (event.key === "n") {
      step(1);
    } else if (event.key === "p") {
      step(-1);
    }
  }

  // A selection that is gone (clicked elsewhere) must not be tagged by the next key press.
  function onSelectionChange() {
    if (!state.pending) return;
    const view = editor.querySelector("#doc-text");
    if (!view || !selectionOffsets(view)) {
      state.pending = null;
      renderHint();
    }
  }

  // Listen on the whole page while it is shown; the returned function stops listening.
  function listen() {
    window.document.addEventListener("keydown", onKeyDown);
    window.document.addEventListener("selectionchange", onSelectionChange);
    return () => {
      window.document.removeEventListener("keydown", onKeyDown);
      window.document.removeEventListener("selectionchange", onSelectionChange);
    };
  }

  // The hint line's words for the pending selection or the selected span.
  function hint() {
    const item = current();
    if (state.pending) {
      return `Selected “${item.text.slice(...state.pending)}” — press 1–9 or click an entity to tag it.`;
    }
    if (state.selectedSpan !== null && item.entities[state.selectedSpan]) {
      const entity = item.entities[state.selectedSpan];
      return `Span ${entity.category} “${item.text.slice(...state.index.spanToUtf16(entity.offset, entity.length))}” — press 1–9 to change it, Delete to remove it, Esc to deselect.`;
    }
    return "Select text with the mouse (or Shift+arrows; it snaps to whole words unless Alt is held), then press 1–9 or click an entity. Drag a span's edge to resize it.";
  }

  // The item's spans as marks; the ids s0, s1… let a click find its span.
  function marks(labelList) {
    return current().entities.map((entity, index) => {
      const [start, end] = state.index.spanToUtf16(entity.offset, entity.length);
      return {
        start,
        end,
        id: `s${index}`,
        category: entity.category,
        classes: ["entity", colourClass(labelList, entity.category), ...(state.selectedSpan === index ? ["selected"] : [])],
        tag: entity.category,
        title: `${entity.category} (click to select; Delete removes it)`,
      };
    });
  }

  // The spans as a table to retag or delete them; words: {summary, empty, note}.
  function table(labelList, words) {
    const item = current();
    const body = h("tbody");
    item.entities.forEach((entity, index) => {
      const surface = item.text.slice(...state.index.spanToUtf16(entity.offset, entity.length));
      body.append(
        h(
          "tr",
          { class: state.selectedSpan === index ? "selected" : null, dataset: { category: entity.category } },
          h("td", {}, surface),
          h("td", {}, select(labelList.map((label) => [label, label]), { value: entity.category, "aria-label": `Entity of “${surface}”`, onchange: (event) => changeSpan(index, event.target.value) })),
          h("td", { class: "num" }, String(entity.offset)),
          h("td", { class: "num" }, String(entity.length)),
          h("td", { class: "actions" }, h("button", { type: "button", class: "danger small", "aria-label": `Delete span “${surface}”`, onclick: () => deleteSpan(index) }, "Delete")),
        ),
      );
    });
    if (!item.entities.length) body.append(emptyRow(5, words.empty));
    return h(
      "details",
      { open: true },
      h("summary", {}, `${words.summary} (${item.entities.length})`),
      h("table", { id: "span-table" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Text"), h("th", { scope: "col" }, "Entity"), h("th", { scope: "col", class: "num" }, "Offset"), h("th", { scope: "col", class: "num" }, "Length"), h("th", {}, ""))),
        body,
      ),
      h("p", { class: "hint" }, words.note),
    );
  }

  return { select: selectItem, step, stepButtons, prepare, addSpan, placeSpan, resizeSpan, changeSpan, deleteSpan, tag, watch, listen, hint, marks, table };
}

// -- highlighted results ------------------------------------------------------------------------

// A model's entities (offsets in code points, as the runtime APIs return them) over text, each
// with its confidence, in the colour of its place in labels.
export function highlightPredictions(text, entities, labels, attributes) {
  const index = new TextIndex(text);
  const marks = entities.map((entity, number) => {
    const [start, end] = index.spanToUtf16(entity.offset, entity.length);
    return {
      start,
      end,
      id: `e${number}`,
      category: entity.category,
      classes: ["entity", colourClass(labels, entity.category)],
      tag: `${entity.category} ${score(entity.confidenceScore)}`,
      title: `${entity.category}, confidence ${score(entity.confidenceScore)}`,
    };
  });
  const view = h("div", { class: "doc-text", id: "test-highlighted", tabindex: "0", role: "document", ...attributes });
  renderMarked(view, text, marks);
  return view;
}

// An evaluated text with its right (tp), predicted-only (fp) and expected-only (fn) spans.
// Evaluation results count UTF-16 code units, as JavaScript strings do; TextIndex checks that
// each offset lies on a code point boundary. Returns the view and the span → [start, end) map.
export function highlightOutcomes(text, outcome, attributes) {
  const index = new TextIndex(text);
  const utf16 = (entity) => [entity.offset, entity.offset + entity.length].map((value) => index.toUtf16(index.toCodePoint(value)));
  const marks = [];
  const add = (entities, kind, suffix) =>
    entities.forEach((entity, number) => {
      const [start, end] = utf16(entity);
      marks.push({ start, end, id: `${kind}${number}`, classes: [kind], tag: `${entity.category}${suffix}`, title: `${entity.category} ${suffix.trim() || "(correct)"}`, category: entity.category });
    });
  add(outcome.truePositives, "tp", "");
  add(outcome.falsePositives, "fp", " FP");
  add(outcome.falseNegatives, "fn", " FN");
  const view = h("div", attributes);
  renderMarked(view, text, marks);
  return { view, utf16 };
}

// What the evaluation marks' colours mean.
export function outcomeLegend() {
  return h("div", { class: "legend" },
    h("mark", { class: "tp" }, "correct"),
    h("mark", { class: "fp" }, "false positive (predicted only)"),
    h("mark", { class: "fn" }, "false negative (expected only)"),
  );
}
