// The review page's span adjudication, for questions whose widget marks spans of a text field
// (`spans`, `span_labels`): the record's text with the reviewer's working span set drawn on it
// and edited as on the annotate page (the question's own widget editor: select, label key,
// Delete or a click removes), each annotator's spans marked against the proposal, and the
// proposed consensus span set with each span's support.
//
// The working set starts as the proposal. Enter sends it: unchanged, it accepts the proposal;
// changed, it is the reviewer's edit. A model-proposed set is never accepted by one key: `a`
// takes it into the editor, Enter then accepts it (with confirm).

import { $, el } from "./dom.js";
import { hue, labelKeys } from "./keys.js";
import { SpanField } from "./spanfield.js";
import { widgetFor } from "../widgets/index.js";

const KEYS = { submit: "Enter", skip: "s" }; // the review page's digits label spans
const SP = { item: null, q: null, value: [], field: null, editor: null, taken: false, armed: null, note: () => {} };

const labelsOf = (s) => (Array.isArray(s.labels) ? s.labels : [s.label]);
const unitKey = (s) => `${s.start}:${s.end}:${labelsOf(s).join("+")}`;
/** A span set as one comparable string: the order of spans and of a span's labels aside. */
export const spanSig = (v) => JSON.stringify((v ?? []).map((s) => `${s.start}:${s.end}:${[...labelsOf(s)].sort().join("+")}`).sort());
const proposalOf = (item) => item.detail?.proposed ?? null;
const modelProposed = (item) => item.detail?.model_proposed === true && proposalOf(item) != null;
const unanswered = (item) => {
  const a = item.detail?.answers;
  return a != null && typeof a === "object" && Object.keys(a).length === 0;
};
const pct = (x) => (x == null ? "—" : `${Math.round(Number(x) * 100)} %`);

/** Whether the review page adjudicates `q` with the span editor. */
export const marksSpans = (q) => !!(q?.field && widgetFor(q).marks);

/** Whether the item on screen is a span item (the editor owns the keys and the decision). */
export const spanItemOn = (item) => SP.item != null && SP.item === item;

document.addEventListener("selectionchange", () => SP.field?.sync());

function changed() {
  SP.editor.update();
  SP.field.render();
  const same = spanSig(SP.value) === spanSig(proposalOf(SP.item));
  const n = SP.value.length;
  const set = n === 0 ? "no spans" : n === 1 ? "1 span" : `${n} spans`;
  const these = n === 0 ? "an empty span set" : n === 1 ? "this span" : `these ${n} spans`;
  $("#span-state").dataset.state = same ? "unchanged" : "edited";
  $("#span-state").textContent = proposalOf(SP.item) != null && same
    ? `Unchanged: Enter accepts the proposed set (${set}).`
    : `Edited: Enter sets ${these} as the final label.`;
}

function setValue(v, why) {
  SP.value = structuredClone(v ?? []);
  SP.armed = null;
  changed();
  if (why) SP.note(why);
}

/** Draw the span parts of the review page for `item`, or step aside (false) when `q` is not a
 * span question or the record lacks its text. `note(text)` shows a passing message. */
export function mountSpans(item, q, note) {
  SP.item = null;
  SP.field = null;
  $("#labels-title").textContent = "Set the label";
  $("#labels").setAttribute("role", "radiogroup");
  $("#span-review").hidden = true;
  const text = item.fields?.[q.field];
  if (!marksSpans(q) || typeof text !== "string") return false;
  Object.assign(SP, { item, q, note, taken: false, armed: null });
  SP.value = structuredClone(proposalOf(item) ?? item.detail?.given ?? []);
  const widget = widgetFor(q);
  const box = el("div", { class: "text", "data-field": q.field });
  SP.field = new SpanField(q.field, text, box, {
    marks: () => widget.marks(q, SP.value).map((m) => ({ q: q.name, ...m })),
    caretOn: () => true,
    activate() {},
    remove(_, i) { setValue(SP.value.filter((__, k) => k !== i), "Span removed"); },
  });
  const old = $(`#record .text[data-field="${CSS.escape(q.field)}"]`);
  if (old) old.replaceWith(SP.field.wrap);
  else $("#record").append(SP.field.wrap);
  const ctx = {
    keys: KEYS, labelKeys: (labels) => labelKeys(labels, KEYS), get: () => SP.value,
    set: (_, v) => { SP.value = v; SP.armed = null; changed(); }, activate() {}, isActive: () => true,
    note, field: (name) => (name === q.field ? SP.field : undefined), record: () => null,
  };
  SP.editor = widget.create(q, 0, ctx);
  $("#labels-title").textContent = "Adjudicate the spans";
  $("#labels").setAttribute("role", "group");
  const reset = el("button", {
    type: "button", class: "ghost", id: "span-reset", disabled: proposalOf(item) == null,
    onclick: () => setValue(proposalOf(item), "Back to the proposed span set"),
  }, "Start from the proposal");
  $("#labels").replaceChildren(SP.editor.body,
    el("p", { class: "span-state", id: "span-state", role: "status" }),
    el("div", { class: "span-tools" }, reset));
  renderProposal(item, q);
  renderAnswerSpans(item, q);
  changed();
  return true;
}

/** The text of span `s` in the record. */
const slice = (s) => SP.field.slice(s);

/** A span as its label(s) and its text (offsets in code points on hover). */
function spanChip(q, s, extra = null) {
  return [
    labelsOf(s).map((lab) => el("span", { class: "span-label", style: { "--h": hue(Math.max(q.labels.indexOf(lab), 0)) } }, lab)),
    el("q", { class: "span-text", title: `characters ${s.start}–${s.end}` }, slice(s)),
    extra,
  ];
}

function renderProposal(item, q) {
  const p = proposalOf(item);
  const d = item.detail ?? {};
  const conf = d.confidence == null ? "" : `, confidence ${Number(d.confidence).toFixed(2)}`;
  if (unanswered(item)) {
    $("#proposal").textContent = "Nobody answered this record: there is nothing to settle. Reject it, or mark spans and press Enter twice to set them yourself.";
  } else if (modelProposed(item)) {
    $("#proposal").textContent = `Model-proposed span set (${p.length} spans${conf}): no annotator gave it as a whole. a takes it into the editor, Enter then accepts it.`;
  } else if (p != null) {
    const what = item.kind === "issue" ? "Suggested span set" : item.kind === "gold" ? "Gold span set" : "Proposed consensus span set";
    $("#proposal").textContent = `${what}: ${p.length} span${p.length === 1 ? "" : "s"}${conf}.`;
  }
  const support = Array.isArray(d.support?.spans) ? d.support.spans : [];
  // the table lists units, one (span, label) each: the vote counts each label on its own
  const units = (v) => (v ?? []).flatMap((s) => labelsOf(s).map((label) => ({ start: s.start, end: s.end, label })));
  const inProposal = new Set(units(p).map(unitKey));
  const byUnit = new Map(support.map((s) => [unitKey(s), s]));
  const givers = (s) => Object.entries(d.answers ?? {}) // who gave exactly span s
    .filter(([, v]) => Array.isArray(v) && units(v).some((x) => unitKey(x) === unitKey(s))).map(([who]) => who);
  const rows = [...units(p).map((s) => [s, byUnit.get(unitKey(s)) ?? null, true]),
    ...support.filter((s) => !inProposal.has(unitKey(s))).map((s) => [s, s, false])];
  const body = rows.map(([s, sup, kept]) => el("tr", { "data-span": unitKey(s), "data-kept": String(kept) },
    el("td", {}, spanChip(q, s)),
    el("td", { class: "num", title: "Support for exactly this span: its probability under the annotator model, or the weighted share of the annotators who gave it" }, pct(sup?.support)),
    el("td", { class: "num", title: "Support for this entity with any boundary: the probability that it is real, or the weighted share who marked it" }, pct(sup?.entity_support)),
    el("td", { title: `Marked the entity: ${(sup?.annotators ?? []).join(", ") || "nobody"}` }, givers(s).join(", ") || "—"),
    el("td", {}, kept ? el("span", { class: "badge status-submitted" }, "in the set")
      : el("span", { class: "badge status-differs" }, sup?.disputed ? "disputed: left out" : "left out"))));
  const table = el("table", { class: "span-support", id: "span-support" },
    el("caption", {}, "Proposed spans and their support"),
    el("thead", {}, el("tr", {}, ["Span", "Support", "Entity", "Given by", ""].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.length ? body : el("tr", {}, el("td", { class: "muted", colspan: 5 }, p == null ? "Nothing proposed." : "The proposed set is empty: no span."))));
  $("#span-review").replaceChildren(table);
  $("#span-review").hidden = false;
}

function renderAnswerSpans(item, q) {
  const p = proposalOf(item);
  const inProposal = new Set((p ?? []).map(unitKey));
  for (const [who, v] of Object.entries(item.detail?.answers ?? {})) {
    const cell = $(`#answers tr[data-annotator="${CSS.escape(who)}"] .answer-value`);
    if (!cell || !Array.isArray(v)) continue;
    const mine = new Set(v.map(unitKey));
    const items = v.map((s) => el("li", { "data-span": unitKey(s), class: p == null || inProposal.has(unitKey(s)) ? "" : "differs" },
      spanChip(q, s, p != null && !inProposal.has(unitKey(s)) ? el("span", { class: "badge status-differs" }, "not proposed") : null)));
    const missed = (p ?? []).filter((s) => !mine.has(unitKey(s))).map((s) => el("li", { class: "missed", "data-span": unitKey(s) },
      spanChip(q, s, el("span", { class: "badge status-differs" }, "not marked"))));
    cell.replaceChildren(
      el("ul", { class: "span-answer", "aria-label": `${who}'s spans` },
        items.length || missed.length ? [...items, ...missed] : el("li", { class: "muted" }, "no spans")),
      el("button", {
        type: "button", class: "link use-answer", "data-annotator": who,
        onclick: () => setValue(v, `Started from ${who}'s spans`),
      }, `Start from ${who}'s spans`));
  }
}

/** A span set of `item`'s record as text (“breast cancer” (Disease), ...), or null when `q`
 * marks no spans or the record lacks its text: the history and the notes show it. */
export function spansAsText(item, q, v) {
  const text = item.fields?.[q.field];
  if (!marksSpans(q) || typeof text !== "string" || !Array.isArray(v)) return null;
  if (!v.length) return "no spans";
  const cp = [...text];
  return v.map((s) => `“${cp.slice(s.start, s.end).join("")}” (${labelsOf(s).join("+")})`).join(", ");
}

/** A key for the span editor (arrows, Shift/Ctrl+arrows, Delete, label keys): true when handled. */
export function spanKey(e) {
  if (!SP.item || e.altKey) return false;
  const arrow = e.key === "ArrowLeft" || e.key === "ArrowRight";
  if (!arrow && (e.ctrlKey || e.metaKey)) return false;
  return SP.editor.key(e);
}

/** The request body of a decision on the span item on screen, or null when there is nothing
 * to send yet; throws an Error whose message says what to do. */
export function spanDecision(item, action) {
  const p = proposalOf(item);
  if (action === "reject") return { action };
  if (action === "accept") {
    if (p == null) throw new Error("nothing is proposed for this item: mark the spans, then press Enter.");
    if (!modelProposed(item)) return { action };
    if (!SP.taken) { // never by a single key: take it, then Enter
      SP.taken = true;
      setValue(p, "Model-proposed span set taken: no annotator gave it. Enter accepts it; or edit it.");
      return null;
    }
    return { action, confirm: true };
  }
  const same = p != null && spanSig(SP.value) === spanSig(p);
  if (same && modelProposed(item) && !SP.taken) {
    throw new Error("no annotator gave this span set as a whole: press a to take it, then Enter; or edit the spans.");
  }
  if (unanswered(item) && SP.armed !== spanSig(SP.value)) {
    SP.armed = spanSig(SP.value);
    throw new Error("nobody answered this record: press Enter again to make these spans its final label anyway, or r to reject the item.");
  }
  if (same) return modelProposed(item) ? { action: "accept", confirm: true } : { action: "accept" };
  return { action: "edit", value: structuredClone(SP.value) };
}
