// The goldsmith annotation page: one vanilla ES module, no build step, no dependencies.
//
// Flow: GET /queue/next -> show the item -> keys and clicks edit `S.values` (API form) ->
// drafts are PUT after a pause -> Enter PUTs status "submitted" and loads the next item.
// Offsets: the DOM counts UTF-16 code units, the API counts Python code points. `OffsetMap`
// converts at the boundary; everything stored in `S.values` is in code points.

const $ = (sel, root = document) => root.querySelector(sel);

/** Build an element. Children are nodes or strings (always text, never HTML). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "style") for (const [prop, val] of Object.entries(v)) node.style.setProperty(prop, val); // CSP: no style attributes
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(2)) if (c != null && c !== false) node.append(c);
  return node;
}

// ----------------------------------------------------------------------------- task and keys

const task = JSON.parse($("#task").textContent);
const CSRF = $('meta[name="csrf-token"]')?.content ?? "";
const KEYS = { submit: "Enter", skip: "s", back: "Backspace", help: "?", ...(task.keys || {}) };
const LABEL_KEYS = KEYS.labels || {};
const MULTI = task.questions.length > 1;
const DRAFT_DELAY_MS = 800;
const NAMES = { " ": "Space", ArrowLeft: "←", ArrowRight: "→", ArrowUp: "↑", ArrowDown: "↓" };
const keyName = (k) => NAMES[k] ?? k;
const mod = /Mac|iPhone|iPad/.test(navigator.platform) ? "⌘" : "Ctrl";

/** Does the key event `e` press `key` (a KeyboardEvent.key name; letters match either case)? */
function matches(e, key) {
  if (!key) return false;
  const k = e.key === " " ? "Space" : e.key;
  return k === key || (/^[a-z]$/i.test(key) && k.toLowerCase() === key.toLowerCase());
}

/** Keys of a question's labels: `keys.labels[label]`, else its position (1-9, then 0) or,
 * when another action holds that key, the next free digit. */
function labelKeys(labels) {
  const taken = new Set([KEYS.submit, KEYS.skip, KEYS.back, KEYS.help, ...labels.map((l) => LABEL_KEYS[l])]);
  const digits = [..."1234567890"];
  return labels.map((l, j) => {
    const key = LABEL_KEYS[l] ?? [...digits.slice(j), ...digits.slice(0, j)].find((d) => !taken.has(d)) ?? null;
    taken.add(key);
    return key;
  });
}
const hue = (j) => Math.round((205 + j * 137.508) % 360);
const titleOf = (q) => q.title || q.name;

// ----------------------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, code, message) { super(message); Object.assign(this, { status, code }); }
}

async function api(method, path, body, { keepalive = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = CSRF;
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method, headers, keepalive, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", "Could not reach the server. Check the connection and try again.");
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = data?.error ?? {};
    throw new ApiError(res.status, err.code ?? `http_${res.status}`, err.message ?? res.statusText);
  }
  return data;
}

// ----------------------------------------------------------------------------- offsets

const ASTRAL = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

/** Converts between UTF-16 offsets (DOM) and code-point offsets (API) for one text. */
class OffsetMap {
  constructor(text) {
    this.astral = []; // UTF-16 index of every surrogate pair, ascending
    for (const m of text.matchAll(ASTRAL)) this.astral.push(m.index);
  }
  #below(v, f) { // the number of k with f(astral[k], k) < v, by bisection (f grows with k)
    let [lo, hi] = [0, this.astral.length];
    while (lo < hi) { const mid = (lo + hi) >> 1; if (f(this.astral[mid], mid) < v) lo = mid + 1; else hi = mid; }
    return lo;
  }
  toCp(u) { return u - this.#below(u, (x) => x); }
  toU16(cp) { return cp + this.#below(cp, (x, k) => x - k); }
}

const isHigh = (c) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c) => c >= 0xdc00 && c <= 0xdfff;
/** Move a UTF-16 offset by one code point, never into the middle of a surrogate pair. */
function step(text, i, dir) {
  if (dir > 0) return i >= text.length ? i : i + (isHigh(text.charCodeAt(i)) && isLow(text.charCodeAt(i + 1)) ? 2 : 1);
  return i <= 0 ? 0 : i - (isLow(text.charCodeAt(i - 1)) && isHigh(text.charCodeAt(i - 2)) ? 2 : 1);
}
const WORD = /[\p{L}\p{N}\p{M}_]/u;
function wordStep(text, i, dir) {
  const wordAt = (j) => WORD.test(String.fromCodePoint(text.codePointAt(j)));
  const at = (j) => (dir > 0 ? j < text.length && wordAt(j) : j > 0 && wordAt(step(text, j, -1)));
  const end = dir > 0 ? text.length : 0;
  while (i !== end && !at(i)) i = step(text, i, dir);
  while (i !== end && at(i)) i = step(text, i, dir);
  return i;
}
/** Snap a UTF-16 offset out of the middle of a surrogate pair (towards `dir`). */
const snap = (text, i, dir) => (isLow(text.charCodeAt(i)) && isHigh(text.charCodeAt(i - 1)) ? i + (dir > 0 ? 1 : -1) : i);

// ----------------------------------------------------------------------------- state

const S = {
  item: null, // the item on screen; null while loading or when the queue is empty
  from: "queue", // "queue" or "previous" (reached with Backspace)
  values: {}, // question name -> value, in API form
  active: 0, // index of the current question
  widgets: [],
  sections: [],
  fields: new Map(), // field name -> SpanField (text fields that spans are drawn on)
  shownAt: 0,
  busy: false,
  dirty: false,
  draftTimer: 0,
  saving: Promise.resolve(), // the draft PUT in flight; never rejects
};

const EMPTY = { label: () => null, rating: () => null, text: () => "", multilabel: () => [], spans: () => [], preference: () => [] };

function isEmpty(q, v) {
  if (q.kind === "text") return !v || !v.trim();
  if (q.kind === "preference") return !Array.isArray(v) || v.length < Math.max(2, candidates(q).length);
  if (q.kind === "multilabel" || q.kind === "spans") return false; // an empty list is an answer
  return v == null;
}

const suggestionsFor = (name) =>
  (S.item?.suggestions ?? []).filter((s) => s.question === name).sort((a, b) => (b.score ?? -1) - (a.score ?? -1));

/** A saved response wins; otherwise the best suggestion prefills each question. */
function initialValues(item) {
  const saved = item.response?.values;
  const out = {};
  for (const q of task.questions) {
    const v = saved ? saved[q.name] : suggestionsFor(q.name)[0]?.value;
    out[q.name] = v == null ? EMPTY[q.kind]() : structuredClone(v);
  }
  return out;
}

/** The values to send: unanswered single-value questions are left out. */
function payload() {
  const out = {};
  for (const q of task.questions) {
    const v = S.values[q.name];
    if (q.kind === "preference" ? v.length >= 2 : !isEmpty(q, v)) out[q.name] = v;
  }
  return out;
}

const canDraft = () => S.item && (!S.item.response || S.item.response.status === "draft");
const timeSpent = () =>
  Math.round(((S.item.response?.time_spent ?? 0) + (performance.now() - S.shownAt) / 1000) * 10) / 10;

// ----------------------------------------------------------------------------- messages

function showError(err) {
  const box = $("#error");
  let text = err.message || String(err);
  if (err.code === "conflict") text += ` Press ${keyName(KEYS.skip)} to skip this record.`;
  const more = err.status === 401 ? el("a", { href: "/login" }, "Log in again") : null;
  box.replaceChildren(el("span", {}, el("strong", {}, err.status === undefined ? "Not yet: " : "Error: "), text, more && " ", more));
}
const clearError = () => $("#error").replaceChildren();
let noteTimer = 0;
function note(text) { // a passing message in the polite status region
  $("#saved").textContent = text;
  clearTimeout(noteTimer);
  noteTimer = setTimeout(() => ($("#saved").textContent = ""), 4000);
}

// ----------------------------------------------------------------------------- drafts

/** Something changed: redraw the widgets and schedule a draft save. */
function changed() {
  S.dirty = true;
  for (const w of S.widgets) w.update();
  for (const f of S.fields.values()) f.render();
  if (canDraft()) { cancelDraft(); S.draftTimer = setTimeout(saveDraft, DRAFT_DELAY_MS); }
}

function cancelDraft() { clearTimeout(S.draftTimer); S.draftTimer = 0; }

function saveDraft(keepalive = false) {
  cancelDraft();
  if (!S.dirty || !canDraft()) return S.saving;
  const item = S.item;
  const body = { values: payload(), status: "draft", time_spent: timeSpent() };
  S.dirty = false;
  S.saving = S.saving
    .then(() => api("PUT", `/records/${item.record.id}/response`, body, { keepalive }))
    .then(
      (r) => { if (S.item === item) { item.response = r.response; note("Draft saved"); } },
      (e) => { if (S.item === item) { S.dirty = true; note(`Draft not saved: ${e.message}`); } },
    );
  return S.saving;
}
const flushDraft = () => (S.draftTimer ? saveDraft() : S.saving);
addEventListener("pagehide", () => S.draftTimer && saveDraft(true));

// ----------------------------------------------------------------------------- feedback

// Reviewers' decisions on records this user answered otherwise: shown once on load, until
// dismissed (button or Esc), which marks them seen on the server. `data-state` on the banner
// says "loaded" when the fetch is done and "seen" once the server has the dismissal.
const FB = { ids: [], box: null };

async function loadFeedback() {
  FB.box = el("section", { class: "feedback", id: "feedback", "aria-label": "Feedback from reviewers", hidden: true });
  $("#error").before(FB.box);
  try {
    const items = await api("GET", "/feedback");
    FB.ids = items.map((f) => f.id);
    if (items.length) renderFeedback(items);
  } catch {
    // informational: it stays unseen and shows again on the next visit
  }
  FB.box.dataset.state = "loaded";
}

function renderFeedback(items) {
  const head = el("div", { class: "feedback-head" },
    el("h2", {}, items.length === 1 ? "Feedback from a reviewer" : `Feedback from reviewers (${items.length})`),
    el("button", { type: "button", class: "ghost", id: "feedback-dismiss", onmousedown: keepSelection, onclick: dismissFeedback },
      "Dismiss ", el("kbd", {}, "Esc")));
  const list = el("ul", { class: "feedback-list" }, items.map((f) =>
    el("li", { "data-record": f.record_id },
      el("span", { class: "feedback-record" }, `Record ${f.record_id}`),
      el("span", { class: "feedback-message" }, f.message))));
  FB.box.replaceChildren(head, list);
  FB.box.setAttribute("role", "status");
  FB.box.hidden = false;
}

async function dismissFeedback() {
  const ids = FB.ids;
  if (!ids.length) return;
  FB.ids = [];
  FB.box.hidden = true;
  try {
    await api("POST", "/feedback/seen", { ids });
    FB.box.dataset.state = "seen";
  } catch (e) { // show it again so that it is not lost
    FB.ids = ids;
    FB.box.hidden = false;
    showError(e);
  }
}

// ----------------------------------------------------------------------------- navigation

/** Run one navigation action at a time; errors land in the alert and nothing is lost. */
async function run(fn) {
  if (S.busy) return;
  const busy = (on) => { S.busy = on; $("#app").setAttribute("aria-busy", String(on)); };
  busy(true);
  try { await fn(); } catch (e) { showError(e); } finally { busy(false); }
}

async function put(status) {
  cancelDraft();
  await S.saving; // a draft must never land after the final answer
  const body = { values: payload(), status, time_spent: timeSpent() };
  await api("PUT", `/records/${S.item.record.id}/response`, body);
  S.dirty = false;
}

async function loadNext() {
  const { item } = await api("GET", "/queue/next");
  show(item, "queue");
  refreshProgress();
}

const submit = () => run(async () => {
  if (!S.item) return;
  const missing = task.questions.findIndex((q) => q.required && isEmpty(q, S.values[q.name]));
  if (missing >= 0) {
    setActive(missing);
    throw Object.assign(new Error(`answer “${titleOf(task.questions[missing])}” before submitting.`), { code: "missing" });
  }
  await put("submitted");
  await loadNext();
});

const skip = () => run(async () => {
  if (!S.item) return;
  await put("discarded");
  await loadNext();
});

const back = () => run(async () => {
  await flushDraft();
  // with no record on screen (all done) the server returns the latest answered record
  const { item } = await api("GET", `/queue/previous${S.item ? `?before=${S.item.record.id}` : ""}`);
  if (item) show(item, "previous");
  else note("No earlier record to go back to.");
});

function show(item, from) {
  clearError();
  cancelDraft();
  S.item = item;
  S.from = from;
  $("#loading").hidden = true;
  $("#workspace").hidden = !item;
  $("#done").hidden = !!item;
  if (!item) {
    S.fields.clear();
    $("#record-meta").textContent = "";
    $("#done-title").focus?.();
    return;
  }
  S.values = initialValues(item);
  S.dirty = false;
  S.shownAt = performance.now();
  renderRecord();
  renderQuestions();
  renderMeta();
  scrollTo({ top: 0 });
  const open = task.questions.findIndex((q) => q.required && isEmpty(q, S.values[q.name]));
  setActive(Math.max(open, 0));
}

function renderMeta() {
  const { record, response } = S.item;
  const status = response?.status;
  const badge = S.from === "previous"
    ? `${status === "discarded" ? "skipped" : status ?? "answered"} earlier: ${keyName(KEYS.submit)} re-submits`
    : status === "draft" ? "draft" : "new";
  $("#record-meta").replaceChildren(el("span", {},
    `Record ${record.id}`,
    record.external_id ? el("span", { class: "muted" }, ` · ${record.external_id}`) : null,
    " ",
    el("span", { class: `badge status-${status ?? "new"}`, id: "record-status" }, badge)));
}

async function refreshProgress() {
  try {
    const p = await api("GET", "/progress");
    const pct = p.total ? Math.round((100 * p.complete) / p.total) : 100;
    $("#progress-fill").style.width = `${pct}%`;
    $("#progress").setAttribute("aria-valuenow", String(pct));
    const mine = p.mine ?? {};
    const text = `${p.complete} / ${p.total} complete · you: ${mine.submitted ?? 0} submitted, ${mine.discarded ?? 0} skipped`;
    $("#progress-text").textContent = text;
    $("#done-progress").textContent = text;
  } catch {
    // progress is informational; the next action retries it
  }
}

// ----------------------------------------------------------------------------- the record

function candidates(q) {
  let v = S.item?.record.fields[q.candidates_field];
  if (typeof v === "string") {
    try { v = JSON.parse(v); } catch { v = [v]; }
  }
  if (!Array.isArray(v)) return [];
  return v.map((c) => (typeof c === "string" ? c : c?.content ?? c?.text ?? JSON.stringify(c)));
}

const isChat = (v) => Array.isArray(v) && v.length > 0 && v.every((m) => m && typeof m === "object" && "content" in m);

function renderRecord() {
  const box = $("#record");
  const shownByWidget = new Set(task.questions.filter((q) => q.kind === "preference").map((q) => q.candidates_field));
  S.fields.clear();
  box.replaceChildren();
  for (const f of task.fields) {
    const v = S.item.record.fields[f.name];
    if (shownByWidget.has(f.name) && typeof v !== "string") continue; // the preference widget shows it
    const body = f.kind === "chat" || isChat(v) ? chatEl(v)
      : Array.isArray(v) ? el("ol", { class: "list" }, v.map((x) => el("li", {}, typeof x === "string" ? x : JSON.stringify(x))))
      : textEl(f.name, v);
    box.append(el("section", { class: "field", "aria-label": f.title || f.name }, el("h2", { class: "field-title" }, f.title || f.name), body));
  }
}

function chatEl(messages) {
  if (!Array.isArray(messages)) return el("p", { class: "muted" }, "(no messages)");
  return el("ol", { class: "chat" }, messages.map((m) =>
    el("li", { class: "msg", "data-role": String(m.role ?? "") },
      el("div", { class: "msg-role" }, String(m.role ?? "")),
      el("div", { class: "msg-content" }, String(m.content ?? "")))));
}

// Long texts are cut into blocks (at a newline, else a space, every ~CHUNK units): each block
// lays out on its own and off-screen blocks are skipped (CSS content-visibility), so a 1 MB
// field renders as a few dozen nodes. Spans only split the text at their own boundaries.
const CHUNK = 16384;

function chunkBounds(text) {
  const out = [0];
  for (let start = 0; start < text.length;) {
    let end = Math.min(start + CHUNK, text.length);
    if (end < text.length) {
      const win = text.slice(start, end);
      const cut = win.lastIndexOf("\n") + 1 || win.lastIndexOf(" ") + 1;
      end = cut > 0 ? start + cut : snap(text, end, 1);
    }
    out.push(end);
    start = end;
  }
  return out;
}

/** Fill `box` with `text` cut at `bounds` and at the boundaries of `spans` (UTF-16). */
function drawText(box, text, bounds, spans = []) {
  const cuts = [...new Set([...bounds, ...spans.flatMap((sp) => [sp.s, sp.e])])].sort((a, b) => a - b);
  const frag = document.createDocumentFragment();
  let chunk = null;
  let next = 0; // index into bounds of the next block start
  for (let k = 0; k + 1 < cuts.length; k++) {
    const [a, b] = [cuts[k], cuts[k + 1]];
    if (a === bounds[next]) {
      chunk = frag.appendChild(el("div", { class: "chunk" }));
      next++;
    }
    const cover = spans.filter((sp) => sp.s <= a && sp.e >= b).sort((x, y) => x.e - x.s - (y.e - y.s));
    if (!cover.length) {
      chunk.append(text.slice(a, b));
      continue;
    }
    const top = cover[0]; // the innermost span gives the colour and is removed by a click
    const ending = cover.filter((sp) => sp.e === b).map((sp) => sp.label);
    chunk.append(el("mark", {
      style: { "--h": top.h }, "data-q": top.q, "data-i": top.i, "data-depth": cover.length,
      "data-tag": ending.length ? ending.join(" · ") : null,
      title: `${cover.map((sp) => sp.label).join(", ")} (click to remove)`,
    }, text.slice(a, b)));
  }
  box.replaceChildren(frag);
}

function textEl(name, v) {
  const text = v == null ? "" : typeof v === "string" ? v : JSON.stringify(v, null, 2);
  const box = el("div", { class: "text", "data-field": name });
  if (!task.questions.some((q) => q.kind === "spans" && q.field === name)) {
    drawText(box, text, chunkBounds(text));
    return box;
  }
  const field = new SpanField(name, text, box);
  S.fields.set(name, field);
  return field.wrap;
}

/** A text field that spans are drawn on, with a keyboard caret and selection. */
class SpanField {
  constructor(name, text, box) {
    this.name = name;
    this.text = text;
    this.box = box;
    this.map = new OffsetMap(text);
    this.bounds = chunkBounds(text);
    this.anchor = 0; // keyboard selection, UTF-16
    this.focus = 0;
    this.caret = el("div", { class: "caret", "aria-hidden": "true", hidden: true });
    this.wrap = el("div", { class: "text-wrap" }, box, this.caret);
    box.classList.add("spannable");
    box.addEventListener("click", (e) => this.#click(e));
    box.addEventListener("mouseup", () => {
      const i = task.questions.findIndex((q) => q.kind === "spans" && q.field === name);
      if (task.questions[S.active]?.field !== name && i >= 0) setActive(i, false);
    });
  }

  /** Spans of every spans question on this field, in UTF-16 offsets. */
  spans() {
    const out = [];
    for (const q of task.questions) {
      if (q.kind !== "spans" || q.field !== this.name) continue;
      S.values[q.name].forEach((s, i) => out.push({
        q: q.name, i, label: s.label, h: hue(Math.max(q.labels.indexOf(s.label), 0)),
        s: this.map.toU16(s.start), e: Math.min(this.map.toU16(s.end), this.text.length),
      }));
    }
    return out;
  }

  /** Redraw: the text is split only at span boundaries, so a huge field stays a few nodes. */
  render() {
    const spans = this.spans();
    const sig = JSON.stringify(spans);
    if (sig === this.drawn) return this.drawCaret(); // unchanged: keep the nodes and the selection
    this.drawn = sig;
    const sel = getSelection();
    const hadSelection = sel.rangeCount > 0 && this.box.contains(sel.anchorNode);
    drawText(this.box, this.text, this.bounds, spans);
    if (hadSelection) this.select(this.anchor, this.focus); // the old text nodes are gone
    else this.drawCaret();
  }

  #click(e) {
    const mark = e.target.closest("mark");
    if (!mark || !getSelection().isCollapsed) return; // a drag that ends on a mark selects
    this.sync(); // the caret goes where the click was
    const q = mark.dataset.q;
    S.values[q] = S.values[q].filter((_, i) => i !== Number(mark.dataset.i));
    note("Span removed");
    changed();
  }

  /** DOM (node, offset) -> UTF-16 offset in this field, clamped to it. */
  offsetOf(node, off) {
    if (!this.box.contains(node)) {
      return this.box.compareDocumentPosition(node) & Node.DOCUMENT_POSITION_PRECEDING ? 0 : this.text.length;
    }
    const point = document.createRange();
    point.setStart(node, off);
    const walk = document.createTreeWalker(this.box, NodeFilter.SHOW_TEXT);
    let acc = 0;
    for (let t = walk.nextNode(); t; t = walk.nextNode()) {
      if (t === node) return acc + off;
      if (point.comparePoint(t, 0) >= 0) return acc;
      acc += t.length;
    }
    return acc;
  }

  /** UTF-16 offset -> DOM (node, offset). */
  pointAt(u) {
    const walk = document.createTreeWalker(this.box, NodeFilter.SHOW_TEXT);
    let acc = 0;
    let last = null;
    for (let t = walk.nextNode(); t; t = walk.nextNode()) {
      if (u <= acc + t.length) return [t, u - acc];
      acc += t.length;
      last = t;
    }
    return last ? [last, last.length] : [this.box, 0];
  }

  /** The live DOM selection inside this field as [start, end) UTF-16, or null. */
  selection() {
    const sel = getSelection();
    if (!sel.rangeCount || sel.isCollapsed) return null;
    const r = sel.getRangeAt(0);
    if (!r.intersectsNode(this.box)) return null;
    const a = snap(this.text, this.offsetOf(r.startContainer, r.startOffset), -1);
    const b = snap(this.text, this.offsetOf(r.endContainer, r.endOffset), 1);
    return a < b ? [a, b] : null;
  }

  /** Keep the keyboard caret in step with a mouse selection. */
  sync() {
    const sel = getSelection();
    if (!sel.rangeCount || !this.box.contains(sel.focusNode)) return;
    this.anchor = snap(this.text, this.offsetOf(sel.anchorNode, sel.anchorOffset), -1);
    this.focus = snap(this.text, this.offsetOf(sel.focusNode, sel.focusOffset), 1);
    this.drawCaret();
  }

  select(anchor, focus) {
    this.anchor = anchor;
    this.focus = focus;
    const [an, ao] = this.pointAt(anchor);
    const [fn, fo] = this.pointAt(focus);
    getSelection().setBaseAndExtent(an, ao, fn, fo);
    this.drawCaret();
    this.caret.scrollIntoView?.({ block: "nearest" });
  }

  /** Arrow keys move the caret; Shift extends the selection; Ctrl/Alt jump words. */
  move(e) {
    const dir = e.key === "ArrowRight" ? 1 : -1;
    const to = e.ctrlKey || e.altKey || e.metaKey ? wordStep(this.text, this.focus, dir) : step(this.text, this.focus, dir);
    this.select(e.shiftKey ? this.anchor : to, to);
  }

  drawCaret() {
    const q = task.questions[S.active];
    const on = q?.kind === "spans" && q.field === this.name && this.text.length > 0;
    this.caret.hidden = !on;
    if (!on) return;
    const [n, o] = this.pointAt(Math.min(this.focus, this.text.length));
    const r = document.createRange();
    r.setStart(n, o);
    let rect = r.getClientRects()[0] ?? r.getBoundingClientRect();
    if (!rect.height && o > 0) { // at a line end the collapsed range has no box; use the char before
      r.setStart(n, o - 1);
      r.setEnd(n, o);
      const b = r.getBoundingClientRect();
      rect = { left: b.right, top: b.top, height: b.height };
    }
    const w = this.wrap.getBoundingClientRect();
    this.caret.style.transform = `translate(${rect.left - w.left}px, ${rect.top - w.top}px)`;
    this.caret.style.height = `${rect.height || 20}px`;
  }
}

document.addEventListener("selectionchange", () => {
  for (const f of S.fields.values()) f.sync();
});

// ----------------------------------------------------------------------------- questions

function renderQuestions() {
  S.widgets = task.questions.map((q, i) => (WIDGETS[q.kind] ?? unknownWidget)(q, i));
  S.sections = task.questions.map((q, i) => el("section", {
    class: "question", "data-kind": q.kind, "data-name": q.name, tabindex: "-1",
    role: "group", "aria-labelledby": `q-${i}-title`, onclick: () => S.active !== i && setActive(i, false),
  },
  el("div", { class: "q-head" },
    MULTI ? el("span", { class: "q-index", "aria-hidden": "true" }, i + 1) : null,
    el("h2", { id: `q-${i}-title` }, titleOf(q)),
    q.required ? null : el("span", { class: "muted small" }, "optional")),
  suggestionsEl(q),
  S.widgets[i].body));
  $("#questions").replaceChildren(...S.sections);
  for (const w of S.widgets) w.update();
  for (const f of S.fields.values()) f.render();
}

function setActive(i, focus = true) {
  const n = task.questions.length;
  S.active = ((i % n) + n) % n;
  S.sections.forEach((s, k) => {
    s.classList.toggle("active", k === S.active);
    s.setAttribute("aria-current", String(k === S.active));
  });
  if (focus) (S.widgets[S.active].focus ?? (() => S.sections[S.active].focus({ preventScroll: true })))();
  for (const f of S.fields.values()) f.drawCaret();
}

const SHOW = {
  multilabel: (v) => (v.length ? v.join(", ") : "none"),
  spans: (v) => (v.length ? v.map((s) => s.label).join(", ") : "no spans"),
  preference: (v) => v.map((j) => j + 1).join(" > "),
  text: (v) => (v.length > 80 ? `${v.slice(0, 80)}…` : v),
};
const showValue = (q, v) => (SHOW[q.kind] ?? String)(v);

function suggestionsEl(q) {
  const list = suggestionsFor(q.name);
  if (!list.length) return null;
  return el("ul", { class: "suggestions", "aria-label": "Suggestions" }, list.map((s) =>
    el("li", { class: "suggestion" },
      el("button", {
        type: "button", class: "link", title: "Use this suggestion", onmousedown: keepSelection,
        onclick: () => { S.values[q.name] = structuredClone(s.value); changed(); },
      }, el("span", { class: "s-label" }, "Suggested"), " ", el("strong", { class: "s-value" }, showValue(q, s.value))),
      el("span", { class: "s-agent", title: "Agent" }, s.agent),
      s.score == null ? null : el("span", { class: "s-score", title: "Score" }, Number(s.score).toFixed(2)),
      s.kind ? el("span", { class: "s-kind" }, s.kind) : null)));
}

/** Call `fn` with the item of `list` whose key `e` presses; true when there was one. */
function byKey(e, list, keyOf, fn) {
  const j = list.findIndex((x, k) => matches(e, keyOf(x, k)));
  if (j >= 0) fn(list[j], j);
  return j >= 0;
}

const keepSelection = (e) => e.preventDefault(); // mousedown on a button must not clear a text selection

function optionButton({ role, key, text, h, onclick, value }) {
  return el("button", {
    type: "button", class: "option", role, "data-value": value, "aria-checked": "false",
    "aria-keyshortcuts": key, style: h == null ? null : { "--h": h }, onmousedown: keepSelection, onclick,
  }, key ? el("kbd", {}, keyName(key)) : null, el("span", {}, text));
}

/** label (pick one) and multilabel (toggle) */
function choiceWidget(q, i) {
  const multi = q.kind === "multilabel";
  const keys = labelKeys(q.labels);
  const choose = (lab) => {
    const cur = S.values[q.name];
    S.values[q.name] = !multi ? lab
      : q.labels.filter((l) => (l === lab ? !cur.includes(l) : cur.includes(l)));
    changed();
  };
  const buttons = q.labels.map((lab, j) => optionButton({
    role: multi ? "checkbox" : "radio", key: keys[j], text: lab, value: lab, h: hue(j),
    onclick: () => { setActive(i, false); choose(lab); },
  }));
  return {
    body: el("div", { class: "options", role: multi ? "group" : "radiogroup", "aria-labelledby": `q-${i}-title` }, buttons),
    update() {
      const v = S.values[q.name];
      for (const b of buttons) b.setAttribute("aria-checked", String(multi ? v.includes(b.dataset.value) : v === b.dataset.value));
    },
    key: (e) => byKey(e, q.labels, (_, j) => keys[j], choose),
  };
}

/** spans: select text (mouse or Shift+arrows), then press a label key */
function spansWidget(q, i) {
  const field = () => S.fields.get(q.field);
  const keys = labelKeys(q.labels);
  const label = (lab) => {
    const f = field();
    if (!f) return note(`This record has no text field “${q.field}”.`);
    const sel = f.selection() ?? (f.anchor !== f.focus ? [Math.min(f.anchor, f.focus), Math.max(f.anchor, f.focus)] : null);
    if (!sel) return note("Select some text first (mouse, or Shift+←/→), then press a label key.");
    let [a, b] = sel;
    while (a < b && /\s/.test(f.text[a])) a++; // trim surrounding white space
    while (b > a && /\s/.test(f.text[b - 1])) b--;
    if (a === b) return note("The selection is only white space.");
    const start = f.map.toCp(a);
    const end = f.map.toCp(b);
    const rest = S.values[q.name].filter((s) => s.start !== start || s.end !== end);
    S.values[q.name] = [...rest, { start, end, label: lab }].sort((x, y) => x.start - y.start || x.end - y.end);
    changed();
    f.select(b, b);
  };
  const removeAt = () => { // Delete: remove the spans that touch the selection or caret
    const f = field();
    if (!f) return;
    const [a, b] = f.selection() ?? [Math.min(f.anchor, f.focus), Math.max(f.anchor, f.focus)];
    const [ca, cb] = [f.map.toCp(a), f.map.toCp(b)];
    const hit = (s) => (ca === cb ? s.start <= ca && ca <= s.end : s.start < cb && s.end > ca);
    const keep = S.values[q.name].filter((s) => !hit(s));
    if (keep.length === S.values[q.name].length) return note("No span at the caret.");
    S.values[q.name] = keep;
    changed();
  };
  const buttons = q.labels.map((lab, j) => optionButton({
    role: null, key: keys[j], text: lab, value: lab, h: hue(j),
    onclick: () => { setActive(i, false); label(lab); },
  }));
  const list = el("ul", { class: "span-list", "aria-label": "Spans" });
  return {
    body: el("div", {},
      el("p", { class: "hint" }, `Select text in “${q.field}”, then press a label key. Click a span to remove it.`),
      el("div", { class: "options" }, buttons), list),
    update() {
      const f = field();
      const items = S.values[q.name].map((s, k) => {
        const text = f ? f.text.slice(f.map.toU16(s.start), f.map.toU16(s.end)) : "";
        return el("li", { style: { "--h": hue(Math.max(q.labels.indexOf(s.label), 0)) } },
          el("span", { class: "span-label" }, s.label),
          el("span", { class: "span-text" }, text.length > 60 ? `${text.slice(0, 60)}…` : text),
          el("button", {
            type: "button", class: "link remove", "aria-label": `Remove ${s.label} “${text.slice(0, 30)}”`,
            onmousedown: keepSelection, onclick: () => { S.values[q.name] = S.values[q.name].filter((_, x) => x !== k); changed(); },
          }, "×"));
      });
      list.replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, "No spans yet.")]));
    },
    key(e) {
      if (e.key === "ArrowLeft" || e.key === "ArrowRight") { field()?.move(e); return true; }
      if (e.key === "Delete") { removeAt(); return true; }
      return byKey(e, q.labels, (_, j) => keys[j], label);
    },
  };
}

/** text: a textarea; keys type, Ctrl+Enter submits, Esc leaves it */
function textWidget(q, i) {
  const ta = el("textarea", {
    class: "answer", rows: 5, "aria-labelledby": `q-${i}-title`, spellcheck: "true",
    placeholder: `Type here. ${mod}+${keyName(KEYS.submit)} submits, Esc leaves the box.`,
  });
  ta.value = S.values[q.name];
  ta.addEventListener("input", () => { S.values[q.name] = ta.value; changed(); });
  ta.addEventListener("focus", () => S.active !== i && setActive(i, false));
  return {
    body: ta,
    update() { if (ta.value !== S.values[q.name]) ta.value = S.values[q.name]; },
    key: () => false,
    focus: () => ta.focus(),
  };
}

/** rating: number keys (the value itself when min..max fits 0-9) or ←/→ */
function ratingWidget(q, i) {
  const [lo, hi] = [q.min ?? 1, q.max ?? 5];
  const vals = Array.from({ length: hi - lo + 1 }, (_, j) => lo + j);
  const keyOf = (v, j) => (lo >= 0 && hi <= 9 ? String(v) : j < 9 ? String(j + 1) : j === 9 ? "0" : null);
  const pick = (v) => { S.values[q.name] = v; changed(); };
  const buttons = vals.map((v, j) => optionButton({
    role: "radio", key: keyOf(v, j), text: String(v), value: v,
    onclick: () => { setActive(i, false); pick(v); },
  }));
  return {
    body: el("div", { class: "options rating", role: "radiogroup", "aria-labelledby": `q-${i}-title` },
      el("span", { class: "muted small" }, lo), buttons, el("span", { class: "muted small" }, hi)),
    update() { for (const b of buttons) b.setAttribute("aria-checked", String(S.values[q.name] === Number(b.dataset.value))); },
    key(e) {
      const cur = S.values[q.name];
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        const d = e.key === "ArrowRight" ? 1 : -1;
        pick(Math.min(hi, Math.max(lo, cur == null ? (d > 0 ? lo : hi) : cur + d)));
        return true;
      }
      return byKey(e, vals, keyOf, pick);
    },
  };
}

/** preference: 2 candidates -> press the winner; more -> press them best first */
function preferenceWidget(q, i) {
  const cands = candidates(q);
  const n = cands.length;
  const pick = (j) => {
    let r = S.values[q.name].slice();
    if (n === 2) r = [j, 1 - j];
    else if (r.length >= n) r = [j]; // a complete ranking starts over
    else if (r.includes(j)) r = r.filter((x) => x !== j);
    else {
      r.push(j);
      if (r.length === n - 1) r.push([...cands.keys()].find((x) => !r.includes(x)));
    }
    S.values[q.name] = r;
    changed();
  };
  const badges = cands.map(() => el("span", { class: "rank" }));
  const cards = cands.map((c, j) => el("article", { class: "candidate", "data-index": j },
    el("button", {
      type: "button", class: "candidate-head", "aria-keyshortcuts": j < 9 ? String(j + 1) : null,
      onmousedown: keepSelection, onclick: () => { setActive(i, false); pick(j); },
    }, j < 9 ? el("kbd", {}, j + 1) : null, el("span", {}, `Candidate ${j + 1}`), badges[j]),
    el("div", { class: "candidate-text" }, c)));
  const summary = el("p", { class: "ranking", "aria-live": "polite" });
  return {
    body: n < 2
      ? el("p", { class: "muted" }, `This record has fewer than two candidates in “${q.candidates_field}”.`)
      : el("div", {},
        el("p", { class: "hint" }, n === 2 ? "Press the number of the better candidate." : "Press candidate numbers, best first. Press a ranked one again to take it out."),
        el("div", { class: `candidates n${Math.min(n, 3)}` }, cards), summary),
    update() {
      const r = S.values[q.name];
      cards.forEach((c, j) => {
        const k = r.indexOf(j);
        c.classList.toggle("ranked", k >= 0);
        c.classList.toggle("winner", k === 0);
        badges[j].textContent = k < 0 ? "" : n === 2 ? (k === 0 ? "preferred" : "") : `#${k + 1}`;
      });
      summary.textContent = r.length ? `Ranking: ${r.map((j) => j + 1).join(" > ")}` : "No choice yet.";
    },
    key(e) {
      if (e.key === "Delete") { S.values[q.name] = []; changed(); return true; }
      return byKey(e, cands, (_, k) => (k < 9 ? String(k + 1) : null), (_, j) => pick(j));
    },
  };
}

function unknownWidget(q) {
  return { body: el("p", { class: "muted" }, `Unsupported question kind “${q.kind}”.`), update() {}, key: () => false };
}

const WIDGETS = { label: choiceWidget, multilabel: choiceWidget, spans: spansWidget, text: textWidget, rating: ratingWidget, preference: preferenceWidget };

// ----------------------------------------------------------------------------- help

function buildHelp() {
  const row = (keys, what) => el("tr", {}, el("td", {}, keys.map((k, n) => [n ? " / " : null, el("kbd", {}, keyName(k))])), el("td", {}, what));
  const table = (caption, rows) => el("table", { class: "keys" }, el("caption", {}, caption), el("tbody", {}, rows));
  const general = [
    row([KEYS.submit], "Submit and go to the next record"),
    row([KEYS.skip], "Skip this record (discarded for you)"),
    row([KEYS.back], "Back to your previous record"),
    row([KEYS.help], "Show or hide this help"),
    MULTI ? row(["Tab", "Shift+Tab"], "Next / previous question") : null,
    row(["Esc"], "Close this help, leave a text box, or dismiss reviewers' feedback"),
  ];
  const parts = [table("Everywhere", general)];
  task.questions.forEach((q) => {
    const rows = [];
    if (q.kind === "label" || q.kind === "multilabel" || q.kind === "spans") {
      labelKeys(q.labels).forEach((key, j) => {
        const lab = q.labels[j];
        if (key) rows.push(row([key], `${q.kind === "multilabel" ? "Toggle" : q.kind === "spans" ? "Label the selection as" : "Choose"} “${lab}”`));
      });
    }
    if (q.kind === "spans") {
      rows.push(row(["Shift+←", "Shift+→"], "Select text from the keyboard (add Ctrl for whole words; ← / → move)"));
      rows.push(row(["Delete"], "Remove the span at the caret (or click the span)"));
    }
    if (q.kind === "text") {
      rows.push(row([`${mod}+${keyName(KEYS.submit)}`], "Submit while typing (letters, numbers and Enter type text)"));
      rows.push(row(["Esc"], "Leave the text box so the shortcut keys work again"));
    }
    if (q.kind === "rating") rows.push(row([`${q.min ?? 1}–${q.max ?? 5}`], "Rate (number keys; ← / → step)"));
    if (q.kind === "preference") {
      rows.push(row(["1", "2", "…"], "Pick the better candidate; with more than two, press them best first"));
      rows.push(row(["Delete"], "Clear the ranking"));
    }
    parts.push(table(`${titleOf(q)} (${q.kind})`, rows));
  });
  $("#help-body").replaceChildren(...parts);
}

const toggleHelp = () => ($("#help").open ? $("#help").close() : $("#help").showModal());

// ----------------------------------------------------------------------------- keyboard

function onKey(e) {
  if (e.isComposing) return;
  if ($("#help").open) { // the dialog handles Esc itself
    if (matches(e, KEYS.help)) { e.preventDefault(); toggleHelp(); }
    return;
  }
  const t = e.target;
  const typing = t instanceof Element && t.matches("textarea, input, select, [contenteditable]");
  const ctrl = e.ctrlKey || e.metaKey;
  if (e.key === "Tab" && MULTI && S.item && !e.altKey && !ctrl) {
    e.preventDefault();
    setActive(S.active + (e.shiftKey ? -1 : 1));
    return;
  }
  if (typing) {
    if (e.key === "Escape") { t.blur(); S.sections[S.active]?.focus({ preventScroll: true }); }
    else if (ctrl && matches(e, KEYS.submit)) { e.preventDefault(); submit(); }
    return;
  }
  // a control reached with Tab keeps its own Enter/Space (mouse clicks never focus our buttons)
  if (t instanceof Element && t.closest("a, summary, button") && (e.key === "Enter" || e.key === " ")) return;
  let handled = true;
  if (ctrl && matches(e, KEYS.submit)) submit();
  else if (e.altKey || (ctrl && !e.key.startsWith("Arrow"))) handled = false; // browser shortcuts
  else if (matches(e, KEYS.help)) toggleHelp();
  else if (e.key === "Escape" && FB.ids.length) dismissFeedback();
  else if (S.busy) handled = e.key === KEYS.submit || matches(e, KEYS.skip) || matches(e, KEYS.back);
  else if (matches(e, KEYS.submit)) submit();
  else if (matches(e, KEYS.skip)) skip();
  else if (matches(e, KEYS.back)) back();
  else handled = !!S.item && S.widgets[S.active].key(e);
  if (handled) e.preventDefault();
}

// ----------------------------------------------------------------------------- start

function start() {
  for (const k of document.querySelectorAll("kbd[data-key]")) k.textContent = keyName(KEYS[k.dataset.key]);
  $("#help-key").textContent = keyName(KEYS.help);
  buildHelp();
  // candidates need room: a preference task splits the page evenly
  $("#workspace").classList.toggle("even", task.questions.some((q) => q.kind === "preference"));
  document.addEventListener("keydown", onKey);
  for (const b of document.querySelectorAll("#app button")) b.addEventListener("mousedown", keepSelection);
  const clicks = {
    "#help-button": toggleHelp, "#help-close": () => $("#help").close(), "#submit-button": submit,
    "#skip-button": skip, "#back-button": back, "#done-back": back, "#done-refresh": () => run(loadNext),
  };
  for (const [sel, fn] of Object.entries(clicks)) $(sel).addEventListener("click", fn);
  addEventListener("resize", () => { for (const f of S.fields.values()) f.drawCaret(); });
  refreshProgress();
  loadFeedback();
  run(loadNext);
}

start();
