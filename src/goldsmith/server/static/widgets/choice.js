// Widget `choice` (kind label): pick one label with its key or a click.

import { el } from "../lib/dom.js";
import { byKey, hue, optionButton } from "../lib/keys.js";

/** The label buttons of `choice` (one: radio) and `choices` (toggle: checkbox). */
export function labelOptions(q, i, ctx, multi) {
  const keys = ctx.labelKeys(q.labels);
  const choose = (lab) => {
    const cur = ctx.get(q);
    ctx.set(q, !multi ? lab : q.labels.filter((l) => (l === lab ? !cur.includes(l) : cur.includes(l))));
  };
  const buttons = q.labels.map((lab, j) => optionButton({
    role: multi ? "checkbox" : "radio", key: keys[j], text: lab, value: lab, h: hue(j),
    onclick: () => { ctx.activate(i); choose(lab); },
  }));
  return {
    body: el("div", { class: "options", role: multi ? "group" : "radiogroup", "aria-labelledby": `q-${i}-title` }, buttons),
    update() {
      const v = ctx.get(q);
      for (const b of buttons) b.setAttribute("aria-checked", String(multi ? v.includes(b.dataset.value) : v === b.dataset.value));
    },
    key: (e) => byKey(e, q.labels, (_, j) => keys[j], choose),
  };
}

/** Help rows `[keys, what]` of a question's label keys. */
export const labelRows = (q, ctx, verb) =>
  ctx.labelKeys(q.labels).flatMap((key, j) => (key ? [[[key], `${verb} “${q.labels[j]}”`]] : []));

export default {
  empty: () => null,
  isEmpty: (q, v) => v == null,
  show: (v) => String(v),
  help: (q, ctx) => labelRows(q, ctx, "Choose"),
  create: (q, i, ctx) => labelOptions(q, i, ctx, false),
  choices: (q) => q.labels, // a reviewer sets one of these
};
