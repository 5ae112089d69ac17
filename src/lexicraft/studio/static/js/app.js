// The Studio shell: sign in, the project navigation, and hash routes to the pages.

import { AUTHORING, clearKey, getJson, getKey, isConversation, loadProject, setKey, versionQuery } from "./api.js";
import { field, h, showError, showMessage } from "./ui.js";
import { projectsPage } from "./pages/projects.js";
import { labelingPage } from "./pages/labeling.js";
import { utterancesPage } from "./pages/utterances.js";
import { trainingPage } from "./pages/training.js";
import { evaluationPage } from "./pages/evaluation.js";
import { deploymentsPage } from "./pages/deployments.js";
import { testPage } from "./pages/test.js";

const PROJECT_PAGES = [
  ["label", "Labeling", labelingPage],
  ["train", "Training", trainingPage],
  ["evaluate", "Evaluation", evaluationPage],
  ["deploy", "Deployments", deploymentsPage],
  ["test", "Test", testPage],
];

let current = null; // {controller, dispose}

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

function renderSignedIn() {
  const key = getKey();
  document.getElementById("sign-out").hidden = !key;
  document.getElementById("signed-in-as").textContent = key ? `Key …${key.slice(-4)}` : "";
}

function signInPage(container) {
  setTitle("Sign in");
  renderNav(null);
  const input = h("input", {
    type: "password",
    id: "api-key",
    autocomplete: "off",
    required: true,
    spellcheck: "false",
  });
  const error = h("p", { class: "error-text", role: "alert" });
  const form = h(
    "form",
    { class: "card sign-in", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in to Lexicraft Studio"),
    h(
      "p",
      { class: "muted" },
      "Enter a subscription key of this server (lexicraft keys create). It is kept in this browser tab only and sent as Ocp-Apim-Subscription-Key.",
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
      await getJson(AUTHORING, { query: versionQuery, checkingKey: true });
    } catch (failure) {
      clearKey();
      error.textContent =
        failure.status === 401 ? "That key was not accepted by the server." : failure.message;
      input.focus();
      return;
    }
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
    const projectMatch = hash.match(/^#\/p\/([^/]+)\/([a-z]+)(?:\/(.*))?$/);
    if (projectMatch) {
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
    if (error.name === "AbortError") return;
    showError(error);
    container.replaceChildren(
      h("div", { class: "card" }, h("h1", {}, "Something went wrong"), h("p", {}, error.message), h("a", { href: "#/projects" }, "Back to projects")),
    );
  }
}

document.getElementById("sign-out").addEventListener("click", () => {
  clearKey();
  showMessage("Signed out.");
  window.location.hash = "#/signin";
  route();
});

window.addEventListener("studio:signed-out", () => {
  showMessage("The server did not accept the key; sign in again.", "error");
  route();
});
window.addEventListener("hashchange", route);
route();
