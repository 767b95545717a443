// Widget `span_labels` (kind span_multilabel): select text as for `spans`, then toggle labels
// on the selected span, or on the span at the caret, with the label keys. A span whose last
// label is toggled off is removed. Labels are kept in the task's order.

import { hue } from "../lib/keys.js";
import { spansText } from "../lib/text.js";
import { pickerHelp } from "../lib/picker.js";
import { NO_SELECTION, byRange, spanEditor, spanRows } from "./spans.js";

const shortest = (x, y) => x.end - x.start - (y.end - y.start);

const SPAN_LABELS = {
  labelsOf: (s) => s.labels,
  hint: (q) => `Select text in “${q.field}”, then press label keys to toggle labels on it. Click a span to remove it.`,
  apply(q, cur, sel, lab, field) {
    const target = sel
      ? cur.find((s) => s.start === sel.start && s.end === sel.end) ?? { start: sel.start, end: sel.end, labels: [] }
      : cur.filter(field.touching()).sort(shortest)[0]; // the innermost span at the caret
    if (!target) return NO_SELECTION;
    const on = !target.labels.includes(lab);
    const labels = q.labels.filter((l) => (l === lab ? on : target.labels.includes(l)));
    const rest = cur.filter((s) => s !== target);
    return (labels.length ? [...rest, { start: target.start, end: target.end, labels }] : rest).sort(byRange);
  },
};

export default {
  empty: () => [],
  isEmpty: () => false, // an empty list is an answer
  show: (v, q, fields) => spansText(v, q, fields, (s) => s.labels.join("+")),
  help: (q, ctx) => [
    ...pickerHelp(q, "Toggle"),
    ...ctx.labelKeys(q.labels).flatMap((key, j) => (key ? [[[key], `Toggle “${q.labels[j]}” on the selection or the span at the caret`]] : [])),
    ...spanRows,
  ],
  marks: (q, v) => v.map((s, i) => ({
    i, label: s.labels.join("+"), h: hue(Math.max(q.labels.indexOf(s.labels[0]), 0)), start: s.start, end: s.end,
  })),
  create: (q, i, ctx) => spanEditor(q, i, ctx, SPAN_LABELS),
};
