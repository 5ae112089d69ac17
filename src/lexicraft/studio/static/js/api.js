// Talking to the server's public API: the key, JSON requests, long-running jobs, analyze.
//
// The Studio is a client of the same HTTP API that SDKs use: authoring routes for projects,
// training and deployments, the runtime analyze-text jobs for predictions, and the Lexicraft
// labeling routes for single documents. Every request goes to this page's own origin.

export const API_VERSION = "2023-04-01";
export const AUTHORING = "/language/authoring/analyze-text/projects";
export const CONVERSATIONS = "/language/authoring/analyze-conversations/projects";
export const ANALYZE_CONVERSATIONS = "/language/:analyze-conversations";
export const LABELING = "/language/lexicraft/projects";
export const ANALYZE_JOBS = "/language/analyze-text/jobs";
// The training config version a request naming none trains with (a Lexicraft route).
export const DEFAULT_CONFIG = "/language/lexicraft/training-config-versions/default";

const KEY_ITEM = "lexicraft.subscriptionKey";
const TERMINAL = new Set(["succeeded", "failed", "cancelled", "partiallyCompleted"]);

// The runtime limits of one analyze request (spec §4): 25 documents, 125,000 characters.
export const ANALYZE_MAX_DOCUMENTS = 25;
export const ANALYZE_MAX_CHARACTERS = 125000;

export const PROJECT_KINDS = {
  CustomEntityRecognition: "Custom named entity recognition",
  CustomSingleLabelClassification: "Single-label classification",
  CustomMultiLabelClassification: "Multi-label classification",
  Conversation: "Conversational language understanding",
};

export function isNer(project) {
  return project.projectKind === "CustomEntityRecognition";
}

export function isConversation(project) {
  return project.projectKind === "Conversation";
}

// The authoring API a project lives under: custom text (analyze-text) or CLU
// (analyze-conversations); each answers 404 for the other's projects.
export function familyOf(projectOrKind) {
  const kind = typeof projectOrKind === "string" ? projectOrKind : projectOrKind.projectKind;
  return kind === "Conversation" ? CONVERSATIONS : AUTHORING;
}

// -- the key: kept for this browser tab only --------------------------------------------------

export function getKey() {
  return sessionStorage.getItem(KEY_ITEM);
}

export function setKey(key) {
  sessionStorage.setItem(KEY_ITEM, key);
}

export function clearKey() {
  sessionStorage.removeItem(KEY_ITEM);
}

// -- requests ------------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `The server answered ${status}.`);
    this.status = status;
    this.code = error.code || String(status);
    this.innerCode = error.innererror ? error.innererror.code : null;
    // The errors this one sums up, e.g. each invalid record of an imported file ({line, message}).
    this.details = error.details || [];
  }
}

// A URL on this page's origin. Operation-Location and nextLink are absolute URLs named after the
// Host the server was asked on; behind a proxy that can differ from what the browser sees, so
// only their path and query are used.
function ownUrl(pathOrUrl, query) {
  const given = new URL(pathOrUrl, window.location.origin);
  const url = new URL(given.pathname + given.search, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null) url.searchParams.set(name, value);
  }
  return url;
}

// A key over its rate limit gets a 429 saying when to retry (Retry-After, in seconds): the
// request is sent again then, a few times, as Azure's SDKs do.
const THROTTLED_RETRIES = 3;
const MAX_RETRY_AFTER_S = 60;

// A 401 signs the tab out (the key was revoked) unless the caller is checking a key itself.
export async function request(method, path, { body, query, signal, checkingKey = false } = {}) {
  const key = getKey();
  const headers = { "Ocp-Apim-Subscription-Key": key || "" };
  const init = { method, headers, signal };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response = await fetch(ownUrl(path, query), init);
  for (let retry = 0; response.status === 429 && retry < THROTTLED_RETRIES; retry += 1) {
    const seconds = Number(response.headers.get("Retry-After")) || 1;
    await sleep(Math.min(seconds, MAX_RETRY_AFTER_S) * 1000, signal);
    response = await fetch(ownUrl(path, query), init);
  }
  if (response.status === 401 && !checkingKey) {
    clearKey();
    window.dispatchEvent(new CustomEvent("studio:signed-out"));
  }
  if (!response.ok) {
    let parsed = null;
    try {
      parsed = await response.json();
    } catch {
      parsed = null;
    }
    throw new ApiError(response.status, parsed);
  }
  return response;
}

export async function getJson(path, options = {}) {
  const response = await request("GET", path, options);
  return response.json();
}

export async function sendJson(method, path, body, options = {}) {
  const response = await request(method, path, { ...options, body });
  if (response.status === 204 || response.status === 202) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

// Every page of a paged list ({"value": [...], "nextLink": …}), for what the pages say besides
// their items (the labeling list's counts).
export async function listPages(path, options = {}) {
  const pages = [];
  let next = path;
  let query = options.query;
  while (next) {
    const page = await getJson(next, { ...options, query });
    pages.push(page);
    next = page.nextLink || null;
    query = undefined; // nextLink carries its own query.
  }
  return pages;
}

// Every item of a paged list.
export async function listAll(path, options = {}) {
  const pages = await listPages(path, options);
  return pages.flatMap((page) => page.value || []);
}

export function authoringPath(projectName, rest = "") {
  return `${AUTHORING}/${encodeURIComponent(projectName)}${rest}`;
}

// A project's authoring path in its own family.
export function projectPath(project, rest = "") {
  return `${familyOf(project)}/${encodeURIComponent(project.projectName)}${rest}`;
}

// A project's metadata from whichever family holds it (the Studio's route names it: each
// authoring API answers 404 for the other's projects).
export async function loadProject(projectName, { signal } = {}) {
  const found = await getJson(labelingPath(projectName), { signal });
  return getJson(found.authoringPath, { query: versionQuery, signal });
}

export function labelingPath(projectName, rest = "") {
  return `${LABELING}/${encodeURIComponent(projectName)}${rest}`;
}

export function documentPath(projectName, location) {
  // Locations may contain folders ("a/b.txt"); keep their slashes, escape the rest.
  const escaped = location.split("/").map(encodeURIComponent).join("/");
  return labelingPath(projectName, `/documents/${escaped}`);
}

export const versionQuery = { "api-version": API_VERSION };

// -- long-running operations -------------------------------------------------------------------

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    if (signal) {
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new DOMException("aborted", "AbortError"));
      });
    }
  });

// Send a request answered by 202 and return its Operation-Location.
export async function startJob(method, path, { body, query, signal } = {}) {
  const response = await request(method, path, { body, query: { ...versionQuery, ...query }, signal });
  const location = response.headers.get("Operation-Location");
  if (!location) throw new Error(`${method} ${path} did not return an Operation-Location.`);
  return location;
}

// Poll a job until it is terminal; onUpdate sees every state.
export async function waitJob(location, { onUpdate, signal, intervalMs = 400 } = {}) {
  for (;;) {
    const state = await getJson(location, { signal });
    if (onUpdate) onUpdate(state);
    if (TERMINAL.has(state.status)) return state;
    await sleep(intervalMs, signal);
  }
}

export function jobErrorMessage(state) {
  const errors = state.errors || [];
  const messages = errors.map((error) => error.message).filter(Boolean);
  return messages.length ? messages.join(" ") : `The job ended ${state.status}.`;
}

// Start a job and wait for it; throws unless it succeeded.
export async function runJob(method, path, options = {}) {
  const location = await startJob(method, path, options);
  const state = await waitJob(location, options);
  if (state.status !== "succeeded") throw new Error(jobErrorMessage(state));
  return state;
}

// -- runtime predictions ------------------------------------------------------------------------

// One utterance through POST /language/:analyze-conversations (synchronous; offsets in code
// points). Returns the whole response body.
export async function analyzeConversation(project, deploymentName, text, { language, signal } = {}) {
  return sendJson(
    "POST",
    ANALYZE_CONVERSATIONS,
    {
      kind: "Conversation",
      analysisInput: {
        conversationItem: { id: "1", participantId: "studio", text, language: language || project.language },
      },
      parameters: {
        projectName: project.projectName,
        deploymentName,
        stringIndexType: "UnicodeCodePoint",
        verbose: true,
      },
    },
    { query: versionQuery, signal },
  );
}

const TASK_RESULT_KEY = {
  CustomEntityRecognition: "entities",
  CustomSingleLabelClassification: "class",
  CustomMultiLabelClassification: "class",
};

// Batches of at most 25 documents and 125,000 characters (counted in UTF-16 units, which is
// never fewer than the text elements the server counts).
function batches(documents) {
  const result = [];
  let current = [];
  let characters = 0;
  for (const document of documents) {
    const size = document.text.length;
    if (current.length && (current.length >= ANALYZE_MAX_DOCUMENTS || characters + size > ANALYZE_MAX_CHARACTERS)) {
      result.push(current);
      current = [];
      characters = 0;
    }
    current.push(document);
    characters += size;
  }
  if (current.length) result.push(current);
  return result;
}

// Run a deployment over texts through POST /language/analyze-text/jobs (offsets in code points).
// Returns {jobs: [raw job JSON…], results: Map(index → document result), errors: Map(index → error)}.
export async function analyze(project, deploymentName, texts, { language, signal, onProgress } = {}) {
  const kind = project.projectKind;
  const parameters = { projectName: project.projectName, deploymentName };
  if (kind === "CustomEntityRecognition") parameters.stringIndexType = "UnicodeCodePoint";
  const documents = texts.map((text, index) => ({
    id: String(index),
    text,
    language: language || project.language,
  }));
  const jobs = [];
  const results = new Map();
  const errors = new Map();
  let done = 0;
  for (const batch of batches(documents)) {
    const location = await startJob("POST", ANALYZE_JOBS, {
      signal,
      body: {
        displayName: "Lexicraft Studio",
        analysisInput: { documents: batch },
        tasks: [{ kind, taskName: "studio", parameters }],
      },
    });
    const state = await waitJob(location, { signal, intervalMs: 250 });
    jobs.push(state);
    const item = state.tasks && state.tasks.items && state.tasks.items[0];
    if (state.status !== "succeeded" || !item || !item.results) {
      throw new Error(jobErrorMessage(state));
    }
    for (const document of item.results.documents) {
      results.set(Number(document.id), document[TASK_RESULT_KEY[kind]] || []);
    }
    for (const failure of item.results.errors || []) {
      errors.set(Number(failure.id), failure.error);
    }
    done += batch.length;
    if (onProgress) onProgress(done, documents.length);
  }
  return { jobs, results, errors };
}
