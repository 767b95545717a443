// Widget `spans` (kind spans): select text (mouse or Shift+arrows), then press a label key.
// `spanEditor` is shared with `span_labels`, whose spans carry several labels each.

import { el, keepSelection } from "../lib/dom.js";
import { hue } from "../lib/keys.js";
import { spansText } from "../lib/text.js";
import { Picker, pickerHelp, pickerOf } from "../lib/picker.js";

export const NO_SELECTION = "Select some text first (mouse, or Shift+←/→), then press a label key.";
export const byRange = (x, y) => x.start - y.start || x.end - y.end;

/** The input of a widget that marks spans of `q.field`. `kind` says what differs:
 * - `labelsOf(span)`: the labels of a stored span;
 * - `apply(q, spans, chosen, lab, field)`: the spans after pressing label `lab`, where
 *   `chosen` is `field.chosen()` (the trimmed selection, or null), or a note to show;
 * - `hint`: the line above the label buttons. */
export function spanEditor(q, i, ctx, kind) {
  const field = () => ctx.field(q.field);
  const keys = ctx.labelKeys(q.labels);
  const label = (lab) => {
    const f = field();
    if (!f) return ctx.note(`This record has no text field “${q.field}”.`);
    const sel = f.chosen();
    if (sel?.blank) return ctx.note("The selection is only white space.");
    const next = kind.apply(q, ctx.get(q), sel, lab, f);
    if (typeof next === "string") return ctx.note(next);
    ctx.set(q, next);
    if (sel) f.select(sel.b, sel.b);
  };
  const removeAt = () => { // Delete: the span selected exactly, else every span at the selection or caret
    const f = field();
    if (!f) return;
    const sel = f.chosen();
    const cur = ctx.get(q);
    const exact = sel && !sel.blank ? cur.filter((s) => s.start === sel.start && s.end === sel.end) : [];
    const hit = exact.length ? (s) => exact.includes(s) : f.touching();
    const keep = cur.filter((s) => !hit(s));
    if (keep.length === cur.length) return ctx.note("No span at the caret.");
    ctx.set(q, keep);
  };
  const picker = pickerOf(ctx, q, () => new Picker({ // ←/→ stay the caret's
    labels: q.labels, groups: q.label_groups, keys, role: null, hues: hue, labelledBy: `q-${i}-title`,
    recentKey: ctx.recentKey?.(q) ?? null, onPick: (lab) => { ctx.activate(i); label(lab); }, onLeave: () => ctx.leave?.(),
  }));
  const list = el("ul", { class: "span-list", "aria-label": "Spans" });
  const hueOf = (lab) => hue(Math.max(q.labels.indexOf(lab), 0));
  let current = -1; // the span selected from the list or with Shift+↑/↓
  const selectSpan = (k) => { // select span k's text, so that Delete or a label key acts on it alone
    const f = field();
    const s = ctx.get(q)[k];
    if (!f || !s) return;
    current = k;
    f.select(f.map.toU16(s.start), f.map.toU16(s.end));
    for (const [x, li] of [...list.children].entries()) li.classList.toggle("current", x === k);
    ctx.note(`Span ${k + 1} of ${ctx.get(q).length}: ${kind.labelsOf(s).join(", ")} “${f.slice(s).slice(0, 40)}”`);
  };
  return {
    body: el("div", {}, el("p", { class: "hint" }, kind.hint(q)), picker.root, list),
    update() {
      const f = field();
      const items = ctx.get(q).map((s, k) => {
        const text = f ? f.slice(s) : "";
        const labs = kind.labelsOf(s);
        return el("li", { style: { "--h": hueOf(labs[0]) } },
          labs.map((lab) => el("span", { class: "span-label", style: labs.length > 1 ? { "--h": hueOf(lab) } : null }, lab)),
          el("button", {
            type: "button", class: "link span-text", title: "Select this span (then Delete removes it)",
            onmousedown: keepSelection, onclick: () => { ctx.activate(i); selectSpan(k); },
          }, text.length > 60 ? `${text.slice(0, 60)}…` : text),
          el("button", {
            type: "button", class: "link remove", "aria-label": `Remove ${labs.join(", ")} “${text.slice(0, 30)}”`,
            onmousedown: keepSelection, onclick: () => ctx.set(q, ctx.get(q).filter((_, x) => x !== k)),
          }, "×"));
      });
      list.replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, "No spans yet.")]));
      current = -1;
    },
    key(e) {
      if (e.key === "ArrowLeft" || e.key === "ArrowRight") { field()?.move(e); return true; }
      if (e.key === "Delete") { removeAt(); return true; }
      if (e.shiftKey && (e.key === "ArrowDown" || e.key === "ArrowUp")) { // step through the spans, nested ones too
        const n = ctx.get(q).length;
        if (!n) { ctx.note("No spans yet."); return true; }
        selectSpan(current < 0 ? (e.key === "ArrowDown" ? 0 : n - 1) : (current + (e.key === "ArrowDown" ? 1 : -1) + n) % n);
        return true;
      }
      field()?.sync(); // the filter is about to take focus: keep the text selection first
      return picker.key(e);
    },
    picker,
  };
}

/** The help rows every span widget shares (after its label keys). */
export const spanRows = [
  [["Shift+←", "Shift+→"], "Select text from the keyboard (add Ctrl for whole words; ← / → move)"],
  [["Shift+↓", "Shift+↑"], "Select the next / previous span (nested and overlapping ones too)"],
  [["Delete"], "Remove the selected span, else the spans at the caret (or click the span)"],
];

const SPANS = {
  labelsOf: (s) => [s.label],
  hint: (q) => `Select text in “${q.field}”, then press a label key. Click a span to remove it.`,
  apply(q, cur, sel, lab) {
    if (!sel) return NO_SELECTION;
    const { start, end } = sel;
    const rest = cur.filter((s) => s.start !== start || s.end !== end);
    return [...rest, { start, end, label: lab }].sort(byRange);
  },
};

export default {
  empty: () => [],
  isEmpty: () => false, // an empty list is an answer
  show: (v, q, fields) => spansText(v, q, fields, (s) => s.label),
  help: (q, ctx) => [
    ...pickerHelp(q, "Apply"),
    ...ctx.labelKeys(q.labels).flatMap((key, j) => (key ? [[[key], `Label the selection as “${q.labels[j]}”`]] : [])),
    ...spanRows,
  ],
  marks: (q, v) => v.map((s, i) => ({ i, label: s.label, h: hue(Math.max(q.labels.indexOf(s.label), 0)), start: s.start, end: s.end })),
  create: (q, i, ctx) => spanEditor(q, i, ctx, SPANS),
};
