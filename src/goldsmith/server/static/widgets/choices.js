// Widget `choices` (kind multilabel): toggle labels with their keys or clicks.

import { labelOptions, labelRows } from "./choice.js";

export default {
  empty: () => [],
  isEmpty: () => false, // an empty list is an answer
  show: (v) => (v.length ? v.join(", ") : "none"),
  help: (q, ctx) => labelRows(q, ctx, "Toggle"),
  create: (q, i, ctx) => labelOptions(q, i, ctx, true),
};
