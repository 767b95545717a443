"use strict";
// Sort a report table by a click (or Enter) on a column header. A cell sorts by its
// data-v attribute when it has one, else by its text; numbers sort as numbers and empty
// values always last. The first sort of a number column puts the largest first.
for (const table of document.querySelectorAll("table.sortable")) {
  const body = table.tBodies[0];
  const heads = Array.from(table.tHead.rows[0].cells);
  const key = (row, col) => {
    const cell = row.cells[col];
    const raw = (cell.dataset.v ?? cell.textContent).trim();
    const num = Number(raw.replace(/[ %]/g, ""));
    return raw === "" ? null : Number.isFinite(num) ? num : raw.toLowerCase();
  };
  heads.forEach((th, col) => {
    th.tabIndex = 0;
    th.setAttribute("aria-sort", "none");
    th.title = "Sort by this column";
    const sort = () => {
      const rows = Array.from(body.rows);
      const numeric = rows.every((r) => typeof key(r, col) !== "string");
      const was = th.getAttribute("aria-sort");
      const down = was === "none" ? numeric : was === "ascending";
      const sign = down ? -1 : 1;
      rows.sort((a, b) => {
        const x = key(a, col);
        const y = key(b, col);
        if (x === null || y === null) return (x === null) - (y === null);
        return sign * (x < y ? -1 : x > y ? 1 : 0);
      });
      body.append(...rows);
      heads.forEach((h) => h.setAttribute("aria-sort", "none"));
      th.setAttribute("aria-sort", down ? "descending" : "ascending");
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        sort();
      }
    });
  });
}
