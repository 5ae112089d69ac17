// Review of a document: its state badge (unlabeled, labeled, accepted, sent back), Accept and
// Send back (with a comment) for keys with the "review" permission, and, for a document in the
// double-annotation sample, the switch between labeling one's own version and the resolved
// labels, with a link to the side-by-side view of every annotator's version.
//
// POST …/documents/{location}:review answers the document as it is after the review; a label
// change (by anyone) clears the review on the server, so the badge follows every save.

import { documentPath, labelingPath, sendJson, getJson } from "./api.js";
import { describe, identity } from "./identity.js";
import { busy, formatDate, h, showMessage } from "./ui.js";

export const STATES = [
  ["unlabeled", "Unlabeled"],
  ["labeled", "Labeled"],
  ["accepted", "Accepted"],
  ["sentBack", "Sent back"],
];

const BADGE_CLASS = { unlabeled: "todo", labeled: "ok", accepted: "accepted", sentBack: "sent-back" };

export function stateText(state) {
  return (STATES.find(([value]) => value === state) || [state, state])[1].toLowerCase();
}

// The badge of a document's state (a conversation utterance's is its labeled flag).
export function stateBadge(doc) {
  const state = doc.state || (doc.labeled ? "labeled" : "unlabeled");
  return h(
    "span",
    {
      class: `badge state ${BADGE_CLASS[state] || ""}`,
      dataset: { state },
      title: doc.reviewedBy ? `${stateText(state)} by ${doc.reviewedBy}${doc.reviewComment ? `: ${doc.reviewComment}` : ""}` : null,
    },
    stateText(state),
  );
}

// The name the server records for this tab's key (a user's name, else the key's).
export function myName() {
  const who = identity();
  return who ? describe(who).name : null;
}

// The side-by-side view of a document's versions (pages/agreement.js).
export function compareHref(projectName, location) {
  return `#/p/${encodeURIComponent(projectName)}/agreement/${encodeURIComponent(location)}`;
}

// My own version of a double-annotated document: {entities, classes} (empty when none yet).
export async function loadMyVersion(projectName, location, { signal } = {}) {
  const body = await getJson(`${documentPath(projectName, location)}/annotations`, { signal });
  const mine = body.value.find((version) => version.annotator === myName());
  return { entities: mine?.entities || [], classes: mine?.classes || [], saved: Boolean(mine) };
}

export function saveMyVersion(projectName, location, labels, { signal } = {}) {
  return sendJson("PUT", `${documentPath(projectName, location)}/annotations/mine`, labels, { signal });
}

// The review card under a document: who labeled and reviewed it, Accept / Send back, and the
// double-annotation switch. onReviewed(updated document); own: {active, toggle(checked)}.
export function reviewPanel(projectName, doc, { signal, onReviewed, own }) {
  const comment = h("input", { type: "text", id: "review-comment", autocomplete: "off", placeholder: "Comment (why it goes back)", "aria-label": "Review comment" });
  const decide = (decision) => async (event) =>
    busy(event.currentTarget, async () => {
      const updated = await sendJson(
        "POST",
        `${documentPath(projectName, doc.location)}:review`,
        { decision, comment: comment.value.trim() || undefined },
        { signal },
      );
      showMessage(decision === "accept" ? `Accepted ${doc.location}.` : `Sent ${doc.location} back.`, "success");
      onReviewed(updated);
    });
  const who = [];
  if (doc.labeledBy) who.push(`labeled by ${doc.labeledBy}`);
  if (doc.reviewedBy) who.push(`${stateText(doc.state)} by ${doc.reviewedBy} ${formatDate(doc.reviewedDateTime)}`);
  const children = [
    h("div", { class: "review-line" }, h("strong", {}, "Review "), stateBadge(doc), who.length ? h("span", { class: "muted small", id: "review-who" }, ` ${who.join(" · ")}`) : null),
    doc.reviewComment ? h("p", { class: "review-comment-text", id: "review-comment-text" }, `“${doc.reviewComment}”`) : null,
    h(
      "div",
      { class: "review-actions", "data-needs": "review" },
      comment,
      h("button", { type: "button", class: "small", id: "review-accept", onclick: decide("accept") }, "Accept"),
      h("button", { type: "button", class: "secondary small", id: "review-send-back", onclick: decide("sendBack") }, "Send back"),
    ),
  ];
  if (doc.doubleAnnotation && own) {
    const toggle = h("input", { type: "checkbox", id: "own-version", checked: own.active, onchange: (event) => own.toggle(event.target.checked) });
    children.push(
      h(
        "div",
        { class: "double-annotation", id: "double-annotation" },
        h("p", { class: "small" }, "This document is in the agreement sample: each annotator labels an own version, compared on the Agreement page."),
        h("label", { class: "choice", "data-needs": "label" }, toggle, " Label my own version"),
        " ",
        h("a", { href: compareHref(projectName, doc.location), id: "compare-versions" }, `Compare versions (${(doc.annotators || []).length})`),
      ),
    );
  }
  return h("div", { class: "review-panel", id: "review-panel" }, ...children);
}

// GET …/review-settings and …/agreement, for the Agreement page.
export function reviewSettingsPath(projectName) {
  return labelingPath(projectName, "/review-settings");
}
