// Small DOM helpers shared by the pages.

let nextId = 0;

// A unique element id with a readable prefix.
export function uid(prefix = "f") {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

// h("button", {class: "x", onclick: fn, dataset: {a: 1}}, "text", child, [more]) → element.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "text") element.textContent = value;
    else if (name in element && typeof value !== "string") element[name] = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// A labelled control: <div class="field"><label for=…>text <span class="hint"></span></label>control</div>.
export function field(labelText, control, hint) {
  if (!control.id) control.id = uid("field");
  return h(
    "div",
    { class: "field" },
    h("label", { for: control.id }, labelText, hint ? h("span", { class: "hint" }, ` ${hint}`) : null),
    control,
  );
}

export function select(options, { value, ...attributes } = {}) {
  const element = h(
    "select",
    attributes,
    options.map(([optionValue, text]) => h("option", { value: optionValue }, text)),
  );
  if (value !== undefined) element.value = value;
  return element;
}

// -- messages -----------------------------------------------------------------------------------

const MESSAGE_MS = { info: 3500, success: 2500, error: 8000 };
const MAX_MESSAGES = 3;

// A short message at the bottom right; errors stay longer and are announced as alerts.
export function showMessage(text, kind = "info", ms = MESSAGE_MS[kind] || 3500) {
  const area = document.getElementById("status");
  const dismiss = h("button", { type: "button", class: "dismiss", "aria-label": "Dismiss message" }, "×");
  const message = h("div", { class: `message ${kind}`, role: kind === "error" ? "alert" : null }, h("span", {}, text), dismiss);
  dismiss.addEventListener("click", () => message.remove());
  area.append(message);
  while (area.children.length > MAX_MESSAGES) area.firstElementChild.remove();
  setTimeout(() => message.remove(), ms);
  return message;
}

export function showError(error) {
  if (error && error.name === "AbortError") return;
  console.error(error);
  showMessage(error && error.message ? error.message : String(error), "error");
}

// Replace element's children, skipping null / false (replaceChildren would print "null").
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

// Replace container's content; re-rendering replaces the elements, so keyboard focus goes back
// to the new element with the id the focused one had.
export function replaceKeepingFocus(container, ...children) {
  const focused = window.document.activeElement;
  const focusedId = focused && container.contains(focused) ? focused.id : "";
  container.replaceChildren(...children);
  if (focusedId) {
    const again = window.document.getElementById(focusedId);
    if (again) again.focus({ preventScroll: true });
  }
}

// Run an async action from a button: disable it meanwhile, report errors.
export async function busy(button, action) {
  const wasDisabled = button.disabled;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await action();
  } catch (error) {
    showError(error);
    return undefined;
  } finally {
    button.disabled = wasDisabled;
    button.removeAttribute("aria-busy");
  }
}

// -- formatting ---------------------------------------------------------------------------------

export function formatDate(value) {
  if (!value) return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function percent(value, digits = 1) {
  return `${(Number(value || 0) * 100).toFixed(digits)}%`;
}

export function score(value) {
  return Number(value || 0).toFixed(2);
}

// Offer obj as a JSON file download (built in the page: no request leaves it).
export function downloadJson(fileName, obj) {
  const blob = new Blob([JSON.stringify(obj, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: fileName, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function emptyRow(columns, text) {
  return h("tr", {}, h("td", { colspan: String(columns), class: "empty" }, text));
}
