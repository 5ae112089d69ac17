// The Studio shell: sign in, the project navigation, and hash routes to the pages.
//
// The key a user signs in with stays in this tab's sessionStorage and is only ever sent in the
// Ocp-Apim-Subscription-Key header (never in a URL, so never in a log). A 401 anywhere (a
// revoked key, a disabled user) signs the tab out: the sign-in form comes back with a message.

import { clearKey, getKey, isConversation, loadProject, setKey } from "./api.js";
import { can, describe, forgetIdentity, identity, loadIdentity } from "./identity.js";
import { field, h, showError, showMessage } from "./ui.js";
import { projectsPage } from "./pages/projects.js";
import { labelingPage } from "./pages/labeling.js";
import { utterancesPage } from "./pages/utterances.js";
import { trainingPage } from "./pages/training.js";
import { evaluationPage } from "./pages/evaluation.js";
import { deploymentsPage } from "./pages/deployments.js";
import { testPage } from "./pages/test.js";
import { agreementPage } from "./pages/agreement.js";
import { teamPage } from "./pages/team.js";

const PROJECT_PAGES = [
  ["label", "Labeling", labelingPage],
  ["agreement", "Agreement", agreementPage],
  ["train", "Training", trainingPage],
  ["evaluate", "Evaluation", evaluationPage],
  ["deploy", "Deployments", deploymentsPage],
  ["test", "Test", testPage],
];

let current = null; // {controller, dispose}
let signOutReason = null; // why the tab was signed out, shown on the sign-in form

function main() {
  return document.getElementById("main");
}

function setTitle(text) {
  document.title = text ? `${text} · Lexicraft Studio` : "Lexicraft Studio";
}

function renderNav(projectName, pageName) {
  const nav = document.getElementById("project-nav");
  if (!projectName) {
    nav.hidden = true;
    nav.replaceChildren();
    return;
  }
  nav.hidden = false;
  nav.replaceChildren(
    h("span", { class: "project-name", title: projectName }, projectName),
    ...PROJECT_PAGES.map(([slug, text]) =>
      h(
        "a",
        {
          href: `#/p/${encodeURIComponent(projectName)}/${slug}`,
          "aria-current": slug === pageName ? "page" : null,
        },
        text,
      ),
    ),
  );
}

// The top bar's Team link (index.html; css/team.css shows it only to keys with manageUsers).
function markTeamLink(current) {
  const link = document.getElementById("team-link");
  if (current) link.setAttribute("aria-current", "page");
  else link.removeAttribute("aria-current");
}

function renderSignedIn() {
  const who = getKey() ? identity() : null;
  document.getElementById("sign-out").hidden = !getKey();
  const element = document.getElementById("signed-in-as");
  if (!who) {
    element.replaceChildren();
    return;
  }
  const { name, role } = describe(who);
  element.replaceChildren(
    h("span", { class: "user-name", id: "user-name" }, name),
    h("span", { class: "badge", id: "user-role" }, role),
  );
}

function signOut(message, kind) {
  clearKey();
  forgetIdentity();
  if (message) showMessage(message, kind);
}

function signInPage(container) {
  setTitle("Sign in");
  renderNav(null);
  markTeamLink(false);
  const input = h("input", {
    type: "password",
    id: "api-key",
    autocomplete: "off",
    required: true,
    spellcheck: "false",
  });
  const error = h("p", { class: "error-text", role: "alert", id: "sign-in-error" }, signOutReason || "");
  const form = h(
    "form",
    { class: "card sign-in", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in to Lexicraft Studio"),
    h(
      "p",
      { class: "muted" },
      "Enter your key (lexicraft users create, or a key an admin gave you). It is kept in this browser tab only and sent only as the Ocp-Apim-Subscription-Key header.",
    ),
    field("API key", input),
    error,
    h("button", { type: "submit" }, "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    setKey(input.value.trim());
    try {
      await loadIdentity({ checkingKey: true });
    } catch (failure) {
      signOut();
      error.textContent =
        failure.status === 401 ? "That key was not accepted by the server." : failure.message;
      input.focus();
      return;
    }
    if (!can("view")) {
      const { name, role } = describe(identity());
      signOut();
      error.textContent = `The key of ${name} (${role}) may only call the analyze API; the Studio needs a key that may view projects.`;
      input.focus();
      return;
    }
    input.value = "";
    signOutReason = null;
    renderSignedIn();
    if (!window.location.hash || window.location.hash === "#/signin") window.location.hash = "#/projects";
    else route();
  });
  container.replaceChildren(form);
  input.focus();
}

async function route() {
  if (current) {
    current.controller.abort();
    if (current.dispose) current.dispose();
    current = null;
  }
  const container = main();
  renderSignedIn();
  if (!getKey()) {
    signInPage(container);
    return;
  }
  const hash = window.location.hash || "#/projects";
  const controller = new AbortController();
  current = { controller, dispose: null };
  const context = { signal: controller.signal, alive: () => !controller.signal.aborted };
  container.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  try {
    // A reloaded tab still has its key: ask again who it is (a 401 signs the tab out).
    if (!identity()) {
      await loadIdentity({ signal: controller.signal });
      if (!context.alive()) return;
      renderSignedIn();
    }
    const projectMatch = hash.match(/^#\/p\/([^/]+)\/([a-z]+)(?:\/(.*))?$/);
    markTeamLink(hash === "#/team");
    if (hash === "#/team") {
      renderNav(null);
      setTitle("Team");
      current.dispose = await teamPage(container, context);
    } else if (projectMatch) {
      const projectName = decodeURIComponent(projectMatch[1]);
      const page = PROJECT_PAGES.find(([slug]) => slug === projectMatch[2]);
      if (!page) throw new Error(`There is no page ${projectMatch[2]}.`);
      renderNav(projectName, page[0]);
      const project = await loadProject(projectName, { signal: controller.signal });
      if (!context.alive()) return;
      setTitle(`${page[1]} – ${projectName}`);
      const extra = projectMatch[3] ? decodeURIComponent(projectMatch[3]) : null;
      // A conversation project labels utterances (an intent and entity spans each).
      const render = page[0] === "label" && isConversation(project) ? utterancesPage : page[2];
      current.dispose = await render(container, { ...context, project, extra });
    } else {
      renderNav(null);
      setTitle("Projects");
      current.dispose = await projectsPage(container, context);
    }
  } catch (error) {
    // A 401 already brought the sign-in form back (studio:signed-out); a page left behind
    // must not cover it.
    if (error.name === "AbortError" || error.status === 401 || !context.alive()) return;
    showError(error);
    container.replaceChildren(
      h("div", { class: "card" }, h("h1", {}, "Something went wrong"), h("p", {}, error.message), h("a", { href: "#/projects" }, "Back to projects")),
    );
  }
}

document.getElementById("sign-out").addEventListener("click", () => {
  signOut("Signed out.");
  window.location.hash = "#/signin";
  route();
});

// api.js dispatches this on any 401 (the key was revoked, or its user disabled).
window.addEventListener("studio:signed-out", () => {
  // Requests in flight together may all answer 401: the first one signs out and says so.
  if (signOutReason) return;
  signOutReason = "Your key is no longer accepted (it was revoked, or your user was disabled); sign in again.";
  signOut(signOutReason, "error");
  route();
});
window.addEventListener("hashchange", route);
route();
