// The widget registry: a question's `widget` (the ClassVar of its kind in goldsmith.kinds,
// sent in the task JSON) names its module here. Adding a kind adds one module and one line.
//
// A widget module's default export is a plain object:
// - `empty(q)`: the value of an unanswered question;
// - `isEmpty(q, v, record)`: whether a required question still needs an answer;
// - `sendable(q, v, record)` (optional): whether `v` is sent; else `!isEmpty(...)`;
// - `show(v, q, fields)`: a value as short read-only text (suggestions, the review page);
//   `fields` (optional), the record's fields, lets span widgets show each span's words;
// - `help(q, ctx)`: rows `[keys, what]` of the keyboard help;
// - `create(q, i, ctx)`: the input of question `i`, `{body, update(), key(e), focus?()}`;
//   `key(e)` is true when the widget handled the key event;
// - `marks(q, v)` (optional): spans drawn on the text field `q.field`,
//   `{i, label, h, start, end}` in code points; the page makes that field a `SpanField`;
// - `ownsField(q)` (optional): a record field the widget shows itself;
// - `wide` (optional): the page gives the questions half its width;
// - `choices(q)` (optional): the labels a reviewer sets one of on the review page.
//
// `ctx`, from the annotate page: `keys` (the task's key map), `labelKeys(labels)`, `get(q)`,
// `set(q, v)` (store, redraw, save a draft), `activate(i)`, `isActive(i)`, `note(text)`,
// `field(name)` (its SpanField), `record()` (the record on screen), and for the label picker
// (lib/picker.js) `recentKey(q)` (where its pinned labels are kept) and `leave()` (focus back
// on the question after a pick from the filter); both optional.

import { el } from "../lib/dom.js";
import choice from "./choice.js";
import choices from "./choices.js";
import ranking from "./ranking.js";
import rating from "./rating.js";
import span_labels from "./span_labels.js";
import spans from "./spans.js";
import text from "./text.js";

export const WIDGETS = Object.freeze({ choice, choices, spans, span_labels, text, rating, ranking });

/** What the page shows for a widget it does not know (a server newer than the page). */
const unknown = {
  empty: () => null,
  isEmpty: (q, v) => v == null,
  show: (v) => (typeof v === "string" ? v : JSON.stringify(v)),
  help: () => [],
  create: (q) => ({ body: el("p", { class: "muted" }, `Unsupported question kind “${q.kind}”.`), update() {}, key: () => false }),
};

/** The widget of question `q`. */
export const widgetFor = (q) => (Object.hasOwn(WIDGETS, q?.widget ?? "") ? WIDGETS[q.widget] : unknown);
