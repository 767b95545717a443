// Collapsible panels that remember whether they were open: each `<details data-remember="name">`
// keeps its state in localStorage ("goldsmith.open.<name>"), per browser, across records and visits.

const storageKey = (name) => `goldsmith.open.${name}`;

function read(name) {
  try { return localStorage.getItem(storageKey(name)); } catch { return null; } // storage may be off
}

function write(name, open) {
  try { localStorage.setItem(storageKey(name), open ? "1" : "0"); } catch { /* not remembered */ }
}

/** Restore and then keep the open state of every `details[data-remember]` under `root`. */
export function rememberPanels(root = document) {
  for (const d of root.querySelectorAll("details[data-remember]")) {
    const name = d.dataset.remember;
    const saved = read(name);
    if (saved !== null) d.open = saved === "1";
    d.addEventListener("toggle", () => write(name, d.open));
  }
}
