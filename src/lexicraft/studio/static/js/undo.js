// Undo and redo of labeling changes (Ctrl+Z; Ctrl+Shift+Z or Ctrl+Y), for as long as a
// project's labeling page is open.
//
// One history for the whole page, across items: undoing a change made on another document
// (or utterance) first opens that item, so what changes is always on screen. Each step knows
// how to undo and redo itself through the same routes the change used (a PATCH of the item's
// state before or after, a bulk assignment, a rename back); a step the server refuses stays
// where it was, and the message says why.

import { h, showError, showMessage } from "./ui.js";

// Keys typed into these are the control's own undo, not the labeling history's.
const TYPING = "input[type=text], input[type=password], input[type=number], input[type=search], textarea, [contenteditable]";
const LIMIT = 500;

// open(location): show that item (resolves once shown); current(): the location shown.
// A step: {location (null for project-wide steps), what (words for messages), undo(), redo()},
// where undo() and redo() resolve to whether the server took the change.
export function undoHistory({ open, current }) {
  const done = [];
  const undone = [];
  let queue = Promise.resolve();
  const buttons = { undo: null, redo: null };

  function refreshButtons() {
    if (buttons.undo) buttons.undo.disabled = !done.length;
    if (buttons.redo) buttons.redo.disabled = !undone.length;
    if (buttons.undo) buttons.undo.title = done.length ? `Undo ${done[done.length - 1].what} (Ctrl+Z)` : "Nothing to undo";
    if (buttons.redo) buttons.redo.title = undone.length ? `Redo ${undone[undone.length - 1].what} (Ctrl+Shift+Z)` : "Nothing to redo";
  }

  // A change the server took: it can be undone, and what was undone can no longer be redone.
  function record(step) {
    done.push(step);
    if (done.length > LIMIT) done.shift();
    undone.length = 0;
    refreshButtons();
  }

  // Forget every step on an item (it was deleted) or every step (a merge: earlier steps name
  // a label that no longer exists).
  function forget(location = undefined) {
    for (const stack of [done, undone]) {
      const kept = location === undefined ? [] : stack.filter((step) => step.location !== location);
      stack.splice(0, stack.length, ...kept);
    }
    refreshButtons();
  }

  async function move(from, to, direction) {
    const step = from.pop();
    if (!step) {
      showMessage(`Nothing to ${direction}.`);
      refreshButtons();
      return;
    }
    let ok = false;
    try {
      if (step.location && step.location !== current()) await open(step.location);
      ok = await step[direction]();
    } catch (error) {
      showError(error);
    }
    (ok ? to : from).push(step);
    if (ok) showMessage(`${direction === "undo" ? "Undone" : "Redone"}: ${step.what}.`);
    refreshButtons();
  }

  // Steps run one after another, as the changes themselves are saved.
  const undo = () => (queue = queue.then(() => move(done, undone, "undo")));
  const redo = () => (queue = queue.then(() => move(undone, done, "redo")));

  // A change being saved, which records its step once the server took it: an undo or redo
  // asked for meanwhile waits for it, so Ctrl+Z right after an edit undoes that edit, never
  // the step before it. Resolves as work does.
  function saving(work) {
    queue = queue.then(() => work.then(() => undefined, () => undefined));
    return work;
  }

  // ↶ Undo and ↷ Redo buttons for the editor's head.
  function controls() {
    buttons.undo = h("button", { type: "button", class: "secondary small", id: "undo", onclick: undo }, "↶ Undo");
    buttons.redo = h("button", { type: "button", class: "secondary small", id: "redo", onclick: redo }, "↷ Redo");
    refreshButtons();
    return [buttons.undo, buttons.redo];
  }

  function onKeyDown(event) {
    if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
    if (event.target.closest && event.target.closest(TYPING)) return;
    if (window.document.querySelector("dialog[open]")) return;
    const key = event.key.toLowerCase();
    if (key === "z" && !event.shiftKey) {
      event.preventDefault();
      undo();
    } else if ((key === "z" && event.shiftKey) || (key === "y" && !event.shiftKey)) {
      event.preventDefault();
      redo();
    }
  }

  // Listen on the whole page while it is shown; the returned function stops listening.
  function listen() {
    window.document.addEventListener("keydown", onKeyDown);
    return () => window.document.removeEventListener("keydown", onKeyDown);
  }

  return { record, saving, forget, undo, redo, controls, listen, idle: () => queue };
}

// The fields of item that body changes, as a PATCH would set them back (item as the labeling
// routes return it: entities, classes or intent, dataset).
export function stateOf(item, body) {
  const before = {};
  for (const key of Object.keys(body)) {
    if (key === "entities") before.entities = item.entities.map(({ category, offset, length }) => ({ category, offset, length }));
    else if (key === "classes") before.classes = item.classes.map((entry) => entry.category);
    else before[key] = item[key] === undefined ? null : item[key];
  }
  // A new text clears the spans (they pointed into the old text): undoing it brings them back.
  if ("text" in body && !("entities" in body) && item.entities) before.entities = stateOf(item, { entities: null }).entities;
  return before;
}
