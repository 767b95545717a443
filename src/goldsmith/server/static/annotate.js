// The goldsmith annotation page: vanilla ES modules, no build step, no dependencies.
//
// Flow: GET /queue/next -> show the item -> keys and clicks edit `S.values` (API form) ->
// drafts are PUT after a pause -> Enter PUTs status "submitted" and loads the next item.
// Each question is drawn by the widget module its kind names (`q.widget`, see widgets/index.js);
// this module holds the flow, the record, the help and the keys shared by every question.

import { api } from "./lib/api.js";
import { $, el, keepSelection } from "./lib/dom.js";
import { keyName, labelKeys, matches } from "./lib/keys.js";
import { rememberPanels } from "./lib/panels.js";
import { drawMetadata } from "./lib/record.js";
import { SpanField } from "./lib/spanfield.js";
import { chunkBounds, drawText } from "./lib/text.js";
import { widgetFor } from "./widgets/index.js";

// ----------------------------------------------------------------------------- task and keys

const task = JSON.parse($("#task").textContent);
const KEYS = { submit: "Enter", skip: "s", back: "Backspace", help: "?", ...(task.keys || {}) };
const MULTI = task.questions.length > 1;
const DRAFT_DELAY_MS = 800;
const titleOf = (q) => q.title || q.name;

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

/** What the widgets may do with the page (see widgets/index.js). */
const ctx = {
  keys: KEYS,
  labelKeys: (labels) => labelKeys(labels, KEYS),
  get: (q) => S.values[q.name],
  set: (q, v) => { S.values[q.name] = v; changed(); },
  activate: (i) => setActive(i, false),
  isActive: (i) => S.active === i,
  note: (text) => note(text),
  field: (name) => S.fields.get(name),
  record: () => S.item?.record ?? null,
  recentKey: (q) => `goldsmith:recent:${task.name}:${q.name}`, // the label picker's pinned labels
  leave: () => S.sections[S.active]?.focus({ preventScroll: true }), // focus back on the question
};

const isEmpty = (q, v) => widgetFor(q).isEmpty(q, v, S.item?.record);

const suggestionsFor = (name) =>
  (S.item?.suggestions ?? []).filter((s) => s.question === name).sort((a, b) => (b.score ?? -1) - (a.score ?? -1));

/** A saved response wins; otherwise the best suggestion prefills each question. */
function initialValues(item) {
  const saved = item.response?.values;
  const out = {};
  for (const q of task.questions) {
    const v = saved ? saved[q.name] : suggestionsFor(q.name)[0]?.value;
    out[q.name] = v == null ? widgetFor(q).empty(q) : structuredClone(v);
  }
  return out;
}

/** The values to send: unanswered single-value questions are left out. */
function payload() {
  const out = {};
  for (const q of task.questions) {
    const w = widgetFor(q);
    const v = S.values[q.name];
    if (w.sendable ? w.sendable(q, v, S.item?.record) : !w.isEmpty(q, v, S.item?.record)) out[q.name] = v;
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
  const list = el("ul", { class: "feedback-list" }, items.map(feedbackEl));
  FB.box.replaceChildren(head, list);
  FB.box.setAttribute("role", "status");
  FB.box.hidden = false;
}

/** One reviewer's decision: a link to the record (read-only), your answer, the final label, why. */
function feedbackEl(f) {
  const q = task.questions.find((x) => x.name === f.question);
  const shown = (v) => {
    if (v == null) return "none";
    try { return q ? widgetFor(q).show(v, q) : JSON.stringify(v); } catch { return JSON.stringify(v); }
  };
  const what = f.seq ? `Your #${f.seq}` : "A record you answered";
  const values = el("span", { class: "feedback-values" },
    MULTI && q ? el("span", { class: "muted" }, `${titleOf(q)}: `) : null,
    "you answered ", el("strong", { class: "feedback-answer" }, shown(f.answer)),
    " · final label ", el("strong", { class: "feedback-final" }, shown(f.final)));
  return el("li", { "data-record": f.record_id },
    el("a", { class: "feedback-record", href: `/feedback/${encodeURIComponent(f.record_id)}` }, what),
    values,
    f.comment ? el("span", { class: "feedback-message" }, `“${f.comment}”`)
      : el("span", { class: "feedback-message muted" }, "no comment"));
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
    delete $("#record-meta").dataset.record;
    $("#done-title").focus?.();
    return;
  }
  S.values = initialValues(item);
  S.dirty = false;
  S.shownAt = performance.now();
  renderRecord();
  drawMetadata($("#metadata"), item.record.metadata, task.show_metadata);
  renderQuestions();
  renderMeta();
  for (const pane of ["#record", "#metadata", "#questions"]) $(pane).scrollTop = 0; // wide screens scroll panes
  const open = task.questions.findIndex((q) => q.required && isEmpty(q, S.values[q.name]));
  setActive(Math.max(open, 0));
  scrollTo({ top: 0 }); // after the focus: a phone starts at the record
}

function renderMeta() {
  const { record, response, seq } = S.item;
  const status = response?.status;
  const badge = S.from === "previous"
    ? `${status === "discarded" ? "skipped" : status ?? "answered"} earlier: ${keyName(KEYS.submit)} re-submits`
    : status === "draft" ? "draft" : "new";
  // Annotators see their own sequence number, never a database id: `record.id` is an opaque
  // handle for them (a string), kept only in data-record. Owners and reviewers get the id too.
  const meta = $("#record-meta");
  meta.dataset.record = String(record.id);
  meta.replaceChildren(el("span", {},
    `#${seq} in your queue`,
    typeof record.id === "number" ? el("span", { class: "muted" }, ` · record ${record.id}`) : null,
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

const isChat = (v) => Array.isArray(v) && v.length > 0 && v.every((m) => m && typeof m === "object" && "content" in m);
/** The questions whose widget marks spans on text field `name`. */
const marking = (name) => task.questions.filter((q) => widgetFor(q).marks && q.field === name);

function renderRecord() {
  const box = $("#record");
  const shownByWidget = new Set(task.questions.map((q) => widgetFor(q).ownsField?.(q)).filter(Boolean));
  S.fields.clear();
  box.replaceChildren();
  for (const f of task.fields) {
    const v = S.item.record.fields[f.name];
    if (shownByWidget.has(f.name) && typeof v !== "string") continue; // the question's widget shows it
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

function textEl(name, v) {
  const text = v == null ? "" : typeof v === "string" ? v : JSON.stringify(v, null, 2);
  const box = el("div", { class: "text", "data-field": name });
  const questions = marking(name);
  if (!questions.length) {
    drawText(box, text, chunkBounds(text));
    return box;
  }
  const field = new SpanField(name, text, box, {
    marks: () => questions.flatMap((q) => widgetFor(q).marks(q, S.values[q.name]).map((m) => ({ q: q.name, ...m }))),
    caretOn: () => questions.includes(task.questions[S.active]),
    activate() {
      const i = task.questions.indexOf(questions[0]);
      if (task.questions[S.active]?.field !== name) setActive(i, false);
    },
    remove(q, i) {
      S.values[q] = S.values[q].filter((_, k) => k !== i);
      note("Span removed");
      changed();
    },
  });
  S.fields.set(name, field);
  return field.wrap;
}

document.addEventListener("selectionchange", () => {
  for (const f of S.fields.values()) f.sync();
});

// ----------------------------------------------------------------------------- questions

function renderQuestions() {
  S.widgets = task.questions.map((q, i) => widgetFor(q).create(q, i, ctx));
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

/** Scroll the question panel (never the window) so that `section` is in sight: on a wide
 * screen the panel scrolls on its own; on a phone it does not scroll and this does nothing. */
function revealInPanel(section) {
  const panel = $("#questions");
  if (panel.scrollHeight <= panel.clientHeight) return;
  const p = panel.getBoundingClientRect(), r = section.getBoundingClientRect();
  if (r.top < p.top) panel.scrollTop += r.top - p.top;
  else if (r.bottom > p.bottom) panel.scrollTop += Math.min(r.bottom - p.bottom, r.top - p.top);
}

function setActive(i, focus = true) {
  const n = task.questions.length;
  S.active = ((i % n) + n) % n;
  S.sections.forEach((s, k) => {
    s.classList.toggle("active", k === S.active);
    s.setAttribute("aria-current", String(k === S.active));
  });
  if (focus) {
    (S.widgets[S.active].focus ?? (() => S.sections[S.active].focus({ preventScroll: true })))();
    revealInPanel(S.sections[S.active]);
  }
  for (const f of S.fields.values()) f.drawCaret();
}

function suggestionsEl(q) {
  const list = suggestionsFor(q.name);
  if (!list.length) return null;
  return el("ul", { class: "suggestions", "aria-label": "Suggestions" }, list.map((s) =>
    el("li", { class: "suggestion" },
      el("button", {
        type: "button", class: "link", title: "Use this suggestion", onmousedown: keepSelection,
        onclick: () => ctx.set(q, structuredClone(s.value)),
      }, el("span", { class: "s-label" }, "Suggested"), " ", el("strong", { class: "s-value" }, widgetFor(q).show(s.value, q))),
      el("span", { class: "s-agent", title: "Agent" }, s.agent),
      s.score == null ? null : el("span", { class: "s-score", title: "Score" }, Number(s.score).toFixed(2)),
      s.kind ? el("span", { class: "s-kind" }, s.kind) : null)));
}

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
  for (const q of task.questions) {
    const rows = widgetFor(q).help(q, ctx).map(([keys, what]) => row(keys, what));
    parts.push(table(`${titleOf(q)} (${q.kind})`, rows));
  }
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
    // a label filter passes on Enter only when it is empty (with text, Enter picks a label)
    else if (t.matches(".picker-input") && !e.shiftKey && !e.altKey && matches(e, KEYS.submit)) { e.preventDefault(); submit(); }
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
  rememberPanels($("#app")); // the guidelines stay collapsed once collapsed
  // candidates need room: a task with a wide widget (preference) splits the page evenly
  $("#workspace").classList.toggle("even", task.questions.some((q) => widgetFor(q).wide));
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
