// Review of a document or a conversation's utterance, for both labeling pages
// (pages/labeling.js, pages/utterances.js): its state badge (unlabeled, labeled, accepted, sent
// back), the list's filters by state and annotator, Accept and Send back (with a comment) for
// keys with the "review" permission, and, for an item in the double-annotation sample, the
// user's own version of its labels (ownVersions) with the switch between labeling it and the
// resolved labels, and a link to the side-by-side view of every annotator's version.
//
// POST …/documents/{location}:review answers the document as it is after the review; a label
// change (by anyone) clears the review on the server, so the badge follows every save.
// Utterances are their project's …/documents, so the same routes serve both pages.

import { documentPath, labelingPath, sendJson, getJson } from "./api.js";
import { describe, identity } from "./identity.js";
import { busy, fill, formatDate, h, select, showError, showMessage } from "./ui.js";

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

// The filters of a labeling list by review: the state (with labeled / unlabeled where items can
// be unlabeled; an utterance always has its intent) and the annotator (who labeled an item last
// or has an own version of it).
export function reviewFilters({ labelStatus = true } = {}) {
  const choices = [["", "All"]];
  if (labelStatus) choices.push(["unlabeled", "Unlabeled"], ["labeled", "Labeled"]);
  choices.push(["needsReview", "Needs review"], ["accepted", "Accepted"], ["sentBack", "Sent back"]);
  const status = select(choices, { id: "filter-status" });
  const annotator = select([["", "Anyone"]], { id: "filter-annotator" });
  const names = new Set();
  return {
    status,
    annotator,
    // The list's query: ?status= (labeled or not), or ?state= ("needsReview": labeled and not
    // reviewed since its labels last changed), and ?annotator=.
    query() {
      const query = {};
      const chosen = status.value;
      if (chosen === "labeled" || chosen === "unlabeled") query.status = chosen;
      else if (chosen) query.state = chosen === "needsReview" ? "labeled" : chosen;
      if (annotator.value) query.annotator = annotator.value;
      return query;
    },
    // The annotators of the items listed join the annotator filter's choices (and the user).
    note(items) {
      for (const item of items) {
        for (const name of [item.labeledBy, ...(item.annotators || [])]) if (name) names.add(name);
      }
      const chosen = annotator.value;
      const listed = [...names].sort();
      if (myName() && !listed.includes(myName())) listed.unshift(myName());
      fill(annotator, h("option", { value: "" }, "Anyone"), listed.map((name) => h("option", { value: name }, name)));
      annotator.value = listed.includes(chosen) ? chosen : "";
    },
  };
}

// The user's own versions of the double-annotated items of a labeling page: while `mode` is on,
// an item in the sample shows (viewOf) and saves (save: PUT …/annotations/mine) the user's
// labels instead of its resolved ones. `empty`: the labels of a version not saved yet, whose
// keys are the label fields a version holds ({entities}, {classes}, or an utterance's
// {intent, entities}); items(): the page's items (their annotators follow a save); changed
// (location): a version arrived or was saved.
export function ownVersions({ projectName, signal, empty, items, changed }) {
  const fields = Object.keys(empty);
  const versions = new Map(); // location → labels
  const loading = new Set();
  const own = {
    mode: true,
    active(item) {
      return Boolean(item && item.doubleAnnotation && own.mode);
    },
    labelsOf(location) {
      return versions.get(location) || empty;
    },
    // The item as the editor shows it: with the user's own labels while they label it.
    viewOf(item) {
      if (!own.active(item)) return item;
      const labels = own.labelsOf(item.location);
      const labeled = fields.some((name) => (Array.isArray(labels[name]) ? labels[name].length : Boolean(labels[name])));
      return { ...item, ...labels, labeled };
    },
    // Whether a change of the item goes to the user's version: one of its label fields, while active.
    takes(item, body) {
      return own.active(item) && fields.some((name) => name in body);
    },
    // Fetch the user's version of a sampled item, once.
    load(item) {
      if (!own.active(item) || versions.has(item.location) || loading.has(item.location)) return;
      loading.add(item.location);
      getJson(`${documentPath(projectName, item.location)}/annotations`, { signal })
        .then((body) => {
          const mine = body.value.find((version) => version.annotator === myName());
          // None yet: the empty version, remembered so that it is not asked for again.
          if (!versions.has(item.location)) versions.set(item.location, mine ? pick(mine) : empty);
          changed(item.location);
        })
        .catch(showError)
        .finally(() => loading.delete(item.location));
    },
    // Forget every version fetched: a label renamed project-wide changed them on the server.
    // Each is fetched again when shown.
    forget() {
      versions.clear();
    },
    // Save a change (a PATCH body's label fields) into the user's version; resolves to it.
    async save(location, body) {
      const labels = { ...own.labelsOf(location), ...pick(body) };
      const saved = await sendJson("PUT", `${documentPath(projectName, location)}/annotations/mine`, labels, { signal });
      versions.set(location, pick(saved));
      const item = items().find((candidate) => candidate.location === location);
      if (item && !(item.annotators || []).includes(saved.annotator)) item.annotators = [...(item.annotators || []), saved.annotator];
      changed(location);
      return saved;
    },
    // save(), after the page's saves before it (chain: its promise of the last one), the
    // editor's save status (status(): its element, when shown) saying how it went; resolves
    // to whether it was saved.
    saveAfter(chain, location, body, status) {
      const say = (text) => {
        const element = status();
        if (element) element.textContent = text;
      };
      return chain
        .then(async () => {
          await own.save(location, body);
          say("Saved (your version)");
          return true;
        })
        .catch((error) => {
          showError(error);
          say("Not saved");
          return false;
        });
    },
  };
  function pick(body) {
    return Object.fromEntries(fields.filter((name) => name in body).map((name) => [name, body[name] ?? empty[name]]));
  }
  return own;
}

// The badge saying the editor shows the user's own version of the item.
export function ownBadge(own, item) {
  return own.active(item) ? h("span", { class: "badge own", id: "own-badge", title: "You are labeling your own version" }, "my version") : null;
}

// The review card under a document or utterance: who labeled and reviewed it, Accept / Send
// back, and the double-annotation switch. onReviewed(updated item); own: the page's
// ownVersions, whose mode the switch turns; onOwnToggled(): draw the editor again.
export function reviewPanel(projectName, doc, { signal, onReviewed, own, onOwnToggled }) {
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
    own.load(doc);
    const toggle = h("input", {
      type: "checkbox",
      id: "own-version",
      checked: own.mode,
      onchange: (event) => {
        own.mode = event.target.checked;
        onOwnToggled();
      },
    });
    children.push(
      h(
        "div",
        { class: "double-annotation", id: "double-annotation" },
        h("p", { class: "small" }, `This ${doc.intent === undefined ? "document" : "utterance"} is in the agreement sample: each annotator labels an own version, compared on the Agreement page.`),
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
