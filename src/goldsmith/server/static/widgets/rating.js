// Widget `rating` (kind rating): number keys (the value itself when min..max fits 0-9) or ←/→.

import { el } from "../lib/dom.js";
import { byKey, optionButton } from "../lib/keys.js";

export default {
  empty: () => null,
  isEmpty: (q, v) => v == null,
  show: (v) => String(v),
  help: (q) => [[[`${q.min ?? 1}–${q.max ?? 5}`], "Rate (number keys; ← / → step)"]],
  create(q, i, ctx) {
    const [lo, hi] = [q.min ?? 1, q.max ?? 5];
    const vals = Array.from({ length: hi - lo + 1 }, (_, j) => lo + j);
    const keyOf = (v, j) => (lo >= 0 && hi <= 9 ? String(v) : j < 9 ? String(j + 1) : j === 9 ? "0" : null);
    const pick = (v) => ctx.set(q, v);
    const buttons = vals.map((v, j) => optionButton({
      role: "radio", key: keyOf(v, j), text: String(v), value: v,
      onclick: () => { ctx.activate(i); pick(v); },
    }));
    return {
      body: el("div", { class: "options rating", role: "radiogroup", "aria-labelledby": `q-${i}-title` },
        el("span", { class: "muted small" }, lo), buttons, el("span", { class: "muted small" }, hi)),
      update() { for (const b of buttons) b.setAttribute("aria-checked", String(ctx.get(q) === Number(b.dataset.value))); },
      key(e) {
        const cur = ctx.get(q);
        if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
          const d = e.key === "ArrowRight" ? 1 : -1;
          pick(Math.min(hi, Math.max(lo, cur == null ? (d > 0 ? lo : hi) : cur + d)));
          return true;
        }
        return byKey(e, vals, keyOf, pick);
      },
    };
  },
};
