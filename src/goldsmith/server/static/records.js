// The records browser (/records): owners and reviewers search, filter and sort the records,
// open one to read its whole story, and (owners) act on the chosen ones or export the
// filtered set. Vanilla ES module, no build step. Everything comes from /api/v1/browse: the
// page only turns its form into the API's query, and shows what comes back (user content only
// ever as text). The filters live in the address bar, so a view can be shared and reloaded.
//
// Paging is by cursor (the API's `next`). A page examines a bounded stretch of records; when
// one comes back `partial` (short because its stretch ended), the page asks for the next
// stretch by itself, up to AUTO_STRETCHES at a time, saying how far it has searched.

import { api } from "./lib/api.js";
import { $, el } from "./lib/dom.js";
import { widgetFor } from "./widgets/index.js";

const BOOT = JSON.parse($("#boot").textContent);
const TASK = BOOT.task;
const PAGE = 50;
const AUTO_STRETCHES = 20; // stretches searched in one go before asking to go on
const FILTERS = ["status", "question", "label", "has_suggestion", "score_min", "score_max",
  "disagreement", "in_review", "label_error", "split", "dup_group", "round"];
const ACTION_DONE = {
  front: "sent to the front of the queue",
  review: "sent to review",
  gold: "made gold",
  ungold: "no longer gold",
};
const EVENTS = {
  front: "sent to the front of the queue",
  review: "sent to review",
  gold: "made gold",
  ungold: "gold cleared",
};

const S = {
  query: new URLSearchParams(), // the filters and sort as the API takes them
  rows: [], // records shown, in order
  next: null, // cursor of the following page
  selected: new Set(),
  current: -1, // index of the highlighted row
  open: null, // id of the record in the detail panel
  run: 0, // increments on each new listing: late answers of an older one are dropped
  stop: false,
  scanned: 0,
};

// ----------------------------------------------------------------------------- messages

function showError(err) {
  const more = err.status === 401 ? el("a", { href: "/login" }, "Log in again") : null;
  $("#error").replaceChildren(el("span", {}, el("strong", {}, "Error: "), err.message || String(err), more && " ", more));
}
const clearError = () => $("#error").replaceChildren();
let noteTimer = 0;
function note(text) {
  $("#note").textContent = text;
  clearTimeout(noteTimer);
  noteTimer = setTimeout(() => ($("#note").textContent = ""), 6000);
}
const setBusy = (on) => $("#records").setAttribute("aria-busy", String(on));
const plural = (n, one, many = `${one}s`) => `${n.toLocaleString()} ${n === 1 ? one : many}`;

// ----------------------------------------------------------------------------- values

const questionOf = (name) => TASK.questions.find((q) => q.name === name) ?? { name, kind: "?" };
function show(question, v) {
  if (v == null) return "—";
  const q = questionOf(question);
  try { return widgetFor(q).show(v, q); } catch { return typeof v === "string" ? v : JSON.stringify(v); }
}
const fmtScore = (s) => (s == null ? "" : Number(s).toFixed(2));
const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : "");
const badge = (text, cls = "") => el("span", { class: `badge ${cls}`.trim() }, text);
const currentQuestion = () => S.query.get("question") || TASK.questions[0].name;

// ----------------------------------------------------------------------------- the form <-> the query

function fillForm() {
  const status = $("#f-status");
  for (const s of BOOT.statuses) status.append(el("option", { value: s }, s));
  $("#f-question").replaceChildren(...TASK.questions.map((q) => el("option", { value: q.name }, q.title || q.name)));
  $("#f-provenance").replaceChildren(...BOOT.provenances.map((p) =>
    el("label", {}, el("input", { type: "checkbox", name: "provenance", value: p }), p)));
  labelChoices();
  $("#x-format").replaceChildren(...BOOT.formats.map((f) => el("option", { value: f }, f)));
}

function labelChoices() {
  const q = questionOf($("#f-question").value || TASK.questions[0].name);
  const labels = (q.labels ?? []).map((l) => (typeof l === "string" ? l : l.name ?? l.value ?? String(l)));
  $("#label-list").replaceChildren(...labels.map((l) => el("option", { value: l })));
}

/** The API query of the form: only what is set. */
function queryFromForm() {
  const qs = new URLSearchParams();
  const text = $("#q").value.trim();
  if (text) qs.set("q", text);
  for (const name of FILTERS) {
    const v = $(`#f-${name}`).value.trim();
    if (v && !(name === "question" && v === TASK.questions[0].name)) qs.set(name, v);
  }
  for (const box of document.querySelectorAll('#f-provenance input:checked')) qs.append("provenance", box.value);
  for (const part of $("#f-meta").value.split(",")) if (part.trim()) qs.append("meta", part.trim());
  const sort = $("#sort").value;
  if (sort !== "id") qs.set("sort", sort);
  return qs;
}

function formFromQuery(qs) {
  $("#q").value = qs.get("q") ?? "";
  for (const name of FILTERS) $(`#f-${name}`).value = qs.get(name) ?? (name === "question" ? TASK.questions[0].name : "");
  const provs = new Set(qs.getAll("provenance"));
  for (const box of document.querySelectorAll("#f-provenance input")) box.checked = provs.has(box.value);
  $("#f-meta").value = qs.getAll("meta").join(", ");
  $("#sort").value = qs.get("sort") ?? "id";
  labelChoices();
}

function filterCount(qs) {
  const n = [...new Set([...qs.keys()])].filter((k) => k !== "q" && k !== "sort").length;
  $("#filter-count").hidden = n === 0;
  $("#filter-count").textContent = String(n);
}

function markSort() {
  const sort = S.query.get("sort") ?? "id";
  for (const th of document.querySelectorAll("#table th[data-sorts]")) {
    const [a, b] = th.dataset.sorts.split(",");
    const on = sort === a || sort === b;
    const up = sort === "id" || sort === "responses" || sort === "confidence";
    if (on) th.setAttribute("aria-sort", up ? "ascending" : "descending");
    else th.removeAttribute("aria-sort");
  }
}

// ----------------------------------------------------------------------------- listing

function apply(qs, { push = true } = {}) {
  S.query = qs;
  const url = qs.toString() ? `/records?${qs}` : "/records";
  if (push) history.pushState(null, "", url);
  filterCount(qs);
  markSort();
  list();
}

async function list() {
  const run = ++S.run;
  S.rows = [];
  S.next = null;
  S.current = -1;
  S.scanned = 0;
  $("#rows").replaceChildren();
  $("#empty").hidden = true;
  $("#count").textContent = "Counting…";
  count(run);
  await more(run);
}

async function count(run) {
  const qs = new URLSearchParams(S.query);
  qs.delete("sort");
  try {
    const c = await api("GET", `/browse/count?${qs}`);
    if (run !== S.run) return;
    const n = c.exact ? c.total.toLocaleString() : `more than ${c.total.toLocaleString()}`;
    $("#count").textContent = `${n} record${c.total === 1 && c.exact ? "" : "s"}`;
    $("#export-title").textContent = `Export the ${n} matching record${c.total === 1 && c.exact ? "" : "s"}`;
  } catch (e) {
    if (run === S.run) $("#count").textContent = "";
  }
}

/** Fetch pages until PAGE more rows are shown, the data ends, or AUTO_STRETCHES partial
 * stretches went by (then "Search further" asks to go on). */
async function more(run = S.run) {
  setBusy(true);
  S.stop = false;
  $("#more").hidden = true;
  let added = 0;
  let stretches = 0;
  try {
    for (;;) {
      const qs = new URLSearchParams(S.query);
      qs.set("limit", String(PAGE - added));
      if (S.next) qs.set("after", S.next);
      const page = await api("GET", `/browse/records?${qs}`);
      if (run !== S.run) return;
      S.next = page.next;
      S.scanned += page.scanned;
      addRows(page.records);
      added += page.records.length;
      if (!page.partial || !page.next || added >= PAGE) break;
      stretches += 1;
      $("#scan-note").textContent = `Searched about ${S.scanned.toLocaleString()} records…`;
      $("#stop").hidden = false;
      if (S.stop || stretches >= AUTO_STRETCHES) break;
    }
    clearError();
  } catch (e) {
    if (run === S.run) showError(e);
  } finally {
    if (run === S.run) {
      $("#stop").hidden = true;
      $("#empty").hidden = S.rows.length > 0 || !!S.next;
      $("#more").hidden = !S.next;
      $("#more").textContent = added < PAGE && S.next ? "Search further" : "Load more";
      $("#scan-note").textContent = S.next && added < PAGE
        ? `Searched about ${S.scanned.toLocaleString()} records so far.`
        : `${plural(S.rows.length, "record")} shown${S.next ? "" : ", all of them"}.`;
      syncSelection();
      setBusy(false);
    }
  }
}

function addRows(records) {
  const question = currentQuestion();
  const start = S.rows.length;
  S.rows.push(...records);
  $("#rows").append(...records.map((r, j) => rowEl(r, start + j, question)));
}

function firstText(r) {
  const names = TASK.fields.map((f) => f.name);
  const name = names.find((n) => n in (r.preview ?? {})) ?? Object.keys(r.preview ?? {})[0];
  return name == null ? "" : r.preview[name];
}

function rowEl(r, i, question) {
  const final = r.final?.[question];
  const sugg = r.suggestion;
  const flags = [
    ...(r.reviews ?? []).map((k) => badge(k === "issue" ? "label error?" : `review: ${k}`, k === "issue" ? "flag-issue" : "")),
    r.dup_group != null ? badge(`dup ${r.dup_group}`) : null,
  ].filter(Boolean);
  const box = el("input", { type: "checkbox", "aria-label": `Select record ${r.id}`, "data-id": String(r.id) });
  box.checked = S.selected.has(r.id);
  box.addEventListener("click", (e) => e.stopPropagation());
  box.addEventListener("change", () => toggle(r.id, box.checked));
  const tr = el("tr", { "data-id": String(r.id), "data-index": String(i), tabindex: "-1", onclick: () => openRecord(i) },
    el("td", { class: "rb-check" }, box),
    el("td", { class: "rb-id" }, `#${r.id}`),
    el("td", { class: "rb-text" }, el("span", { class: "rb-snippet" }, firstText(r))),
    el("td", { class: "rb-status", "data-label": "Status" }, badge(r.status, `st-${r.status}`)),
    el("td", { class: "rb-final", "data-label": "Final" }, final
      ? [show(question, final.value), " ", badge(final.provenance, `prov-${final.provenance}`),
        el("span", { class: "muted rb-num" }, ` ${fmtScore(final.confidence)}`)]
      : el("span", { class: "muted" }, "—")),
    el("td", { class: "rb-sugg", "data-label": "Suggestion" }, sugg
      ? [show(question, sugg.value), el("span", { class: "muted rb-num" }, sugg.score == null ? "" : ` ${fmtScore(sugg.score)}`)]
      : null),
    el("td", { class: "rb-answers rb-num", "data-label": "Answers" }, String(r.n_submitted)),
    el("td", { class: "rb-flags" }, flags));
  return tr;
}

function highlight(i) {
  const rows = [...$("#rows").children];
  if (!rows.length) return;
  S.current = Math.max(0, Math.min(rows.length - 1, i));
  rows.forEach((tr, j) => tr.classList.toggle("current", j === S.current));
  rows[S.current].focus({ preventScroll: false });
}

// ----------------------------------------------------------------------------- selection and actions

function toggle(id, on) {
  if (on) S.selected.add(id); else S.selected.delete(id);
  syncSelection();
}

function syncSelection() {
  const n = S.selected.size;
  $("#bulk").hidden = !BOOT.owner || n === 0;
  $("#selected-count").textContent = `${plural(n, "record")} selected`;
  const boxes = [...document.querySelectorAll("#rows input[type=checkbox]")];
  for (const b of boxes) b.checked = S.selected.has(Number(b.dataset.id));
  const page = $("#select-page");
  page.checked = boxes.length > 0 && boxes.every((b) => b.checked);
  page.indeterminate = !page.checked && boxes.some((b) => b.checked);
}

function describe(report) {
  const done = `${plural(report.changed, "record")} ${ACTION_DONE[report.action] ?? report.action}`;
  const left = Object.entries(report.unchanged ?? {}).map(([why, v]) => `${v.n} left alone (${why})`);
  const complete = report.complete?.n ? [`${report.complete.n} already have all their answers`] : [];
  return [done, ...left, ...complete].join("; ") + ".";
}

async function act(action, ids) {
  if (!ids.length) return;
  setBusy(true);
  try {
    const body = { action, ids };
    if (S.query.get("question")) body.question = S.query.get("question");
    const report = await api("POST", "/browse/actions", body);
    clearError();
    note(describe(report));
    if (ids.length > 1 || S.selected.has(ids[0])) S.selected.clear();
    const opened = S.open;
    await list();
    if (opened != null) await showRecord(opened);
  } catch (e) {
    showError(e);
  } finally {
    setBusy(false);
  }
}

// ----------------------------------------------------------------------------- one record

async function openRecord(i) {
  highlight(i);
  const r = S.rows[i];
  if (r) await showRecord(r.id);
}

async function showRecord(id) {
  S.open = id;
  $("#detail").hidden = false;
  $(".rb-main").classList.add("open");
  $("#detail-title").textContent = `Record #${id}`;
  $("#detail-actions").hidden = !BOOT.owner;
  $("#detail-body").replaceChildren(el("p", { class: "muted" }, "Loading…"));
  try {
    const story = await api("GET", `/browse/records/${id}`);
    if (S.open !== id) return;
    renderStory(story);
    clearError();
  } catch (e) {
    $("#detail-body").replaceChildren();
    showError(e);
  }
}

function closeRecord() {
  S.open = null;
  $("#detail").hidden = true;
  $(".rb-main").classList.remove("open");
  if (S.current >= 0) highlight(S.current);
}

const table = (head, rows) => el("table", {},
  el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
  el("tbody", {}, rows));
const section = (title, ...body) => el("section", { "aria-label": title }, el("h3", {}, title), ...body);
const none = (text) => el("p", { class: "muted" }, text);

function fieldText(v) {
  if (Array.isArray(v) && v.every((m) => m && typeof m === "object" && "content" in m)) {
    return v.map((m) => `${m.role ?? ""}: ${m.content ?? ""}`).join("\n\n");
  }
  return v == null ? "" : typeof v === "string" ? v : JSON.stringify(v, null, 2);
}

function historyText(e) {
  const d = e.detail ?? {};
  switch (e.event) {
    case "added": return d.source ? `imported from ${d.source} (${d.format})` : "";
    case "suggested": return `${d.question}: ${show(d.question, d.value)}${d.score == null ? "" : ` (score ${fmtScore(d.score)})`}`;
    case "answered": case "answer changed":
      return `${d.status}: ${Object.entries(d.values ?? {}).map(([q, v]) => `${q} ${show(q, v)}`).join(", ") || "—"}`;
    case "queued for review": return `${d.question} (${d.kind})`;
    case "final label": return `${d.question}: ${show(d.question, d.value)} (${d.provenance}, ${fmtScore(d.confidence)})`;
    default:
      if (e.event.startsWith("review ")) {
        const side = (l) => (l == null ? "none" : `${show(d.question, l.value)} (${l.provenance})`);
        return `${d.question}: ${side(d.before)} → ${side(d.after)}${d.comment ? ` · “${d.comment}”` : ""}`;
      }
      if (e.event === "gold") return `${d.question}: ${show(d.question, d.value)}, was ${d.from}`;
      if (e.event === "ungold") return `${d.question}: ${show(d.question, d.value)}, now ${d.to}`;
      if (e.event === "review") return `${d.question}`;
      return "";
  }
}

function renderStory(s) {
  const rec = s.record;
  const titles = Object.fromEntries(TASK.fields.map((f) => [f.name, f.title || f.name]));
  $("#detail-title").textContent = `Record #${rec.id}`;
  const facts = [
    rec.external_id ? `external id ${rec.external_id}` : null,
    s.import ? `from ${s.import.source}` : null,
    rec.dup_group != null ? `duplicate group ${rec.dup_group}${s.duplicates.length ? ` (also #${s.duplicates.join(", #")})` : ""}` : null,
    s.rounds.length ? `round ${s.rounds.map((r) => r.number).join(", ")}` : null,
    s.gold_check ? "a gold check in annotators' queues" : null,
    rec.queue_done ? "has all its answers" : `waiting for answers (${rec.n_submitted} so far)`,
  ].filter(Boolean);
  const meta = Object.entries(rec.metadata ?? {});
  $("#detail-body").replaceChildren(
    el("p", { class: "muted small" }, facts.join(" · ")),
    ...Object.entries(rec.fields ?? {}).map(([name, v]) => section(titles[name] ?? name,
      el("div", { class: "rb-field-text", "data-field": name }, fieldText(v)))),
    section("Metadata", meta.length
      ? table(["Key", "Value"], meta.map(([k, v]) => el("tr", {}, el("th", { scope: "row" }, k),
        el("td", {}, typeof v === "string" ? v : JSON.stringify(v)))))
      : none("None.")),
    section("Final labels", s.final.length
      ? table(["Question", "Value", "Provenance", "Confidence"], s.final.map((f) => el("tr", { "data-question": f.question },
        el("td", {}, f.question), el("td", {}, show(f.question, f.value)),
        el("td", {}, badge(f.provenance, `prov-${f.provenance}`)), el("td", { class: "rb-num" }, fmtScore(f.confidence)))))
      : none("No final label yet.")),
    section("Suggestions", s.suggestions.length
      ? table(["Question", "Value", "Agent", "Score"], s.suggestions.map((g) => el("tr", {},
        el("td", {}, g.question), el("td", {}, show(g.question, g.value)),
        el("td", {}, `${g.agent} (${g.kind})`), el("td", { class: "rb-num" }, fmtScore(g.score)))))
      : none("No suggestions.")),
    section("Responses", s.responses.length
      ? table(["Annotator", "Status", "Answer", "Guidelines"], s.responses.map((r) => el("tr", { "data-annotator": r.user },
        el("th", { scope: "row" }, r.user), el("td", {}, r.status),
        el("td", {}, Object.entries(r.values ?? {}).map(([q, v]) => `${q}: ${show(q, v)}`).join(" · ") || "—"),
        el("td", { class: "rb-num" }, r.guideline_version == null ? "—" : `v${r.guideline_version}`))))
      : none("Nobody answered yet.")),
    section("Review", s.reviews.length
      ? table(["Item", "Kind", "Status", "Decision"], s.reviews.map((v) => el("tr", {},
        el("td", { class: "rb-num" }, `${v.id} · ${v.question}`), el("td", {}, v.kind), el("td", {}, v.status),
        el("td", {}, v.reviewer ? `${v.reviewer}: ${show(v.question, v.value)}${v.comment ? ` · “${v.comment}”` : ""}` : "—"))))
      : none("Never queued for review.")),
    section("History", el("ol", { class: "rb-history", id: "history" }, s.history.map((e) => el("li", { "data-event": e.event },
      el("time", { datetime: e.at ?? "" }, fmtTime(e.at)),
      el("span", { class: "rb-event" }, EVENTS[e.event] ?? e.event),
      e.actor ? [" by ", el("strong", {}, e.actor)] : null,
      (() => { const t = historyText(e); return t ? ` · ${t}` : null; })())))),
  );
}

// ----------------------------------------------------------------------------- export

let jobTimer = 0;

function exportBody() {
  const filter = {};
  for (const [k, v] of S.query) {
    if (k === "sort") continue;
    if (k === "provenance" || k === "meta") (filter[k] ??= []).push(v);
    else if (["has_suggestion", "disagreement", "in_review", "label_error"].includes(k)) filter[k] = v === "true";
    else if (["score_min", "score_max"].includes(k)) filter[k] = Number(v);
    else if (["dup_group", "round"].includes(k)) filter[k] = Number.parseInt(v, 10);
    else filter[k] = v;
  }
  const body = { filter, format: $("#x-format").value };
  const split = $("#x-split").value.split(",").map((x) => x.trim()).filter(Boolean).map(Number);
  if (split.length) body.split = split;
  if ($("#x-name").value.trim()) body.name = $("#x-name").value.trim();
  if (S.query.get("question")) body.question = S.query.get("question");
  return body;
}

async function startExport(e) {
  e.preventDefault();
  $("#export-button").disabled = true;
  try {
    const job = await api("POST", "/browse/export", exportBody());
    clearError();
    showJob(job);
    pollJob(job.id);
  } catch (err) {
    showError(err);
    $("#export-button").disabled = false;
  }
}

function showJob(job) {
  $("#job").hidden = false;
  $("#job").dataset.status = job.status;
  const bar = $("#job-progress");
  bar.max = job.total || Math.max(job.done, 1);
  bar.value = job.status === "done" ? bar.max : job.done;
  const counts = job.total ? ` ${job.done.toLocaleString()} of ${job.total.toLocaleString()}` : job.done ? ` ${job.done.toLocaleString()}` : "";
  $("#job-stage").textContent = job.status === "failed" || job.status === "lost"
    ? `Export failed: ${job.error}`
    : job.status === "done"
      ? `Done: ${plural(Object.values(job.result.counts).reduce((a, b) => a + b, 0), "record")} (${Object.entries(job.result.counts).map(([s, n]) => `${s} ${n}`).join(", ")}) in ${job.result.out}`
      : `${job.stage}…${counts}`;
  const files = job.status === "done"
    ? [...Object.values(job.result.files), job.result.card, ...(job.result.companions ?? [])].filter(Boolean)
    : [];
  $("#job-files").replaceChildren(...files.map((name) => el("li", {},
    el("a", { href: `/api/v1/jobs/${job.id}/files/${encodeURIComponent(name)}`, download: name }, name))));
}

function pollJob(id) {
  clearTimeout(jobTimer);
  jobTimer = setTimeout(async () => {
    try {
      const job = await api("GET", `/jobs/${id}`);
      showJob(job);
      if (job.status === "running") pollJob(id);
      else $("#export-button").disabled = false;
    } catch (e) {
      showError(e);
      $("#export-button").disabled = false;
    }
  }, 400);
}

async function formatsFor(question) {
  try {
    const { formats } = await api("GET", `/browse/formats?question=${encodeURIComponent(question)}`);
    const keep = $("#x-format").value;
    $("#x-format").replaceChildren(...formats.map((f) => el("option", { value: f }, f)));
    if (formats.includes(keep)) $("#x-format").value = keep;
  } catch (e) {
    showError(e);
  }
}

// ----------------------------------------------------------------------------- keys and wiring

function typing(e) {
  const t = e.target;
  return t instanceof HTMLElement && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));
}

function onKey(e) {
  if (e.key === "Escape") {
    if (S.open != null) { e.preventDefault(); closeRecord(); }
    else if (typing(e)) e.target.blur();
    return;
  }
  if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "/") { e.preventDefault(); $("#q").focus(); $("#q").select(); return; }
  if (e.key === "j" || e.key === "ArrowDown") { e.preventDefault(); highlight(S.current + 1); if (S.open != null) openRecord(S.current); return; }
  if (e.key === "k" || e.key === "ArrowUp") { e.preventDefault(); highlight(S.current - 1); if (S.open != null) openRecord(S.current); return; }
  if ((e.key === "Enter" || e.key === "o") && S.current >= 0) { e.preventDefault(); openRecord(S.current); return; }
  if (e.key === "x" && S.current >= 0 && BOOT.owner) {
    e.preventDefault();
    const id = S.rows[S.current].id;
    toggle(id, !S.selected.has(id));
  }
}

function start() {
  fillForm();
  const qs = new URLSearchParams(location.search);
  formFromQuery(qs);
  $("#filters").open = matchMedia("(min-width: 900px)").matches && [...qs.keys()].some((k) => k !== "q" && k !== "sort");
  $("#export").hidden = !BOOT.owner;
  if (BOOT.owner && qs.get("question")) formatsFor(qs.get("question"));

  $("#search-form").addEventListener("submit", (e) => { e.preventDefault(); apply(queryFromForm()); });
  $("#filter-form").addEventListener("submit", (e) => { e.preventDefault(); apply(queryFromForm()); });
  $("#sort").addEventListener("change", () => apply(queryFromForm()));
  $("#f-question").addEventListener("change", () => {
    labelChoices();
    if (BOOT.owner) formatsFor($("#f-question").value);
  });
  $("#clear-filters").addEventListener("click", () => {
    formFromQuery(new URLSearchParams($("#q").value.trim() ? { q: $("#q").value.trim() } : {}));
    apply(queryFromForm());
  });
  for (const th of document.querySelectorAll("#table th[data-sorts] button")) {
    th.addEventListener("click", () => {
      const [a, b] = th.closest("th").dataset.sorts.split(",");
      $("#sort").value = (S.query.get("sort") ?? "id") === a ? b : a;
      apply(queryFromForm());
    });
  }
  $("#more").addEventListener("click", () => more());
  $("#stop").addEventListener("click", () => { S.stop = true; });
  $("#select-page").addEventListener("change", (e) => {
    for (const r of S.rows) if (e.target.checked) S.selected.add(r.id); else S.selected.delete(r.id);
    syncSelection();
  });
  $("#clear-selection").addEventListener("click", () => { S.selected.clear(); syncSelection(); });
  for (const b of document.querySelectorAll("#bulk [data-action]")) {
    b.addEventListener("click", () => act(b.dataset.action, [...S.selected]));
  }
  for (const b of document.querySelectorAll("#detail-actions [data-one]")) {
    b.addEventListener("click", () => S.open != null && act(b.dataset.one, [S.open]));
  }
  $("#close-detail").addEventListener("click", closeRecord);
  $("#export-form").addEventListener("submit", startExport);
  document.addEventListener("keydown", onKey);
  window.addEventListener("popstate", () => {
    const back = new URLSearchParams(location.search);
    formFromQuery(back);
    apply(back, { push: false });
  });
  document.title = `Records · ${TASK.name} · goldsmith`;
  apply(qs, { push: false });
}

start();
