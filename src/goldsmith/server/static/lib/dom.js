// DOM helpers shared by every page module: no dependencies, no build step.

export const $ = (sel, root = document) => root.querySelector(sel);

/** Build an element. Children are nodes or strings (always text, never HTML). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "style") for (const [prop, val] of Object.entries(v)) node.style.setProperty(prop, val); // CSP: no style attributes
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(2)) if (c != null && c !== false) node.append(c);
  return node;
}

/** On mousedown of a button: a click must not clear a text selection nor leave focus there. */
export const keepSelection = (e) => e.preventDefault();
