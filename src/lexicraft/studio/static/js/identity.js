// Who is signed in: the key's user (name, role) or machine key (name, scope), and what it may do.
//
// GET /language/lexicraft/me answers for the key in this tab. Its permissions go on <html
// data-can="view label …">: css/team.css hides every control marked data-needs="author" (or
// another permission) that the key does not have. The server checks every request anyway;
// hiding only spares a user buttons that would answer 403.

import { getJson } from "./api.js";

export const ME = "/language/lexicraft/me";

let current = null;

function apply() {
  document.documentElement.dataset.can = current ? current.permissions.join(" ") : "";
}

// Ask the server who the key is (checkingKey: a 401 is the caller's to report).
export async function loadIdentity({ signal, checkingKey = false } = {}) {
  current = await getJson(ME, { signal, checkingKey });
  apply();
  return current;
}

export function identity() {
  return current;
}

export function forgetIdentity() {
  current = null;
  apply();
}

export function can(permission) {
  return Boolean(current && current.permissions.includes(permission));
}

// "ana" and "annotator" for a user's key; the key's name and "<scope> key" for a machine key.
export function describe(who) {
  if (who.userName) return { name: who.userName, role: who.role };
  return { name: who.keyName, role: `${who.scope} key` };
}
