// A record's context, drawn the same way on every page: its metadata under the record, and its
// fields read-only (the feedback page). Values only ever go into the page as text.

import { el } from "./dom.js";

const asText = (v) => (v == null ? "" : typeof v === "string" ? v : JSON.stringify(v));
const TITLE_MAX = 2000; // a long value is clipped on screen; its title holds this much of it

/**
 * Draw `metadata` into `box` (hidden when there is nothing to show): the keys `show` lists, in
 * that order ([task.settings] show_metadata), or every key when `show` is null. The server has
 * already left out what the caller may not see.
 */
export function drawMetadata(box, metadata, show) {
  const data = metadata ?? {};
  const keys = (show ?? Object.keys(data)).filter((k) => Object.hasOwn(data, k));
  box.hidden = !keys.length;
  if (!keys.length) return box.replaceChildren();
  const rows = keys.map((k) => {
    const text = asText(data[k]);
    return el("div", { class: "meta-row", "data-key": k },
      el("dt", { title: k }, k),
      el("dd", { title: text.length > 60 ? text.slice(0, TITLE_MAX) : null }, text));
  });
  box.replaceChildren(el("h2", { class: "field-title" }, "Metadata"), el("dl", { class: "meta-list" }, rows));
}

const isChat = (v) => Array.isArray(v) && v.length > 0 && v.every((m) => m && typeof m === "object" && "content" in m);

/** One field's value, read-only: a chat transcript, a list, or text. */
export function fieldBody(name, v) {
  if (isChat(v)) {
    return el("ol", { class: "chat" }, v.map((m) => el("li", { class: "msg", "data-role": String(m.role ?? "") },
      el("div", { class: "msg-role" }, String(m.role ?? "")),
      el("div", { class: "msg-content" }, String(m.content ?? "")))));
  }
  const text = v == null ? "" : typeof v === "string" ? v : JSON.stringify(v, null, 2);
  return el("div", { class: "text", "data-field": name }, text);
}

/** Every field of `fields` as `task` declares them (titles, order), read-only. */
export function drawFields(box, task, fields) {
  const given = fields ?? {};
  const declared = task.fields.filter((f) => f.name in given);
  const list = declared.length ? declared : Object.keys(given).map((name) => ({ name }));
  box.replaceChildren(...list.map((f) => el("section", { class: "field", "aria-label": f.title || f.name },
    el("h2", { class: "field-title" }, f.title || f.name), fieldBody(f.name, given[f.name]))));
}
