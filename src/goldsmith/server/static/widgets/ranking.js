// Widget `ranking` (kind preference): 2 candidates -> press the winner; more -> press them best first.

import { el, keepSelection } from "../lib/dom.js";
import { byKey } from "../lib/keys.js";

/** The candidates of question `q` in `record`: a list field (or a JSON list in a string). */
export function candidates(q, record) {
  let v = record?.fields[q.candidates_field];
  if (typeof v === "string") {
    try { v = JSON.parse(v); } catch { v = [v]; }
  }
  if (!Array.isArray(v)) return [];
  return v.map((c) => (typeof c === "string" ? c : c?.content ?? c?.text ?? JSON.stringify(c)));
}

export default {
  empty: () => [],
  isEmpty: (q, v, record) => !Array.isArray(v) || v.length < Math.max(2, candidates(q, record).length),
  sendable: (q, v) => v.length >= 2, // a partial ranking is saved too
  show: (v) => v.map((j) => j + 1).join(" > "),
  ownsField: (q) => q.candidates_field, // the widget shows the candidates itself
  wide: true, // candidates need room: the page splits evenly
  help: () => [
    [["1", "2", "…"], "Pick the better candidate; with more than two, press them best first"],
    [["Delete"], "Clear the ranking"],
  ],
  create(q, i, ctx) {
    const cands = candidates(q, ctx.record());
    const n = cands.length;
    // Ranked n-1 of n, the widget fills the last place itself ("implied"); pressing that one
    // then confirms it, so every order typed in full (2, 1, 3) is kept as typed.
    let implied = null;
    const pick = (j) => {
      let r = ctx.get(q).slice();
      if (implied != null && (r.length !== n || r.at(-1) !== implied)) implied = null; // changed elsewhere
      if (n === 2) r = [j, 1 - j];
      else if (j === implied) implied = null; // confirmed: the order stays
      else if (r.includes(j)) { // a ranked one again: taken out (with the place filled in for it)
        r = r.filter((x) => x !== j && x !== implied);
        implied = null;
      } else {
        r.push(j);
        if (r.length === n - 1) {
          implied = [...cands.keys()].find((x) => !r.includes(x));
          r.push(implied);
        }
      }
      ctx.set(q, r);
    };
    const badges = cands.map(() => el("span", { class: "rank" }));
    const cards = cands.map((c, j) => el("article", { class: "candidate", "data-index": j },
      el("button", {
        type: "button", class: "candidate-head", "aria-keyshortcuts": j < 9 ? String(j + 1) : null,
        onmousedown: keepSelection, onclick: () => { ctx.activate(i); pick(j); },
      }, j < 9 ? el("kbd", {}, j + 1) : null, el("span", {}, `Candidate ${j + 1}`), badges[j]),
      el("div", { class: "candidate-text" }, c)));
    const summary = el("p", { class: "ranking", "aria-live": "polite" });
    const order = el("ol", { class: "ranking-order", "aria-label": "Order so far" });
    const next = el("p", { class: "muted small ranking-next" });
    return {
      body: n < 2
        ? el("p", { class: "muted" }, `This record has fewer than two candidates in “${q.candidates_field}”.`)
        : el("div", {},
          el("p", { class: "hint" }, n === 2 ? "Press the number of the better candidate." : "Press candidate numbers, best first. Press a ranked one again to take it out."),
          el("div", { class: `candidates n${Math.min(n, 3)}` }, cards), summary, n > 2 ? order : null, n > 2 ? next : null),
      update() {
        const r = ctx.get(q);
        cards.forEach((c, j) => {
          const k = r.indexOf(j);
          c.classList.toggle("ranked", k >= 0);
          c.classList.toggle("winner", k === 0);
          badges[j].textContent = k < 0 ? "" : n === 2 ? (k === 0 ? "preferred" : "") : `#${k + 1}`;
        });
        summary.textContent = r.length ? `Ranking: ${r.map((j) => j + 1).join(" > ")}` : "No choice yet.";
        if (implied != null && r.at(-1) !== implied) implied = null;
        order.replaceChildren(...r.map((j, k) => el("li", { class: j === implied ? "implied" : null },
          `#${k + 1} `, el("span", {}, `Candidate ${j + 1}`))));
        next.textContent = r.length < n ? `Press the candidate for place #${r.length + 1}.`
          : implied != null ? `Candidate ${implied + 1} is last by elimination: press ${implied + 1} to confirm, or Enter to submit.`
            : "Complete. Press a ranked candidate to take it out, Delete to clear.";
      },
      key(e) {
        if (e.key === "Delete") { implied = null; ctx.set(q, []); return true; }
        return byKey(e, cands, (_, k) => (k < 9 ? String(k + 1) : null), (_, j) => pick(j));
      },
    };
  },
};
