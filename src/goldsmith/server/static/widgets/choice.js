// Widget `choice` (kind label): pick one label with its key, a click, or the filter.

import { hue } from "../lib/keys.js";
import { Picker, pickerHelp, pickerOf } from "../lib/picker.js";

/** The label picker of `choice` (one: radio) and `choices` (toggle: checkbox). */
export function labelOptions(q, i, ctx, multi) {
  const choose = (lab) => {
    const cur = ctx.get(q);
    ctx.set(q, !multi ? lab : q.labels.filter((l) => (l === lab ? !cur.includes(l) : cur.includes(l))));
  };
  const picker = pickerOf(ctx, q, () => new Picker({
    labels: q.labels, groups: q.label_groups, keys: ctx.labelKeys(q.labels), role: multi ? "checkbox" : "radio",
    hues: hue, labelledBy: `q-${i}-title`, recentKey: ctx.recentKey?.(q) ?? null, arrowsLR: true,
    onPick: (lab) => { ctx.activate(i); choose(lab); }, onLeave: () => ctx.leave?.(),
  }));
  return {
    body: picker.root,
    update() {
      const v = ctx.get(q);
      picker.update(multi ? (lab) => v.includes(lab) : (lab) => v === lab);
    },
    key: (e) => picker.key(e),
    picker,
  };
}

/** Help rows `[keys, what]` of a question's label keys and its filter. */
export const labelRows = (q, ctx, verb) => [
  ...pickerHelp(q, verb), // a long list: the filter first, then the keys of the first ten
  ...ctx.labelKeys(q.labels).flatMap((key, j) => (key ? [[[key], `${verb} “${q.labels[j]}”`]] : [])),
];

export default {
  empty: () => null,
  isEmpty: (q, v) => v == null,
  show: (v) => String(v),
  help: (q, ctx) => labelRows(q, ctx, "Choose"),
  create: (q, i, ctx) => labelOptions(q, i, ctx, false),
  choices: (q) => q.labels, // a reviewer sets one of these
};
