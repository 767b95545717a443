// Widget `text` (kind text): a textarea; keys type, Ctrl+Enter submits, Esc leaves it.

import { el } from "../lib/dom.js";
import { keyName, mod } from "../lib/keys.js";

export default {
  empty: () => "",
  isEmpty: (q, v) => !v || !v.trim(),
  show: (v) => (v.length > 80 ? `${v.slice(0, 80)}…` : v),
  help: (q, ctx) => [
    [[`${mod}+${keyName(ctx.keys.submit)}`], "Submit while typing (letters, numbers and Enter type text)"],
    [["Esc"], "Leave the text box so the shortcut keys work again"],
  ],
  create(q, i, ctx) {
    const ta = el("textarea", {
      class: "answer", rows: 5, "aria-labelledby": `q-${i}-title`, spellcheck: "true",
      placeholder: `Type here. ${mod}+${keyName(ctx.keys.submit)} submits, Esc leaves the box.`,
    });
    ta.value = ctx.get(q);
    ta.addEventListener("input", () => ctx.set(q, ta.value));
    ta.addEventListener("focus", () => !ctx.isActive(i) && ctx.activate(i));
    return {
      body: ta,
      update() { if (ta.value !== ctx.get(q)) ta.value = ctx.get(q); },
      key: () => false,
      focus: () => ta.focus(),
    };
  },
};
