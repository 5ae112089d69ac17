// A document's history: who changed it, when, and how (GET …/documents/{location}/history).
//
// The labeling pages add historyPanel() under the open document. The panel loads when it is
// opened; pages re-render a document after every save, so a panel left open stays open (and
// shows the change just made) for the same document.

import { documentPath, listAll } from "./api.js";
import { formatDate, h } from "./ui.js";

const ACTIONS = {
  created: "added it",
  updated: "changed",
  deleted: "deleted it",
  labelRenamed: "renamed a label",
  reviewed: "accepted it",
  sentBack: "sent it back",
  resolved: "resolved it",
};

// Panels left open, by project and location.
const openPanels = new Set();

// The text of a span (offsets in code points) when the document's text is known.
function surface(text, entity) {
  if (!text) return "";
  return ` “${Array.from(text).slice(entity.offset, entity.offset + entity.length).join("")}”`;
}

function entityKey(entity) {
  return `${entity.category}\u0000${entity.offset}\u0000${entity.length}`;
}

// What changed between two label states, in short phrases.
export function changes(before, after, text) {
  const old = before || {};
  const now = after || {};
  const phrases = [];
  const oldEntities = new Map((old.entities || []).map((entity) => [entityKey(entity), entity]));
  const newEntities = new Map((now.entities || []).map((entity) => [entityKey(entity), entity]));
  for (const [key, entity] of newEntities) {
    if (!oldEntities.has(key)) phrases.push(`+${entity.category}${surface(text || now.text, entity)}`);
  }
  for (const [key, entity] of oldEntities) {
    if (!newEntities.has(key)) phrases.push(`−${entity.category}${surface(text || old.text, entity)}`);
  }
  const oldClasses = new Set((old.classes || []).map((item) => item.category));
  const newClasses = new Set((now.classes || []).map((item) => item.category));
  for (const name of newClasses) if (!oldClasses.has(name)) phrases.push(`+${name}`);
  for (const name of oldClasses) if (!newClasses.has(name)) phrases.push(`−${name}`);
  if (before && after) {
    if (old.intent !== now.intent) phrases.push(`intent ${old.intent || "—"} → ${now.intent || "—"}`);
    if (old.dataset !== now.dataset) phrases.push(`dataset ${old.dataset || "none"} → ${now.dataset || "none"}`);
    if (old.language !== now.language) phrases.push(`language ${old.language || "—"} → ${now.language || "—"}`);
    if (old.text !== undefined && old.text !== now.text) phrases.push("text edited");
  }
  return phrases;
}

function renderEvent(event, text) {
  const phrases = event.action === "deleted" ? [] : changes(event.before, event.after, text);
  return h(
    "li",
    { class: "history-event", dataset: { action: event.action } },
    h("time", { datetime: event.createdDateTime, class: "muted small" }, formatDate(event.createdDateTime)),
    " ",
    h("strong", { class: "history-actor" }, event.actor),
    ` ${ACTIONS[event.action] || event.action}`,
    phrases.length ? h("span", { class: "history-changes" }, `: ${phrases.join(", ")}`) : null,
    event.comment ? h("span", { class: "history-comment" }, ` “${event.comment}”`) : null,
  );
}

// A <details> panel with the history of the document at `location` (its `text` names spans).
export function historyPanel(projectName, location, { signal, text } = {}) {
  const key = `${projectName}\u0000${location}`;
  const list = h("ol", { class: "history-list", id: "history-list", "aria-live": "polite" });
  const panel = h("details", { class: "history", id: "history-panel" }, h("summary", {}, "History"), list);
  let loading = null;
  const load = () => {
    if (loading) return loading;
    list.replaceChildren(h("li", { class: "muted" }, "Loading…"));
    loading = listAll(`${documentPath(projectName, location)}/history`, { signal })
      .then((events) => {
        list.replaceChildren(
          ...(events.length ? events.map((event) => renderEvent(event, text)) : [h("li", { class: "muted" }, "No changes recorded yet.")]),
        );
      })
      .catch((error) => {
        if (error.name !== "AbortError") list.replaceChildren(h("li", { class: "error-text" }, error.message));
      });
    return loading;
  };
  panel.addEventListener("toggle", () => {
    if (panel.open) {
      openPanels.add(key);
      load();
    } else {
      openPanels.delete(key);
    }
  });
  if (openPanels.has(key)) {
    panel.open = true;
    load();
  }
  return panel;
}
