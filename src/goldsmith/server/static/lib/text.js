// Text fields on the page: offsets between the DOM and the API, and long texts drawn in blocks.
//
// Offsets: the DOM counts UTF-16 code units, the API counts Python code points. `OffsetMap`
// converts at the boundary; every value the widgets store is in code points.

import { el } from "./dom.js";

const ASTRAL = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

/** Converts between UTF-16 offsets (DOM) and code-point offsets (API) for one text. */
export class OffsetMap {
  constructor(text) {
    this.astral = []; // UTF-16 index of every surrogate pair, ascending
    for (const m of text.matchAll(ASTRAL)) this.astral.push(m.index);
  }
  #below(v, f) { // the number of k with f(astral[k], k) < v, by bisection (f grows with k)
    let [lo, hi] = [0, this.astral.length];
    while (lo < hi) { const mid = (lo + hi) >> 1; if (f(this.astral[mid], mid) < v) lo = mid + 1; else hi = mid; }
    return lo;
  }
  toCp(u) { return u - this.#below(u, (x) => x); }
  toU16(cp) { return cp + this.#below(cp, (x, k) => x - k); }
}

const isHigh = (c) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c) => c >= 0xdc00 && c <= 0xdfff;
/** Move a UTF-16 offset by one code point, never into the middle of a surrogate pair. */
export function step(text, i, dir) {
  if (dir > 0) return i >= text.length ? i : i + (isHigh(text.charCodeAt(i)) && isLow(text.charCodeAt(i + 1)) ? 2 : 1);
  return i <= 0 ? 0 : i - (isLow(text.charCodeAt(i - 1)) && isHigh(text.charCodeAt(i - 2)) ? 2 : 1);
}
const WORD = /[\p{L}\p{N}\p{M}_]/u;
export function wordStep(text, i, dir) {
  const wordAt = (j) => WORD.test(String.fromCodePoint(text.codePointAt(j)));
  const at = (j) => (dir > 0 ? j < text.length && wordAt(j) : j > 0 && wordAt(step(text, j, -1)));
  const end = dir > 0 ? text.length : 0;
  while (i !== end && !at(i)) i = step(text, i, dir);
  while (i !== end && at(i)) i = step(text, i, dir);
  return i;
}
/** `i` moved out of the word it cuts: to the word's start (`dir` < 0) or end (`dir` > 0); an
 * offset between words, or at a word's edge, stays. UTF-16 offsets, astral-safe. */
export function snapWord(text, i, dir) {
  const isWord = (j) => j >= 0 && j < text.length && WORD.test(String.fromCodePoint(text.codePointAt(j)));
  const before = (j) => j > 0 && isWord(step(text, j, -1));
  if (!before(i) || !isWord(i)) return i; // not inside a word
  if (dir < 0) { while (before(i)) i = step(text, i, -1); } else { while (isWord(i)) i = step(text, i, 1); }
  return i;
}
/** Snap a UTF-16 offset out of the middle of a surrogate pair (towards `dir`). */
export const snap = (text, i, dir) => (isLow(text.charCodeAt(i)) && isHigh(text.charCodeAt(i - 1)) ? i + (dir > 0 ? 1 : -1) : i);

// Long texts are cut into blocks (at a newline, else a space, every ~CHUNK units): each block
// lays out on its own and off-screen blocks are skipped (CSS content-visibility), so a 1 MB
// field renders as a few dozen nodes. Spans only split the text at their own boundaries.
const CHUNK = 16384;

export function chunkBounds(text) {
  const out = [0];
  for (let start = 0; start < text.length;) {
    let end = Math.min(start + CHUNK, text.length);
    if (end < text.length) {
      const win = text.slice(start, end);
      const cut = win.lastIndexOf("\n") + 1 || win.lastIndexOf(" ") + 1;
      end = cut > 0 ? start + cut : snap(text, end, 1);
    }
    out.push(end);
    start = end;
  }
  return out;
}

/** The colours of a segment's covering spans, innermost first: `--h`, then `--h2`, `--h3`
 * for the underlines of the spans around it. */
const layers = (cover) => Object.fromEntries(cover.slice(0, 3).map((sp, k) => [k ? `--h${k + 1}` : "--h", sp.h]));

/** Fill `box` with `text` cut at `bounds` and at the boundaries of `spans` (UTF-16). */
export function drawText(box, text, bounds, spans = []) {
  const cuts = [...new Set([...bounds, ...spans.flatMap((sp) => [sp.s, sp.e])])].sort((a, b) => a - b);
  const frag = document.createDocumentFragment();
  let chunk = null;
  let next = 0; // index into bounds of the next block start
  for (let k = 0; k + 1 < cuts.length; k++) {
    const [a, b] = [cuts[k], cuts[k + 1]];
    if (a === bounds[next]) {
      chunk = frag.appendChild(el("div", { class: "chunk" }));
      next++;
    }
    const cover = spans.filter((sp) => sp.s <= a && sp.e >= b).sort((x, y) => x.e - x.s - (y.e - y.s));
    if (!cover.length) {
      chunk.append(text.slice(a, b));
      continue;
    }
    const top = cover[0]; // the innermost span gives the colour and is removed by a click
    const ending = cover.filter((sp) => sp.e === b).map((sp) => sp.label);
    chunk.append(el("mark", {
      style: layers(cover), "data-q": top.q, "data-i": top.i, "data-depth": cover.length,
      "data-tag": ending.length ? ending.join(" · ") : null,
      title: `${cover.map((sp) => sp.label).join(", ")} (click to remove)`,
    }, text.slice(a, b)));
  }
  box.replaceChildren(frag);
}

/** A span set as short text: with the record's `fields`, each span as its words and labels
 * (“BRCA1” (Gene)); without them, the labels only. `labelsOf(span)` gives a span's labels. */
export function spansText(v, q, fields, labelsOf) {
  if (!v.length) return "no spans";
  const text = fields?.[q?.field];
  if (typeof text !== "string") return v.map(labelsOf).join(", ");
  const cp = [...text]; // offsets are code points
  return v.map((s) => `“${cp.slice(s.start, s.end).join("")}” (${labelsOf(s)})`).join(", ");
}
