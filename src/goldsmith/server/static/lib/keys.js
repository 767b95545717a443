// Keys, shortcuts and the option buttons that widgets draw.

import { el, keepSelection } from "./dom.js";

const NAMES = { " ": "Space", ArrowLeft: "←", ArrowRight: "→", ArrowUp: "↑", ArrowDown: "↓" };
export const keyName = (k) => NAMES[k] ?? k;
export const mod = /Mac|iPhone|iPad/.test(navigator.platform) ? "⌘" : "Ctrl";

/** Does the key event `e` press `key` (a KeyboardEvent.key name; letters match either case)? */
export function matches(e, key) {
  if (!key) return false;
  const k = e.key === " " ? "Space" : e.key;
  return k === key || (/^[a-z]$/i.test(key) && k.toLowerCase() === key.toLowerCase());
}

/** Keys of a question's labels: `keys.labels[label]`, else its position (1-9, then 0) or,
 * when another action holds that key, the next free digit. `keys` is the task's key map. */
export function labelKeys(labels, keys) {
  const own = keys.labels || {};
  const taken = new Set([keys.submit, keys.skip, keys.back, keys.help, ...labels.map((l) => own[l])]);
  const digits = [..."1234567890"];
  return labels.map((l, j) => {
    const key = own[l] ?? [...digits.slice(j), ...digits.slice(0, j)].find((d) => !taken.has(d)) ?? null;
    taken.add(key);
    return key;
  });
}

/** The hue of the `j`-th label: neighbours far apart on the colour wheel. */
export const hue = (j) => Math.round((205 + j * 137.508) % 360);

/** Call `fn` with the item of `list` whose key `e` presses; true when there was one. */
export function byKey(e, list, keyOf, fn) {
  const j = list.findIndex((x, k) => matches(e, keyOf(x, k)));
  if (j >= 0) fn(list[j], j);
  return j >= 0;
}

/** A pill button with its key: the options of label, multilabel, spans and rating widgets. */
export function optionButton({ role, key, text, h, onclick, value }) {
  return el("button", {
    type: "button", class: "option", role, "data-value": value, "aria-checked": "false",
    "aria-keyshortcuts": key, style: h == null ? null : { "--h": h }, onmousedown: keepSelection, onclick,
  }, key ? el("kbd", {}, keyName(key)) : null, el("span", {}, text));
}
