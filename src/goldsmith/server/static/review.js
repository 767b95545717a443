// The reviewer's module: the review queue (/review) and the Resume buttons of the QA page
// (/qa). Vanilla ES modules, no build step, no dependencies; each question's values are shown
// by its widget module (widgets/index.js). Every write carries the session's CSRF token; user
// content only ever goes into the page as text.
//
// Review flow: GET /reviews?status=open (highest priority first) -> show the first item ->
// a accepts the proposal, 1-9 then Enter sets a label, r rejects (POST /reviews/{id}, with
// the comment) -> the next item; when the local list runs out it is fetched again. Ctrl+Z
// undoes this page's latest decision (POST /reviews/{id}/undo) and shows that item again.
//
// Never by a single key: a proposal no annotator chose (detail.model_proposed) -- `a` only
// picks it, Enter then accepts it with confirm -- and a label on a record nobody answered
// (an empty detail.answers) -- the first Enter says so, a second Enter sets it.
//
// Span questions (spans, span_multilabel) are adjudicated by lib/review_spans.js: the record's
// text with the proposed span set to edit, each annotator's spans and the proposal's support;
// Enter sends the set on screen (unchanged: accept; changed: edit).

import { api } from "./lib/api.js";
import { $, el } from "./lib/dom.js";
import { Picker } from "./lib/picker.js";
import { rememberPanels } from "./lib/panels.js";
import { drawFields, drawMetadata } from "./lib/record.js";
import { mountSpans, spanDecision, spanItemOn, spanKey, spansAsText } from "./lib/review_spans.js";
import { widgetFor } from "./widgets/index.js";

// ----------------------------------------------------------------------------- messages

function showError(err) {
  const more = err.status === 401 ? el("a", { href: "/login" }, "Log in again") : null;
  const lead = err.status === undefined ? "Not yet: " : "Error: ";
  $("#error").replaceChildren(el("span", {}, el("strong", {}, lead), err.message || String(err), more && " ", more));
}
const clearError = () => $("#error").replaceChildren();

// ----------------------------------------------------------------------------- QA page

async function resume(button) {
  const name = button.dataset.name;
  button.disabled = true;
  try {
    await api("POST", `/users/${encodeURIComponent(name)}/resume`);
    button.closest("tr").querySelector(".state").replaceChildren(el("span", { class: "badge status-active" }, "active"));
    button.remove();
    clearError();
  } catch (e) {
    button.disabled = false;
    showError(e);
  }
}

function startQa() {
  for (const b of document.querySelectorAll("button.resume")) b.addEventListener("click", () => resume(b));
}

// ----------------------------------------------------------------------------- review: state

const DIGITS = [..."1234567890"];
const PAGE = 100;
const KINDS = {
  disagreement: "disagreement",
  low_confidence: "low confidence",
  gold: "gold check failed",
  issue: "suspected label error",
};
const DONE = { accept: "accepted", edit: "set", reject: "rejected" };
const ACTIONS = { accept: "accepted", edit: "set", reject: "rejected", undo: "undid" };

const R = {
  task: null,
  queue: [], // open items not yet decided here; queue[0] is on screen
  pick: null, // the label picked for an edit
  armed: null, // the label a first Enter armed on a record nobody answered
  decided: [], // ids of the items decided on this page, latest last (Ctrl+Z undoes them)
  busy: false,
};

const questionOf = (item) => R.task.questions.find((q) => q.name === item.question) ?? { name: item.question, kind: "?" };
/** A value of `item`'s question as text, the way its widget shows it (JSON if it cannot). */
const show = (item, v) => {
  if (v == null) return "—";
  const q = questionOf(item);
  try { return spansAsText(item, q, v) ?? widgetFor(q).show(v, q); } catch { return typeof v === "string" ? v : JSON.stringify(v); }
};
/** The labels a reviewer picks one of (1-9), when the question's widget offers them. */
const labelsOf = (item) => {
  const q = questionOf(item);
  return widgetFor(q).choices?.(q) ?? [];
};
/** A proposal no annotator chose: never accepted by a single key. */
const modelProposed = (item) => item.detail?.model_proposed === true && item.detail?.proposed != null;
/** A consensus item on a record with no annotator answers (queued before issue 19). */
const unanswered = (item) => {
  const answers = item.detail?.answers;
  return answers != null && typeof answers === "object" && Object.keys(answers).length === 0;
};

let noteTimer = 0;
function note(text) { // a passing message in the polite status region
  $("#note").textContent = text;
  clearTimeout(noteTimer);
  noteTimer = setTimeout(() => ($("#note").textContent = ""), 4000);
}

function setBusy(on) {
  R.busy = on;
  $("#review").setAttribute("aria-busy", String(on));
}

// ----------------------------------------------------------------------------- review: drawing

function renderRecord(item) {
  drawFields($("#record"), R.task, item.fields);
  drawMetadata($("#metadata"), item.metadata, R.task.show_metadata);
}

function proposalText(item) {
  const d = item.detail ?? {};
  const p = d.proposed;
  if (unanswered(item)) {
    return "Nobody answered this record: there is nothing to settle. Reject it (it stays in the queue), or pick a label and press Enter twice to set one yourself.";
  }
  if (modelProposed(item)) {
    return `Model-proposed: ${show(item, p)}. No annotator chose it: a picks it, then Enter accepts it.`;
  }
  switch (item.kind) {
    case "disagreement": return p == null ? "No consensus (a tie): pick the label." : `Consensus: ${show(item, p)}`;
    case "low_confidence": return `Consensus, with low confidence: ${show(item, p)}`;
    case "gold": return `Gold answer: ${show(item, p)}. Accept confirms it; setting a label corrects the gold.`;
    case "issue": {
      const quality = d.quality == null ? "" : ` (label quality ${Number(d.quality).toFixed(2)})`;
      return `Suggested label: ${show(item, p)}. Current label: ${show(item, d.given)}${quality}.`;
    }
    default: return p == null ? "Nothing proposed." : `Proposed: ${show(item, p)}`;
  }
}

function renderAnswers(item) {
  const d = item.detail ?? {};
  const wrong = new Set(d.wrong ?? []);
  const rows = Object.entries(d.answers ?? {}).map(([who, v]) => {
    const differs = wrong.has(who) || (d.proposed != null && JSON.stringify(v) !== JSON.stringify(d.proposed));
    return el("tr", { "data-annotator": who },
      el("th", { scope: "row" }, who),
      el("td", { class: "answer-value" }, show(item, v)),
      el("td", {}, differs ? el("span", { class: "badge status-differs" }, wrong.has(who) ? "wrong" : "differs") : null));
  });
  $("#answers").replaceChildren(...(rows.length ? rows
    : [el("tr", {}, el("td", { class: "muted", colspan: 3 }, "No annotator answers recorded for this item."))]));
}

function renderHistory(item) {
  const entries = item.history ?? [];
  const value = (label) => (label == null ? "none" : `${show(item, label.value)} (${label.provenance})`);
  $("#history").hidden = !entries.length;
  $("#history-list").replaceChildren(...entries.map((h) => el("li", { "data-action": h.action },
    el("time", { datetime: h.at ?? "" }, h.at ? new Date(h.at).toLocaleString() : ""), " ",
    el("strong", {}, h.actor), ` ${ACTIONS[h.action] ?? h.action}: `,
    `${value(h.before)} → ${value(h.after)}`,
    h.comment ? el("span", { class: "muted" }, ` · “${h.comment}”`) : null)));
}

const pickers = new Map(); // question name -> its label picker, built once (lib/picker.js)

function renderLabels(item) {
  const labels = labelsOf(item);
  const q = questionOf(item);
  R.picker = null;
  if (!labels.length) {
    $("#labels").replaceChildren(el("p", { class: "muted" }, `A ${q.kind} question: set its value through the API.`));
    return;
  }
  let p = pickers.get(q.name);
  if (p) p.reset();
  else {
    p = new Picker({
      labels, groups: q.label_groups, keys: labels.map((_, j) => DIGITS[j] ?? null), role: "radio", hues: null,
      labelledBy: "labels-title", recentKey: `goldsmith:recent:${R.task.name}:${q.name}`, arrowsLR: true, onPick: pick,
    });
    pickers.set(q.name, p);
  }
  R.picker = p;
  const proposed = item.detail?.proposed;
  p.mark("proposed", (lab) => lab === proposed);
  p.update(() => false);
  $("#labels").replaceChildren(p.root);
}

function pick(label) {
  R.pick = label;
  R.armed = null;
  R.picker?.update((lab) => lab === label);
}

function render(item) {
  clearError();
  R.pick = null;
  R.armed = null;
  $("#undo-button").disabled = !R.decided.length;
  $("#done-undo").hidden = !R.decided.length;
  $("#loading").hidden = true;
  $("#workspace").hidden = !item;
  $("#done").hidden = !!item;
  if (document.activeElement === $("#comment")) $("#comment").blur();
  if (!item) {
    $("#review-meta").textContent = "";
    $("#done-title").focus();
    return;
  }
  const waiting = R.queue.length >= PAGE ? `${PAGE}+` : String(R.queue.length);
  $("#review-meta").replaceChildren(`Record ${item.record_id}`, el("span", { class: "muted" }, ` · item ${item.id} · ${waiting} waiting`));
  const q = questionOf(item);
  $("#question-title").textContent = q.title || q.name;
  $("#kind").textContent = KINDS[item.kind] ?? item.kind;
  $("#kind").dataset.kind = item.kind;
  $("#priority").textContent = `priority ${Number(item.priority ?? 0).toFixed(2)}`;
  $("#proposal").textContent = proposalText(item);
  $("#proposal").dataset.state = unanswered(item) ? "unanswered" : modelProposed(item) ? "model-proposed" : "";
  $("#model-badge").hidden = !modelProposed(item);
  $("#accept-button").disabled = item.detail?.proposed == null;
  $("#comment").value = "";
  renderRecord(item);
  renderAnswers(item);
  renderHistory(item);
  renderLabels(item);
  mountSpans(item, q, note); // a span question: the span editor takes the labels' place
  scrollTo({ top: 0 });
  for (const pane of ["#record", "#metadata", ".review-item"]) $(pane).scrollTop = 0; // wide screens scroll panes
}

// ----------------------------------------------------------------------------- review: actions

async function refill() {
  R.queue = await api("GET", `/reviews?status=open&limit=${PAGE}`);
}

/** Run one action at a time; errors land in the alert and the item stays on screen. */
async function run(fn) {
  if (R.busy) return;
  setBusy(true);
  try { await fn(); } catch (e) { showError(e); } finally { setBusy(false); }
}

const load = () => run(async () => {
  await refill();
  render(R.queue[0] ?? null);
});

const decide = (action) => run(async () => {
  const item = R.queue[0];
  if (!item) return;
  if (spanItemOn(item)) { // the span editor's set, or nothing yet (it says why)
    const body = spanDecision(item, action);
    if (body) await send(item, body);
    return;
  }
  const body = { action };
  if (action === "accept" && item.detail?.proposed == null) {
    throw new Error("nothing is proposed for this item: pick a label (1–9), then press Enter.");
  }
  if (action === "accept" && modelProposed(item)) { // never by a single key: pick, then Enter
    pick(item.detail.proposed);
    note(`“${show(item, item.detail.proposed)}” picked: no annotator chose it. Enter accepts it; or pick another label.`);
    return;
  }
  if (action === "edit") {
    if (R.pick == null) throw new Error("pick a label first (1–9), then press Enter.");
    if (unanswered(item) && R.armed !== R.pick) {
      R.armed = R.pick;
      throw new Error(`nobody answered this record: press Enter again to make “${R.pick}” its final label anyway, or r to reject the item.`);
    }
    if (modelProposed(item) && R.pick === item.detail.proposed) {
      body.action = "accept"; // the reviewer picked the model's proposal and confirmed it
      body.confirm = true;
    } else {
      body.value = R.pick;
    }
  }
  await send(item, body);
});

/** Post a decision on `item`, then show the next item. */
async function send(item, body) {
  const comment = $("#comment").value.trim();
  if (comment) body.comment = comment;
  try {
    await api("POST", `/reviews/${item.id}`, body);
    R.decided.push(item.id);
    const done = body.action === "edit" ? ` to “${show(item, body.value)}”` : body.confirm ? ` (“${show(item, item.detail.proposed)}”)` : "";
    note(`Item ${item.id} ${DONE[body.action]}${done}. Ctrl+Z undoes it.`);
  } catch (e) {
    if (e.status !== 409) throw e;
    note(`Item ${item.id} was already decided by someone else.`);
  }
  R.queue.shift();
  if (!R.queue.length) await refill();
  render(R.queue[0] ?? null);
}

/** Take back this page's latest decision: its item comes back on screen, open again. */
const undo = () => run(async () => {
  const id = R.decided.at(-1);
  if (id == null) {
    note("Nothing to undo on this page.");
    return;
  }
  const item = await api("POST", `/reviews/${id}/undo`);
  R.decided.pop();
  R.queue = [item, ...R.queue.filter((i) => i.id !== id)];
  render(item);
  note(`Decision on item ${id} undone: the label before it is back.`);
});

function later() {
  if (R.busy || !R.queue.length) return;
  if (R.queue.length === 1) return note("This is the only open item.");
  R.queue.push(R.queue.shift());
  render(R.queue[0]);
}

function onKey(e) {
  if (e.isComposing) return;
  const t = e.target;
  const ctrl = e.ctrlKey || e.metaKey;
  if (t instanceof Element && t.matches("textarea, input, select")) {
    if (e.key === "Escape") { e.preventDefault(); t.blur(); }
    else if (ctrl && e.key === "Enter") { e.preventDefault(); decide("edit"); }
    // the label filter passes on Enter only when it is empty (with text, Enter picks a label)
    else if (t.matches(".picker-input") && e.key === "Enter" && !e.shiftKey && !e.altKey) { e.preventDefault(); decide("edit"); }
    return; // Ctrl+Z in the comment box undoes typing, not a decision
  }
  if (ctrl && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "z") {
    e.preventDefault();
    undo();
    return;
  }
  if (!R.busy && R.queue.length && spanItemOn(R.queue[0]) && spanKey(e)) { // select, label, Delete
    e.preventDefault();
    return;
  }
  if (e.altKey || ctrl || !R.queue.length) return;
  // a control reached with Tab keeps its own Enter/Space
  if (t instanceof Element && t.closest("a, button") && (e.key === "Enter" || e.key === " ")) return;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  let handled = true;
  if (R.busy) handled = key === "Enter";
  else if (key === "Enter") decide("edit");
  else if (key === "a") decide("accept");
  else if (key === "r") decide("reject");
  else if (key === "s") later();
  else if (key === "c") $("#comment").focus();
  else if (!R.picker?.key(e)) handled = false; // 1-9, 0, the filter (/ or a letter), ↑/↓, Space
  if (handled) e.preventDefault();
}

function startReview() {
  R.task = JSON.parse($("#task").textContent);
  rememberPanels($("#review"));
  document.addEventListener("keydown", onKey);
  // a click must not leave focus on a button, where Enter would press it again
  $("#review").addEventListener("mousedown", (e) => e.target.closest("button") && e.preventDefault());
  const clicks = {
    "#accept-button": () => decide("accept"), "#edit-button": () => decide("edit"),
    "#reject-button": () => decide("reject"), "#skip-button": later, "#done-refresh": load,
    "#undo-button": undo, "#done-undo": undo,
  };
  for (const [sel, fn] of Object.entries(clicks)) $(sel).addEventListener("click", fn);
  load();
}

// ----------------------------------------------------------------------------- start

if ($("#review")) startReview();
else if ($("#qa")) startQa();
