// A text field that spans are drawn on, with a keyboard caret and selection: the selection
// code of every widget that marks spans of text (`spans`, `span_labels`).

import { el } from "./dom.js";
import { OffsetMap, chunkBounds, drawText, snap, snapWord, step, wordStep } from "./text.js";

/** The field asks the page through `host`:
 * - `marks()`: the spans drawn on it, `{q, i, label, h, start, end}` in code points;
 * - `caretOn()`: whether the current question marks this field (the caret shows);
 * - `activate()`: a mouse selection in it makes its question the current one;
 * - `remove(q, i)`: a click on a mark removes span `i` of question `q`. */
export class SpanField {
  constructor(name, text, box, host) {
    this.name = name;
    this.text = text;
    this.box = box;
    this.host = host;
    this.map = new OffsetMap(text);
    this.bounds = chunkBounds(text);
    this.anchor = 0; // keyboard selection, UTF-16
    this.focus = 0;
    this.caret = el("div", { class: "caret", "aria-hidden": "true", hidden: true });
    this.wrap = el("div", { class: "text-wrap" }, box, this.caret);
    box.classList.add("spannable");
    box.addEventListener("click", (e) => this.#click(e));
    box.addEventListener("mouseup", (e) => { this.#snapToWords(e); host.activate(); });
  }

  /** The spans of every question on this field, in UTF-16 offsets. */
  spans() {
    return this.host.marks().map(({ start, end, ...m }) => ({
      ...m, s: this.map.toU16(start), e: Math.min(this.map.toU16(end), this.text.length),
    }));
  }

  /** Redraw: the text is split only at span boundaries, so a huge field stays a few nodes. */
  render() {
    const spans = this.spans();
    const sig = JSON.stringify(spans);
    if (sig === this.drawn) return this.drawCaret(); // unchanged: keep the nodes and the selection
    this.drawn = sig;
    const sel = getSelection();
    const hadSelection = sel.rangeCount > 0 && this.box.contains(sel.anchorNode);
    drawText(this.box, this.text, this.bounds, spans);
    if (hadSelection) this.select(this.anchor, this.focus); // the old text nodes are gone
    else this.drawCaret();
  }

  /** A mouse selection that cuts a word grows to the whole word at each end (Alt held: exact). */
  #snapToWords(e) {
    if (e.altKey) return;
    const sel = getSelection();
    if (!sel.rangeCount || sel.isCollapsed || !this.box.contains(sel.anchorNode) || !this.box.contains(sel.focusNode)) return;
    const anchor = this.offsetOf(sel.anchorNode, sel.anchorOffset);
    const focus = this.offsetOf(sel.focusNode, sel.focusOffset);
    const forward = anchor <= focus;
    const a = snapWord(this.text, snap(this.text, Math.min(anchor, focus), -1), -1);
    const b = snapWord(this.text, snap(this.text, Math.max(anchor, focus), 1), 1);
    if (a === Math.min(anchor, focus) && b === Math.max(anchor, focus)) return;
    if (forward) this.select(a, b); else this.select(b, a);
  }

  #click(e) {
    const mark = e.target.closest("mark");
    if (!mark || !getSelection().isCollapsed) return; // a drag that ends on a mark selects
    this.sync(); // the caret goes where the click was
    this.host.remove(mark.dataset.q, Number(mark.dataset.i));
  }

  /** DOM (node, offset) -> UTF-16 offset in this field, clamped to it. */
  offsetOf(node, off) {
    if (!this.box.contains(node)) {
      return this.box.compareDocumentPosition(node) & Node.DOCUMENT_POSITION_PRECEDING ? 0 : this.text.length;
    }
    const point = document.createRange();
    point.setStart(node, off);
    const walk = document.createTreeWalker(this.box, NodeFilter.SHOW_TEXT);
    let acc = 0;
    for (let t = walk.nextNode(); t; t = walk.nextNode()) {
      if (t === node) return acc + off;
      if (point.comparePoint(t, 0) >= 0) return acc;
      acc += t.length;
    }
    return acc;
  }

  /** UTF-16 offset -> DOM (node, offset). */
  pointAt(u) {
    const walk = document.createTreeWalker(this.box, NodeFilter.SHOW_TEXT);
    let acc = 0;
    let last = null;
    for (let t = walk.nextNode(); t; t = walk.nextNode()) {
      if (u <= acc + t.length) return [t, u - acc];
      acc += t.length;
      last = t;
    }
    return last ? [last, last.length] : [this.box, 0];
  }

  /** The live DOM selection inside this field as [start, end) UTF-16, or null. */
  selection() {
    const sel = getSelection();
    if (!sel.rangeCount || sel.isCollapsed) return null;
    const r = sel.getRangeAt(0);
    if (!r.intersectsNode(this.box)) return null;
    const a = snap(this.text, this.offsetOf(r.startContainer, r.startOffset), -1);
    const b = snap(this.text, this.offsetOf(r.endContainer, r.endOffset), 1);
    return a < b ? [a, b] : null;
  }

  /** What a label key applies to: the mouse or keyboard selection without the white space
   * around it, as `{start, end}` code points and `b`, its UTF-16 end; `null` when nothing is
   * selected; `{blank: true}` when only white space is. */
  chosen() {
    const sel = this.selection() ?? (this.anchor !== this.focus ? [Math.min(this.anchor, this.focus), Math.max(this.anchor, this.focus)] : null);
    if (!sel) return null;
    let [a, b] = sel;
    while (a < b && /\s/.test(this.text[a])) a++; // trim surrounding white space
    while (b > a && /\s/.test(this.text[b - 1])) b--;
    if (a === b) return { blank: true };
    return { start: this.map.toCp(a), end: this.map.toCp(b), b };
  }

  /** A test of whether a span `{start, end}` (code points) touches the selection or caret. */
  touching() {
    const [a, b] = this.selection() ?? [Math.min(this.anchor, this.focus), Math.max(this.anchor, this.focus)];
    const [ca, cb] = [this.map.toCp(a), this.map.toCp(b)];
    return (s) => (ca === cb ? s.start <= ca && ca <= s.end : s.start < cb && s.end > ca);
  }

  /** The text of span `{start, end}` (code points). */
  slice(s) { return this.text.slice(this.map.toU16(s.start), this.map.toU16(s.end)); }

  /** Keep the keyboard caret in step with a mouse selection. */
  sync() {
    const sel = getSelection();
    if (!sel.rangeCount || !this.box.contains(sel.focusNode)) return;
    this.anchor = snap(this.text, this.offsetOf(sel.anchorNode, sel.anchorOffset), -1);
    this.focus = snap(this.text, this.offsetOf(sel.focusNode, sel.focusOffset), 1);
    this.drawCaret();
  }

  select(anchor, focus) {
    this.anchor = anchor;
    this.focus = focus;
    const [an, ao] = this.pointAt(anchor);
    const [fn, fo] = this.pointAt(focus);
    getSelection().setBaseAndExtent(an, ao, fn, fo);
    this.drawCaret();
    this.caret.scrollIntoView?.({ block: "nearest" });
  }

  /** Arrow keys move the caret; Shift extends the selection; Ctrl/Alt jump words. */
  move(e) {
    const dir = e.key === "ArrowRight" ? 1 : -1;
    const to = e.ctrlKey || e.altKey || e.metaKey ? wordStep(this.text, this.focus, dir) : step(this.text, this.focus, dir);
    this.select(e.shiftKey ? this.anchor : to, to);
  }

  drawCaret() {
    const on = this.host.caretOn() && this.text.length > 0;
    this.caret.hidden = !on;
    if (!on) return;
    const [n, o] = this.pointAt(Math.min(this.focus, this.text.length));
    const r = document.createRange();
    r.setStart(n, o);
    let rect = r.getClientRects()[0] ?? r.getBoundingClientRect();
    if (!rect.height && o > 0) { // at a line end the collapsed range has no box; use the char before
      r.setStart(n, o - 1);
      r.setEnd(n, o);
      const b = r.getBoundingClientRect();
      rect = { left: b.right, top: b.top, height: b.height };
    }
    const w = this.wrap.getBoundingClientRect();
    this.caret.style.transform = `translate(${rect.left - w.left}px, ${rect.top - w.top}px)`;
    this.caret.style.height = `${rect.height || 20}px`;
  }
}
