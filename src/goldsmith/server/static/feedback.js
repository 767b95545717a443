// The read-only feedback page (/feedback/{record}): one record the user answered and a reviewer
// decided otherwise. It draws the payload of GET /api/v1/feedback/{record_id}, embedded in the
// page: the record, its metadata, and per decision the user's answer, the final label and the
// reviewer's comment. Everything goes into the page as text.

import { $, el } from "./lib/dom.js";
import { drawFields, drawMetadata } from "./lib/record.js";
import { widgetFor } from "./widgets/index.js";

const task = JSON.parse($("#task").textContent);
const data = JSON.parse($("#feedback-data").textContent);

function shown(q, v) {
  if (v == null) return "none";
  try { return q ? widgetFor(q).show(v, q, data.record.fields) : JSON.stringify(v); } catch { return JSON.stringify(v); }
}

function decisionEl(f) {
  const q = task.questions.find((x) => x.name === f.question);
  const when = f.created_at ? new Date(f.created_at) : null;
  const row = (name, value, cls) => [el("dt", {}, name), el("dd", { class: cls }, value)];
  return el("li", { class: "decision", "data-question": f.question },
    el("h3", {}, q?.title || f.question,
      when ? el("time", { class: "muted small", datetime: f.created_at }, ` · ${when.toLocaleString()}`) : null),
    el("dl", { class: "decision-facts" },
      row("Your answer", shown(q, f.answer), "feedback-answer"),
      row("Final label", shown(q, f.final), "feedback-final"),
      row("Reviewer's comment", f.comment ?? "(none)", f.comment ? "feedback-comment" : "feedback-comment muted")));
}

drawFields($("#record"), task, data.record.fields);
drawMetadata($("#metadata"), data.record.metadata, task.show_metadata);
$("#decisions").replaceChildren(...data.feedback.map(decisionEl));
$("#feedback-page").setAttribute("aria-busy", "false");
