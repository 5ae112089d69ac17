// Deployments: deploy a trained model under a name (or redeploy), swap two deployments, delete.
// The model picker offers the newest model first.

import { isConversation, listAll, projectPath, runJob, versionQuery } from "../api.js";
import { busy, emptyRow, field, formatDate, h, select, showMessage } from "../ui.js";

export async function deploymentsPage(container, context) {
  const { project, signal } = context;
  const projectName = project.projectName;
  const body = h("tbody");
  const modelSelect = select([], { id: "deploy-model" });
  const firstSelect = select([], { id: "swap-first" });
  const secondSelect = select([], { id: "swap-second" });
  let models = [];

  async function load() {
    const [deployments, freshModels] = await Promise.all([
      listAll(projectPath(project, "/deployments"), { query: versionQuery, signal }),
      listAll(projectPath(project, "/models"), { query: versionQuery, signal }),
    ]);
    models = freshModels;
    const modelLabel = new Map(models.map((model) => [model.modelId, model.label]));
    body.replaceChildren();
    if (!deployments.length) body.append(emptyRow(5, "Nothing deployed yet."));
    for (const deployment of deployments) {
      const name = deployment.deploymentName;
      const deleteButton = h("button", { type: "button", class: "danger small", "aria-label": `Delete deployment ${name}`, "data-needs": "author" }, "Delete");
      deleteButton.addEventListener("click", () =>
        busy(deleteButton, async () => {
          if (!window.confirm(`Delete deployment ${name}? Calls to it will fail.`)) return;
          await runJob("DELETE", projectPath(project, `/deployments/${encodeURIComponent(name)}`), { signal });
          showMessage(`Deleted deployment ${name}.`, "success");
          await load();
        }),
      );
      body.append(
        h(
          "tr",
          { dataset: { deployment: name } },
          h("td", {}, h("strong", {}, name)),
          h("td", { class: "model" }, modelLabel.get(deployment.modelId) || "?", h("div", { class: "muted small mono" }, deployment.modelId)),
          h("td", {}, formatDate(deployment.lastDeployedDateTime)),
          h("td", {}, deployment.deploymentExpirationDate),
          h(
            "td",
            { class: "actions" },
            h("a", { class: "button secondary small", href: `#/p/${encodeURIComponent(projectName)}/test` }, "Test"),
            deleteButton,
          ),
        ),
      );
    }
    const fill = (element, options) => {
      const previous = element.value;
      element.replaceChildren(...options.map(([value, text]) => h("option", { value }, text)));
      if (options.some(([value]) => value === previous)) element.value = previous;
    };
    // Newest first, so the model just trained is the one offered.
    const newest = [...models].sort((a, b) => String(b.lastTrainedDateTime).localeCompare(String(a.lastTrainedDateTime)));
    fill(modelSelect, newest.map((model) => [model.label, `${model.label} (trained ${formatDate(model.lastTrainedDateTime)})`]));
    const names = deployments.map((deployment) => [deployment.deploymentName, deployment.deploymentName]);
    fill(firstSelect, names);
    fill(secondSelect, names);
    if (names.length > 1 && firstSelect.value === secondSelect.value) secondSelect.value = names[1][0];
    swapButton.disabled = names.length < 2;
    deployButton.disabled = !models.length;
  }

  const nameInput = h("input", { type: "text", id: "deployment-name", required: true, value: "production", autocomplete: "off", pattern: "[A-Za-z0-9_.\\-]{1,100}" });
  const deployButton = h("button", { type: "submit", id: "deploy" }, "Deploy");
  const deployForm = h(
    "form",
    { class: "card", "aria-labelledby": "deploy-title", "data-needs": "author" },
    h("h2", { id: "deploy-title" }, "Deploy a model"),
    h("p", { class: "muted small" }, "Deploying under an existing name replaces the model it serves."),
    h("div", { class: "row" }, field("Deployment name", nameInput), field("Trained model", modelSelect), h("div", { class: "field" }, deployButton)),
  );
  deployForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(deployButton, async () => {
      const name = nameInput.value.trim();
      await runJob("PUT", projectPath(project, `/deployments/${encodeURIComponent(name)}`), {
        body: { trainedModelLabel: modelSelect.value },
        signal,
      });
      showMessage(`Deployed ${modelSelect.value} as ${name}.`, "success");
      await load();
    });
  });

  const swapButton = h("button", { type: "submit", id: "swap", class: "secondary" }, "Swap");
  const swapForm = h(
    "form",
    { class: "card", "aria-labelledby": "swap-title", "data-needs": "author" },
    h("h2", { id: "swap-title" }, "Swap two deployments"),
    h("p", { class: "muted small" }, "Each deployment serves the other's model afterwards, in one step."),
    h("div", { class: "row" }, field("First", firstSelect), field("Second", secondSelect), h("div", { class: "field" }, swapButton)),
  );
  swapForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(swapButton, async () => {
      await runJob("POST", projectPath(project, "/deployments/:swap"), {
        body: { firstDeploymentName: firstSelect.value, secondDeploymentName: secondSelect.value },
        signal,
      });
      showMessage(`Swapped ${firstSelect.value} and ${secondSelect.value}.`, "success");
      await load();
    });
  });

  await load();
  if (!context.alive()) return null;
  container.replaceChildren(
    h("div", { class: "page-head" }, h("h1", {}, "Deployments"), h("span", { class: "muted" }, isConversation(project) ? "Named deployments answer POST /language/:analyze-conversations" : "Named deployments answer POST /language/analyze-text/jobs")),
    h(
      "section",
      { class: "card" },
      h("table", { id: "deployments-table" }, h("thead", {}, h("tr", {}, ["Deployment", "Model", "Deployed", "Expires", ""].map((title) => h("th", { scope: "col" }, title)))), body),
    ),
    h("div", { class: "grid-2" }, deployForm, swapForm),
  );
  return null;
}
