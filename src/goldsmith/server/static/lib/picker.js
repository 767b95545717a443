// The label picker: a question's labels as buttons, with a filter box that narrows them as you
// type, a highlight that the arrow keys move, recently used labels pinned on top and group
// headings. The label widgets (choice, choices, spans, span_labels) and the review page use it.
//
// Keys (the page passes `key(e)` the keys pressed outside text boxes):
// - a label's own key (1-9, 0 or a reassigned one) picks it;
// - `/`, or a letter that is no shortcut, opens the filter (the letter is its first character);
// - in the filter: ↑/↓ move the highlight, Enter picks it (and leaves the filter empty, so the
//   next Enter is the page's), Esc clears the filter, a second Esc leaves it;
// - outside it: ↑/↓ (and ←/→ where the widget gives them) move the highlight, Space picks it;
// - PageUp/PageDown jump between groups. With the filter empty, arrows stay in their group.
//
// Built once: a keystroke over 1,000 labels creates no DOM. While filtering, the full list stays
// laid out but skipped (`content-visibility: hidden`: not drawn, not in the accessibility tree)
// and the best matches move, the same button nodes, into a short results list; each goes back
// to its place when it stops matching. A keystroke so lays out at most MAX_SHOWN buttons, and
// Esc shows the full list again without laying it out anew; each label has one button only, so
// its state (checked, marks, highlight) and every locator of it stay as they are.

import { el, keepSelection } from "./dom.js";
import { keyName, matches } from "./keys.js";

/** Labels above this many get the filter box and pinned recent labels. */
export const FILTER_FROM = 11;
const RECENT_MAX = 5;
/** While filtering, at most this many matches show (the best): typing more narrows them. */
export const MAX_SHOWN = 100;
/** Buttons per block: off-screen blocks are not laid out (CSS content-visibility). */
const CHUNK = 60;
let ids = 0;

/** Make `wanted` the children of `parent`, in order, with as few moves as it can (a narrower
 * query mostly keeps the order it had); children not in `wanted` are removed. */
function arrange(parent, wanted) {
  let at = parent.firstChild;
  for (const node of wanted) {
    if (node === at) at = at.nextSibling;
    else parent.insertBefore(node, at);
  }
  while (at) {
    const next = at.nextSibling;
    at.remove();
    at = next;
  }
}

/** `buttons` as they go into a group: in blocks of CHUNK when there are many. */
const blocks = (buttons) => (buttons.length <= CHUNK ? buttons
  : Array.from({ length: Math.ceil(buttons.length / CHUNK) }, (_, k) =>
    el("div", { class: "picker-chunk" }, buttons.slice(k * CHUNK, (k + 1) * CHUNK))));

/** Lower case, accents dropped, `_`/`-`/white space as one space: how labels are compared. */
export const norm = (s) =>
  String(s).normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/[\s_\-]+/g, " ").trim();

/** How well the normalised `query` matches the normalised label `t`: 0 equal, 1 its prefix,
 * 2 the start of a word, 3 inside a word, 4 every query word starts a word of the label
 * (any order); -1 no match. Lower is better. */
export function score(t, query, words = null) {
  if (!query) return 0;
  const at = t.indexOf(query);
  if (at === 0) return t.length === query.length ? 0 : 1;
  if (at > 0) return t[at - 1] === " " || t.indexOf(` ${query}`) >= 0 ? 2 : 3;
  if (query.indexOf(" ") < 0) return -1;
  const ws = words ?? t.split(" ");
  return query.split(" ").every((p) => ws.some((w) => w.startsWith(p))) ? 4 : -1;
}

/** Groups in the order of their first label, labels in task order; ungrouped ones last. */
function groupsOf(labels, declared) {
  if (!declared || !Object.keys(declared).length) return [{ name: null, idx: labels.map((_, j) => j) }];
  const groupOf = new Map();
  for (const [name, members] of Object.entries(declared)) for (const lab of members) groupOf.set(lab, name);
  const byName = new Map();
  labels.forEach((lab, j) => {
    const name = groupOf.get(lab) ?? "";
    if (!byName.has(name)) byName.set(name, []);
    byName.get(name).push(j);
  });
  const out = [...byName].filter(([n]) => n !== "").map(([name, idx]) => ({ name, idx }));
  if (byName.has("")) out.push({ name: "Other", idx: byName.get(""), other: true });
  return out;
}

function readRecent(key) {
  try {
    const v = JSON.parse(localStorage.getItem(key) ?? "[]");
    return Array.isArray(v) ? v.filter((x) => typeof x === "string") : [];
  } catch {
    return []; // storage off or malformed: nothing pinned
  }
}

export class Picker {
  /** Options:
   * - `labels`: the label names; `groups`: `{group: [labels]}` or null (the task's `label_groups`);
   * - `keys`: each label's key or null (aligned with `labels`);
   * - `role`: the buttons' role, "radio", "checkbox" or null (actions, as in span widgets);
   * - `hues`: a function `j -> hue` to colour each label, or null;
   * - `labelledBy`: the id of the question's title; `recentKey`: the `localStorage` key of the
   *   recently used labels, or null;
   * - `onPick(label)`: a label was chosen (click, key, Enter, Space);
   * - `onLeave()` (optional): focus left the filter after a pick or a second Esc;
   * - `arrowsLR`: whether ←/→ move the highlight too (not where they move a text caret). */
  constructor(o) {
    this.o = o;
    this.id = `picker-${++ids}`;
    this.labels = o.labels;
    this.norms = o.labels.map(norm);
    this.words = this.norms.map((t) => t.split(" "));
    this.filterable = o.labels.length >= FILTER_FROM;
    this.query = "";
    this.hl = null; // the highlighted button
    this.buttons = o.labels.map((lab, j) => this.#button(lab, j, `${this.id}-${j}`));
    this.index = new Map(this.buttons.map((b, j) => [b, j]));
    this.shown = []; // the buttons in the results list now
    this.groups = groupsOf(o.labels, o.groups);
    this.grouped = this.groups.length > 1 || this.groups[0].name != null;
    this.recent = { box: el("div", { class: "picker-group picker-recent", hidden: true }), buttons: [] };
    const head = (text, id) => el("div", { class: "picker-heading", id }, text);
    for (const [g, group] of this.groups.entries()) {
      const hid = `${this.id}-g${g}`;
      group.box = el("div", { class: "picker-group picker-home", role: "group", "aria-labelledby": this.grouped ? hid : null },
        this.grouped ? head(group.name, hid) : (this.allHead = el("div", { class: "picker-heading picker-all", hidden: true }, "All labels")),
        el("div", { class: "options" }, blocks(group.idx.map((j) => this.buttons[j]))));
      for (const j of group.idx) this.buttons[j].dataset.group = String(g);
      // the group as it shows among the matches: its own heading, the matched buttons moved in
      group.hits = el("div", { class: "options" });
      group.hitBox = el("div", { class: "picker-group", role: "group", "aria-labelledby": this.grouped ? `${hid}-hits` : null },
        this.grouped ? head(group.name, `${hid}-hits`) : null, group.hits);
    }
    this.homes = this.buttons.map((b) => b.parentNode); // where each button sits in the full list
    this.results = el("div", { class: "picker-results", hidden: true });
    const role = o.role === "radio" ? "radiogroup" : "group";
    this.list = el("div", {
      class: `picker-list${this.filterable ? " long" : ""}`, id: `${this.id}-list`, role,
      "aria-labelledby": o.labelledBy ?? null,
    }, this.results, this.recent.box, this.groups.map((g) => g.box));
    this.none = el("p", { class: "picker-none muted", hidden: true, role: "status" });
    this.input = this.filterable ? el("input", {
      type: "text", class: "picker-input", autocomplete: "off", spellcheck: "false",
      placeholder: `Filter ${o.labels.length} labels`, "aria-label": "Filter labels",
      "aria-controls": this.list.id, "aria-keyshortcuts": "/",
      oninput: () => this.filter(this.input.value), onkeydown: (e) => this.#inputKey(e),
    }) : null;
    this.count = el("span", { class: "picker-count muted small", "aria-live": "polite" });
    // the highlight shows where the filter is, or once the arrows have moved it
    this.root = el("div", { class: `picker${this.grouped ? " grouped" : ""}${this.filterable ? " show-hl" : ""}`, "data-labels": o.labels.length },
      this.input ? el("div", { class: "picker-bar" }, this.input, el("kbd", { "aria-hidden": "true" }, "/"), this.count) : null,
      this.list, this.none);
    this.reset();
  }

  #button(lab, j, id) {
    const key = this.o.keys?.[j] ?? null;
    return el("button", {
      type: "button", class: "option", id, role: this.o.role, "data-value": lab,
      "aria-checked": this.o.role ? "false" : null, "aria-keyshortcuts": key,
      style: this.o.hues ? { "--h": this.o.hues(j) } : null, tabindex: "-1",
      onmousedown: keepSelection, onclick: () => this.#pick(j),
    }, key ? el("kbd", {}, keyName(key)) : null, el("span", {}, lab));
  }

  #pick(j) {
    this.#remember(this.labels[j]);
    this.setHighlight(this.buttons[j]);
    this.o.onPick(this.labels[j]);
  }

  // ------------------------------------------------------------------ state

  /** A fresh start (a new record): empty filter, recent labels re-read, highlight reset. */
  reset() {
    if (this.input) this.input.value = "";
    this.#drawRecent();
    this.filter("");
  }

  /** Redraw which labels are chosen: `checked(label)` is true for each chosen one. */
  update(checked) {
    if (!this.o.role) return;
    for (const b of [...this.buttons, ...this.recent.buttons]) {
      const v = String(checked(b.dataset.value));
      if (b.getAttribute("aria-checked") !== v) b.setAttribute("aria-checked", v);
    }
    if (!this.query && !this.hl) this.setHighlight(this.#first());
  }

  /** Mark the buttons whose label passes `test` with class `cls` (the review page's proposal). */
  mark(cls, test) {
    for (const b of [...this.buttons, ...this.recent.buttons]) b.classList.toggle(cls, test(b.dataset.value));
  }

  #remember(lab) {
    const key = this.o.recentKey;
    if (!key || !this.filterable) return;
    try {
      localStorage.setItem(key, JSON.stringify([lab, ...readRecent(key).filter((x) => x !== lab)].slice(0, RECENT_MAX)));
    } catch {
      // storage full or off: the picker works without pins
    }
  }

  /** The pinned row: clones of the recent labels (redrawn on reset, so it never moves under the mouse). */
  #drawRecent() {
    const key = this.o.recentKey;
    const idx = key && this.filterable ? readRecent(key).map((lab) => this.labels.indexOf(lab)).filter((j) => j >= 0) : [];
    this.recent.buttons = idx.map((j) => {
      const b = this.#button(this.labels[j], j, `${this.id}-r${j}`);
      b.dataset.group = "recent";
      b.dataset.of = String(j);
      b.setAttribute("aria-checked", this.buttons[j].getAttribute("aria-checked") ?? "false");
      if (!this.o.role) b.removeAttribute("aria-checked");
      return b;
    });
    const hid = `${this.id}-recent`;
    this.recent.box.replaceChildren(
      el("div", { class: "picker-heading", id: hid }, "Recent"),
      el("div", { class: "options" }, this.recent.buttons));
    this.recent.box.setAttribute("role", "group");
    this.recent.box.setAttribute("aria-labelledby", hid);
    this.recent.box.hidden = !idx.length;
    if (this.allHead) this.allHead.hidden = !idx.length; // under the pins, say where the rest starts
  }

  // ------------------------------------------------------------------ filtering

  /** Show the labels that match `text`, best first (at most MAX_SHOWN), in the results list;
   * no DOM is built, and only the matches that change move. */
  filter(text) {
    const q = norm(text);
    this.query = q;
    this.root.classList.toggle("filtering", !!q);
    this.recent.box.hidden = !!q || !this.recent.buttons.length;
    let found = this.buttons.length;
    this.hits = null;
    if (q) {
      const hits = [];
      for (let j = 0; j < this.norms.length; j++) {
        const s = score(this.norms[j], q, this.words[j]);
        if (s >= 0) hits.push([s, j]);
      }
      hits.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      found = hits.length;
      this.hits = hits.slice(0, MAX_SHOWN).map(([, j]) => j);
      requestAnimationFrame(() => { this.list.scrollTop = 0; }); // the best match is first
    }
    this.#showHits();
    this.none.hidden = found > 0;
    if (!found) this.none.textContent = `No label matches “${text.trim()}”. Esc clears the filter.`;
    if (this.count) {
      this.count.textContent = !q ? "" : found > MAX_SHOWN ? `best ${MAX_SHOWN} of ${found}` : `${found} of ${this.labels.length}`;
    }
    this.setHighlight(this.#first());
  }

  /** Move the buttons of `this.hits` into the results list, by group (the group of the best
   * match first), and the ones that left it back to their place in the full list. */
  #showHits() {
    const rows = this.hits ? this.#byGroup() : [];
    const now = new Set(rows.flat());
    for (const b of this.shown) if (!now.has(b)) this.#putBack(b);
    this.shown = [...now];
    const groupOf = (row) => this.groups[Number(row[0].dataset.group)];
    for (const row of rows) arrange(groupOf(row).hits, row);
    arrange(this.results, rows.map((row) => groupOf(row).hitBox));
    this.results.hidden = !this.hits;
  }

  /** Button `b` back to its place in the full list (its block keeps the labels' order). */
  #putBack(b) {
    const j = this.index.get(b);
    const home = this.homes[j];
    let next = home.firstElementChild;
    while (next && this.index.get(next) < j) next = next.nextElementSibling;
    home.insertBefore(b, next);
  }

  /** The matches (`this.hits`) as they show: by group, in the order of each group's best. */
  #byGroup() {
    const byGroup = new Map();
    for (const j of this.hits) {
      const g = this.buttons[j].dataset.group;
      if (!byGroup.has(g)) byGroup.set(g, []);
      byGroup.get(g).push(this.buttons[j]);
    }
    return [...byGroup.values()];
  }

  /** The visible buttons in the order they show, as groups: `[[button, ...], ...]`. */
  #rows() {
    if (this.hits) return [this.#byGroup().flat()]; // filtered: one list, arrows cross groups
    const rows = this.groups.map((g) => g.idx.map((j) => this.buttons[j]));
    return this.recent.buttons.length ? [this.recent.buttons, ...rows] : rows;
  }

  #first() {
    const rows = this.#rows();
    if (!this.hits) { // the chosen label when there is one, else the first
      const on = rows.flat().find((b) => b.getAttribute("aria-checked") === "true" && b.dataset.group !== "recent");
      if (on) return on;
    }
    return rows.flat()[0] ?? null;
  }

  /** Highlight button `b`; `scroll`: bring it into view (a move by key). */
  setHighlight(b, scroll = false) {
    if (this.hl === b) return;
    this.hl?.classList.remove("hl");
    this.hl = b;
    if (b) {
      b.classList.add("hl");
      if (scroll) b.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
    this.input?.setAttribute("aria-activedescendant", b?.id ?? "");
    this.list.setAttribute("aria-activedescendant", b?.id ?? "");
  }

  /** Move the highlight `d` steps within its group (or the filtered list), wrapping round. */
  move(d) {
    this.root.classList.add("show-hl");
    const rows = this.#rows();
    const row = rows.find((r) => r.includes(this.hl)) ?? rows[0];
    if (!row?.length) return;
    const k = row.indexOf(this.hl);
    this.setHighlight(row[k < 0 ? 0 : (k + d + row.length) % row.length], true);
  }

  /** Jump to the first label of the next (`d` = 1) or previous (-1) group. */
  jump(d) {
    this.root.classList.add("show-hl");
    const rows = this.#rows();
    const k = rows.findIndex((r) => r.includes(this.hl));
    const next = rows[(Math.max(k, 0) + d + rows.length) % rows.length];
    if (next?.length) this.setHighlight(next[0], true);
  }

  pickHighlighted() {
    if (!this.hl) return false;
    this.#pick(Number(this.hl.dataset.of ?? this.buttons.indexOf(this.hl)));
    return true;
  }

  // ------------------------------------------------------------------ keys

  /** Open the filter with `text` in it. */
  focus(text = null) {
    if (!this.input) return false;
    this.input.focus({ preventScroll: true });
    if (text != null) {
      this.input.value = text;
      this.filter(text);
    }
    this.input.scrollIntoView({ block: "nearest" });
    return true;
  }

  #leave() {
    this.input.blur();
    this.o.onLeave?.();
  }

  #inputKey(e) {
    if (e.isComposing) return;
    const mod = e.ctrlKey || e.metaKey || e.altKey;
    const stop = () => { e.preventDefault(); e.stopPropagation(); };
    if (mod) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") { stop(); this.move(e.key === "ArrowDown" ? 1 : -1); }
    else if (e.key === "PageDown" || e.key === "PageUp") { stop(); this.jump(e.key === "PageDown" ? 1 : -1); }
    else if (e.key === "Enter" && !e.shiftKey && this.query) { // with an empty filter, Enter is the page's
      stop();
      if (!this.pickHighlighted()) return;
      this.input.value = "";
      this.filter("");
      this.#leave();
    } else if (e.key === "Escape") {
      stop();
      if (this.input.value) { this.input.value = ""; this.filter(""); }
      else this.#leave();
    }
  }

  /** The page's key handler for keys pressed outside text boxes: true when the picker used it. */
  key(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return false;
    const j = this.labels.findIndex((_, k) => matches(e, this.o.keys?.[k]));
    if (j >= 0) { this.#pick(j); return true; }
    const k = e.key;
    if (this.filterable && k === "/") return this.focus();
    if (this.filterable && k.length <= 2 && /^\p{L}$/u.test(k)) return this.focus(k);
    if (k === "ArrowDown" || k === "ArrowUp" || (this.o.arrowsLR && (k === "ArrowLeft" || k === "ArrowRight"))) {
      this.move(k === "ArrowDown" || k === "ArrowRight" ? 1 : -1);
      return true;
    }
    if (this.grouped && (k === "PageDown" || k === "PageUp")) { this.jump(k === "PageDown" ? 1 : -1); return true; }
    // Space picks the highlight only where it shows (a long list, or once the arrows moved it)
    if (k === " " && this.hl && this.root.classList.contains("show-hl")) return this.pickHighlighted();
    return false;
  }
}

const built = new WeakMap(); // page context -> Map(question -> its Picker)

/** The picker of question `q` on the page whose widget context is `ctx`: built by `make()` the
 * first time, then reused (reset: empty filter, fresh pins) for every record, so that the next
 * record costs no new buttons. */
export function pickerOf(ctx, q, make) {
  if (!built.has(ctx)) built.set(ctx, new Map());
  const mine = built.get(ctx);
  const p = mine.get(q);
  if (p) { p.reset(); return p; }
  mine.set(q, make());
  return mine.get(q);
}

/** Help rows `[keys, what]` of the filter of question `q` (none for short label lists);
 * `verb` says what picking does ("Choose", "Toggle", ...). */
export function pickerHelp(q, verb) {
  if ((q.labels?.length ?? 0) < FILTER_FROM) return [];
  const grouped = !!q.label_groups && Object.keys(q.label_groups).length > 0;
  return [
    [["/", "a–z"], "Filter the labels (a letter that is no other key starts the filter with it)"],
    [["↑", "↓"], grouped ? "Move the highlight within a group (through every match while filtering)" : "Move the highlight"],
    ...(grouped ? [[["PageUp", "PageDown"], "Previous / next group"]] : []),
    [["Enter"], `In the filter: ${verb.toLowerCase()} the highlighted label; with the filter empty, Enter submits`],
    [["Space"], `${verb} the highlighted label (outside the filter)`],
    [["Esc"], "Clear the filter; a second Esc leaves it"],
  ];
}
