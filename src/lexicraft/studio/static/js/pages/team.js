// Team (#/team): an admin lists the server's users (role, status, created, keys), adds one with
// a role, changes a role, disables or enables, removes; opens a user's keys, makes one of a
// scope and revokes one. A new key is in the API's answer once: it is shown here once, in a
// field to copy, and kept nowhere (leaving the page or pressing Done forgets it).
//
// Everything goes through /language/lexicraft/users… (api/users.py, permission manageUsers);
// a key without that permission gets a message instead of the page, and asks nothing.

import { listAll, sendJson } from "../api.js";
import { can, describe, identity } from "../identity.js";
import { busy, emptyRow, field, formatDate, h, select, showMessage } from "../ui.js";

const USERS = "/language/lexicraft/users";

// domain/users.py's Role and Scope, with what each allows (the server decides; this only says).
const ROLES = [
  ["annotator", "annotator: reads and labels"],
  ["reviewer", "reviewer: labels and reviews"],
  ["admin", "admin: everything, the team included"],
];
const SCOPES = [
  ["full", "full: whatever the user's role allows"],
  ["authoring", "authoring: all but managing users"],
  ["runtime", "runtime: analyze only"],
];

function userPath(name, rest = "") {
  return `${USERS}/${encodeURIComponent(name)}${rest}`;
}

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

export async function teamPage(container, context) {
  const { signal } = context;
  if (!can("manageUsers")) {
    const { name, role } = describe(identity());
    container.replaceChildren(
      h(
        "div",
        { class: "card", id: "team-denied" },
        h("h1", {}, "Team"),
        h("p", {}, `Managing the team needs an admin's key. You are signed in as ${name} (${role}), which may not add people, change roles or make keys.`),
        h("p", { class: "muted" }, "Ask an admin of this server if you need a new key or another role."),
        h("a", { href: "#/projects" }, "Back to projects"),
      ),
    );
    return null;
  }
  const me = identity().userName;

  // Each user with their keys (GET …/keys per user: the list says nothing about keys).
  async function loadTeam() {
    const users = await listAll(USERS, { signal });
    const keys = await Promise.all(users.map((user) => listAll(userPath(user.name, "/keys"), { signal })));
    return users.map((user, index) => ({ user, keys: keys[index] }));
  }

  let team = await loadTeam();
  if (!context.alive()) return null;
  let openUser = null; // whose keys the keys panel shows

  async function reload() {
    team = await loadTeam();
    if (!context.alive()) return;
    if (openUser && !team.some((entry) => entry.user.name === openUser)) openUser = null;
    renderUsers();
    renderKeys();
  }

  // -- a new key, shown once --------------------------------------------------------------------
  const secretInput = h("input", { type: "text", id: "new-key-value", class: "mono secret", readonly: true, autocomplete: "off", spellcheck: "false" });
  const secretTitle = h("h2", { id: "new-key-title" });
  const secretNote = h("p", { id: "new-key-note" });
  const copyButton = h("button", { type: "button", id: "copy-new-key" }, "Copy");
  const doneButton = h("button", { type: "button", class: "secondary", id: "forget-new-key" }, "Done, I have copied it");
  const secretCard = h(
    "section",
    { class: "card new-key", id: "new-key", "aria-labelledby": "new-key-title", hidden: true },
    secretTitle,
    secretNote,
    h("div", { class: "secret-row" }, field("Key", secretInput, "send it as the Ocp-Apim-Subscription-Key header, or paste it at the Studio's sign-in"), copyButton),
    doneButton,
  );
  function showSecret(newKey, why) {
    secretTitle.textContent = `New key for ${newKey.userName}`;
    secretNote.replaceChildren(
      `${why} `,
      h("strong", {}, "Copy it now: you will not see it again."),
      " Lexicraft keeps only a hash of it; if it is lost, revoke it and make another.",
    );
    secretInput.value = newKey.key;
    secretCard.hidden = false;
    secretCard.scrollIntoView?.({ block: "nearest" });
    secretInput.focus();
    secretInput.select();
  }
  function forgetSecret() {
    secretInput.value = "";
    secretCard.hidden = true;
  }
  copyButton.addEventListener("click", async () => {
    secretInput.focus();
    secretInput.select();
    try {
      await navigator.clipboard.writeText(secretInput.value);
      showMessage("Key copied.", "success");
    } catch {
      // No clipboard access (an address that is not localhost or https): the key is selected.
      showMessage("The key is selected: press Ctrl+C (⌘C) to copy it.");
    }
  });
  doneButton.addEventListener("click", forgetSecret);

  // -- users ------------------------------------------------------------------------------------
  const usersBody = h("tbody");
  const usersSummary = h("span", { class: "muted", id: "team-summary" });
  function renderUsers() {
    usersSummary.textContent = plural(team.length, "user");
    usersBody.replaceChildren();
    if (!team.length) usersBody.append(emptyRow(6, "No users yet. Add one below; until then only machine keys (LEXICRAFT_API_KEY, lexicraft keys create) sign in."));
    for (const { user, keys } of team) usersBody.append(userRow(user, keys));
  }

  function userRow(user, keys) {
    const name = user.name;
    const active = keys.filter((key) => !key.revokedDateTime).length;
    const revoked = keys.length - active;
    const roleSelect = select(ROLES.map(([value]) => [value, value]), { value: user.role, class: "role-select", "aria-label": `Role of ${name}` });
    roleSelect.addEventListener("change", () =>
      busy(roleSelect, async () => {
        const role = roleSelect.value;
        try {
          await sendJson("PATCH", userPath(name), { role }, { signal });
        } catch (error) {
          roleSelect.value = user.role; // the server refused: show what is still true
          throw error;
        }
        showMessage(`${name} is now ${role}.`, "success");
        await reload();
      }),
    );
    const keysButton = h("button", { type: "button", class: "secondary small", "aria-expanded": String(openUser === name), "aria-controls": "keys-panel" }, "Keys");
    keysButton.addEventListener("click", () => {
      openUser = openUser === name ? null : name;
      renderUsers();
      renderKeys();
      if (openUser) keysPanel.scrollIntoView?.({ block: "nearest" });
    });
    const toggle = h("button", { type: "button", class: "secondary small" }, user.disabled ? "Enable" : "Disable");
    toggle.addEventListener("click", () =>
      busy(toggle, async () => {
        if (!user.disabled && !window.confirm(`Disable ${name}? Their keys stop working at once; enable them again to give them back.`)) return;
        await sendJson("PATCH", userPath(name), { disabled: !user.disabled }, { signal });
        showMessage(`${name} is ${user.disabled ? "enabled" : "disabled"}.`, "success");
        await reload();
      }),
    );
    const remove = h("button", { type: "button", class: "danger small" }, "Remove");
    remove.addEventListener("click", () =>
      busy(remove, async () => {
        if (!window.confirm(`Remove ${name}? Their ${plural(keys.length, "key")} stop working and are deleted. The history of what they labeled keeps their name.`)) return;
        await sendJson("DELETE", userPath(name), undefined, { signal });
        showMessage(`Removed ${name}.`, "success");
        await reload();
      }),
    );
    return h(
      "tr",
      { dataset: { user: name } },
      h("th", { scope: "row", class: "user-cell" }, name, name === me ? h("span", { class: "badge own" }, "you") : null),
      h("td", {}, roleSelect),
      h("td", { class: "user-status" }, user.disabled ? h("span", { class: "badge bad", title: `since ${formatDate(user.disabledDateTime)}` }, "disabled") : h("span", { class: "badge ok" }, "active")),
      h("td", {}, formatDate(user.createdDateTime)),
      h("td", { class: "num key-count" }, String(active), revoked ? h("span", { class: "muted small" }, ` (+${revoked} revoked)`) : null),
      h("td", { class: "actions" }, keysButton, toggle, remove),
    );
  }

  const newName = h("input", { type: "text", id: "new-user-name", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9._@\\-]{0,63}", autocomplete: "off", spellcheck: "false" });
  const newRole = select(ROLES, { id: "new-user-role", value: "annotator" });
  const addButton = h("button", { type: "submit", id: "add-user" }, "Add user");
  const addForm = h(
    "form",
    { class: "card", id: "add-user-form", "aria-labelledby": "add-user-title" },
    h("h2", { id: "add-user-title" }, "Add a user"),
    h("div", { class: "row" }, field("Name", newName, "letters, digits, . _ @ -"), field("Role", newRole), addButton),
    h("p", { class: "muted small" }, "The new user gets a first key (scope full), shown once here."),
  );
  addForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(addButton, async () => {
      const name = newName.value.trim();
      const created = await sendJson("POST", USERS, { name, role: newRole.value }, { signal });
      newName.value = "";
      openUser = created.name;
      await reload();
      showSecret(created.newKey, `${created.name} (${created.role}) can sign in with this key.`);
    });
  });

  // -- one user's keys --------------------------------------------------------------------------
  const keysTitle = h("h2", { id: "keys-title" });
  const keysBody = h("tbody");
  const keyName = h("input", { type: "text", id: "new-key-name", autocomplete: "off", maxlength: "100" });
  const keyScope = select(SCOPES, { id: "new-key-scope", value: "full" });
  const createKey = h("button", { type: "submit", id: "create-key" }, "Create key");
  const keyForm = h(
    "form",
    { id: "create-key-form", "aria-labelledby": "create-key-title" },
    h("h3", { id: "create-key-title" }, "Create a key"),
    h("div", { class: "row" }, field("Key name", keyName, "optional: defaults to the user's name"), field("Scope", keyScope), createKey),
  );
  keyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = openUser;
    busy(createKey, async () => {
      const body = { scope: keyScope.value };
      if (keyName.value.trim()) body.name = keyName.value.trim();
      const created = await sendJson("POST", userPath(name, "/keys"), body, { signal });
      keyName.value = "";
      await reload();
      showSecret(created, `Key ${created.id} (${created.name}, scope ${created.scope}).`);
    });
  });
  const keysPanel = h(
    "section",
    { class: "card", id: "keys-panel", "aria-labelledby": "keys-title", hidden: true },
    keysTitle,
    h(
      "table",
      { id: "keys-table" },
      h("caption", { class: "muted small" }, "Only each key's first characters are kept in the clear; the server never shows a key again."),
      h("thead", {}, h("tr", {}, ["ID", "Name", "Starts with", "Scope", "Created", "Status", ""].map((text) => h("th", { scope: "col" }, text || h("span", { class: "visually-hidden" }, "Actions"))))),
      keysBody,
    ),
    keyForm,
  );

  function renderKeys() {
    const entry = team.find((item) => item.user.name === openUser);
    keysPanel.hidden = !entry;
    if (!entry) return;
    keysTitle.textContent = `Keys of ${entry.user.name}`;
    keysBody.replaceChildren();
    if (!entry.keys.length) keysBody.append(emptyRow(7, "No keys: create one below."));
    for (const key of entry.keys) keysBody.append(keyRow(entry.user.name, key));
  }

  function keyRow(userName, key) {
    const revoke = key.revokedDateTime ? null : h("button", { type: "button", class: "danger small" }, "Revoke");
    if (revoke) {
      revoke.addEventListener("click", () =>
        busy(revoke, async () => {
          if (!window.confirm(`Revoke key ${key.id} (${key.name}) of ${userName}? Anything using it is refused from now on; this cannot be undone.`)) return;
          await sendJson("DELETE", userPath(userName, `/keys/${key.id}`), undefined, { signal });
          showMessage(`Revoked key ${key.id} of ${userName}.`, "success");
          await reload();
        }),
      );
    }
    return h(
      "tr",
      { dataset: { key: String(key.id) } },
      h("td", { class: "num" }, String(key.id)),
      h("td", { class: "key-name" }, key.name),
      h("td", { class: "mono" }, `${key.prefix}…`),
      h("td", {}, key.scope),
      h("td", {}, formatDate(key.createdDateTime)),
      h("td", { class: "key-status" }, key.revokedDateTime ? h("span", { class: "badge bad" }, `revoked ${formatDate(key.revokedDateTime)}`) : h("span", { class: "badge ok" }, "active")),
      h("td", { class: "actions" }, revoke),
    );
  }

  renderUsers();
  renderKeys();
  container.replaceChildren(
    h("div", { class: "page-head" }, h("h1", {}, "Team"), usersSummary),
    secretCard,
    h(
      "div",
      { class: "card" },
      h(
        "table",
        { id: "users-table" },
        h("caption", { class: "muted small" }, "Roles: admin does everything, annotator reads and labels, reviewer labels and reviews. A key's scope can narrow it further."),
        h("thead", {}, h("tr", {}, ["Name", "Role", "Status", "Created", "Active keys", ""].map((text) => h("th", { scope: "col", class: text === "Active keys" ? "num" : null }, text || h("span", { class: "visually-hidden" }, "Actions"))))),
        usersBody,
      ),
    ),
    addForm,
    keysPanel,
  );
  // Leaving the page forgets a key still shown.
  return () => forgetSecret();
}
