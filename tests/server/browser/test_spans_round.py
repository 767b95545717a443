"""A spans QA round in a real Chromium, from annotation to an adjudicated consensus span set.

Two annotators mark Disease and Gene mentions on twelve clinical sentences through the
annotate page (keyboard and mouse), disagreeing on three records (one drops a span, one
shifts a boundary, one mislabels a type). ``goldsmith round close`` computes the span
consensus: the records both annotators agreed on get it as their final label, the others go
to review. A reviewer sees both annotators' span sets and the proposed set with each span's
support on the review page, accepts the proposal where it is right (Enter on an unchanged
set) and edits the span set where it is not (a span added by keys, one removed by a click and
one marked by a mouse drag); the store then holds exactly the adjudicated sets, with
provenance ``review``. Ctrl+Z takes the latest decision back.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from typer.testing import CliRunner

from goldsmith import Project
from goldsmith.cli import app

pytestmark = pytest.mark.browser
Site = Any  # conftest.Site: a live server that users log in to
Serve = Callable[..., Site]

SHOTS = Path(os.environ.get("GOLDSMITH_TEST_SHOTS", "/tmp/shots")) / "spanround"
LABELS = ["Disease", "Gene"]
QUESTION = {"name": "entities", "kind": "spans", "field": "text", "labels": LABELS}
USERS = {"olive": "owner", "rita": "reviewer", "alice": "annotator", "bob": "annotator"}
GUIDELINES = (
    "# Disease and gene mentions\n\n"
    "Mark whole disease names (with their qualifiers) and gene symbols.\n"
)

# the text, and its mentions as (surface, label); a surface is found with str.index
SENTENCES: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Patients with cystic fibrosis carry mutations in the CFTR gene.",
        [("cystic fibrosis", "Disease"), ("CFTR", "Gene")],
    ),
    (
        "Germline BRCA1 mutations raise the lifetime risk of breast cancer.",
        [("BRCA1", "Gene"), ("breast cancer", "Disease")],
    ),
    (
        "Huntington disease is caused by an expanded CAG repeat in HTT.",
        [("Huntington disease", "Disease"), ("HTT", "Gene")],
    ),
    (
        "Loss of PTEN function is frequent in glioblastoma.",
        [("PTEN", "Gene"), ("glioblastoma", "Disease")],
    ),
    # an astral character first: 1 code point in the store, 2 UTF-16 units in the page
    (
        "🧬 Screening found an MLH1 variant consistent with Lynch syndrome.",
        [("MLH1", "Gene"), ("Lynch syndrome", "Disease")],
    ),
    (
        "Sickle cell anemia results from a point mutation in HBB.",
        [("Sickle cell anemia", "Disease"), ("HBB", "Gene")],
    ),
    (
        "Carriers of APOE4 show an earlier onset of Alzheimer disease.",
        [("APOE4", "Gene"), ("Alzheimer disease", "Disease")],
    ),
    (
        "Marfan syndrome is linked to defects in FBN1.",
        [("Marfan syndrome", "Disease"), ("FBN1", "Gene")],
    ),
    (
        "Duchenne muscular dystrophy arises from deletions in DMD.",
        [("Duchenne muscular dystrophy", "Disease"), ("DMD", "Gene")],
    ),
    (
        "TP53 is mutated in most families with Li-Fraumeni syndrome.",
        [("TP53", "Gene"), ("Li-Fraumeni syndrome", "Disease")],
    ),
    (
        "Hereditary hemochromatosis is mostly due to HFE C282Y homozygosity.",
        [("Hereditary hemochromatosis", "Disease"), ("HFE", "Gene")],
    ),
    (
        "Phenylketonuria is caused by PAH deficiency.",
        [("Phenylketonuria", "Disease"), ("PAH", "Gene")],
    ),
]
DROPPED, SHIFTED, MISLABELED = 1, 8, 6  # sentence numbers of the three disagreements
Span = tuple[int, int, str]


def spans_of(text: str, mentions: list[tuple[str, str]]) -> list[Span]:
    out = []
    for surface, label in mentions:
        start = text.index(surface)
        out.append((start, start + len(surface), label))
    return sorted(out)


def plan(who: str, k: int) -> list[Span]:
    """The spans ``who`` marks on sentence ``k``: the truth, except for the planted slips."""
    text, mentions = SENTENCES[k]
    if who == "bob" and k == DROPPED:  # bob drops "breast cancer"
        mentions = [m for m in mentions if m[0] != "breast cancer"]
    if who == "bob" and k == SHIFTED:  # bob leaves "Duchenne" out
        mentions = [("muscular dystrophy", "Disease"), ("DMD", "Gene")]
    if who == "alice" and k == MISLABELED:  # alice calls the gene a disease
        mentions = [("APOE4", "Disease"), ("Alzheimer disease", "Disease")]
    return spans_of(text, mentions)


def as_value(spans: list[Span]) -> list[dict[str, Any]]:
    return [{"start": s, "end": e, "label": lab} for s, e, lab in sorted(spans)]


# ----------------------------------------------------------------------------- the page

WORD = re.compile(r"\w")


def word_step(text: str, i: int, step: int) -> int:
    """Ctrl+Arrow in the page (lib/text.js ``wordStep``): skip non-word, then word characters."""
    end = len(text) if step > 0 else 0

    def at(j: int) -> bool:
        return bool(WORD.match(text[j] if step > 0 else text[j - 1]))

    while i != end and not at(i):
        i += step
    while i != end and at(i):
        i += step
    return i


class Caret:
    """Marks spans on one record's text field by keyboard (Ctrl+→ to the span's end, then
    Ctrl+Shift+← over its words) or by mouse (a drag over it); the caret stays at the end of
    each span marked."""

    def __init__(self, page: Page, text: str, box: str) -> None:
        self.page, self.text, self.box, self.at = page, text, box, 0

    def keys(self, start: int, end: int, key: str) -> None:
        while self.at != end:
            nxt = word_step(self.text, self.at, 1)
            assert nxt <= end, f"the caret would pass {self.text[start:end]!r}"
            self.page.keyboard.press("Control+ArrowRight")
            self.at = nxt
        at = end
        while at != start:
            at = word_step(self.text, at, -1)
            assert at >= start, f"{self.text[start:end]!r} does not start at a word"
            self.page.keyboard.press("Control+Shift+ArrowLeft")
        self.page.keyboard.press(key)
        self.at = end

    def drag(self, start: int, end: int) -> None:
        """Select [start, end) (code points) with a real mouse drag."""
        u16 = [len(self.text[:i].encode("utf-16-le")) // 2 for i in (start, end)]
        box = self.page.eval_on_selector(
            self.box,
            """(box, [a, b]) => {
                const at = (u) => { const w = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
                    let acc = 0; for (let n = w.nextNode(); n; n = w.nextNode()) {
                        if (u < acc + n.length) return [n, u - acc]; acc += n.length; } };
                const rect = (u) => { const [n, o] = at(u); const r = document.createRange();
                    r.setStart(n, o); r.setEnd(n, o + 1); return r.getBoundingClientRect(); };
                const first = rect(a), last = rect(b - 1);
                return {x0: first.left + 1, y0: first.top + first.height / 2,
                        x1: last.right - 1, y1: last.top + last.height / 2};
            }""",
            u16,
        )
        self.page.mouse.move(box["x0"], box["y0"])
        self.page.mouse.down()
        self.page.mouse.move((box["x0"] + box["x1"]) / 2, box["y1"], steps=4)
        self.page.mouse.move(box["x1"], box["y1"], steps=4)
        self.page.mouse.up()
        self.at = end


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def annotate_all(site: Site, who: str, ids: list[int], mouse: set[int]) -> None:
    """``who`` answers every record of the round on the annotate page: spans by keyboard,
    on the sentences in ``mouse`` by mouse drags and clicks on the label buttons."""
    page = site.login(who)
    page.goto(f"{site.url}/annotate")
    with Project.open(site.root) as proj:
        by_handle = {proj.record_handle(who, rid): k for k, rid in enumerate(ids)}
    meta = page.locator("#record-meta")
    seen: list[int] = []
    for n in range(len(ids)):
        expect(page.locator("#app")).to_have_attribute("aria-busy", "false")
        expect(meta).to_contain_text(f"#{n + 1} in your queue")
        handle = meta.get_attribute("data-record")
        assert handle in by_handle, f"{who} was served an unknown record {handle!r}"
        k = by_handle[handle]
        text = SENTENCES[k][0]
        expect(page.locator('.text[data-field="text"]')).to_have_text(text)
        caret = Caret(page, text, '.text[data-field="text"]')
        for start, end, label in plan(who, k):
            if k in mouse:
                caret.drag(start, end)
                page.locator(".question .option", has_text=label).click()
            else:
                caret.keys(start, end, str(LABELS.index(label) + 1))
            expect(page.locator("mark", has_text=text[start:end]).first).to_be_visible()
        expect(page.locator(".span-list li")).to_have_count(len(plan(who, k)))
        if k in mouse or k in (DROPPED, SHIFTED, MISLABELED):
            shot(page, f"annotate-{who}-{k:02d}")
        page.keyboard.press("Enter")
        seen.append(k)
    expect(page.locator("#done")).to_be_visible()
    assert sorted(seen) == list(range(len(ids)))
    shot(page, f"annotate-{who}-done")


# ----------------------------------------------------------------------------- the test


def test_spans_round_from_annotation_to_an_adjudicated_consensus(
    serve: Serve, make_project: Callable[..., Project], tmp_path: Path
) -> None:
    proj = make_project(QUESTION, overlap=2)
    ids = proj.add_records([{"fields": {"text": t}} for t, _ in SENTENCES]).ids
    started = proj.start_round(size=len(ids), gold_rate=0.0, guidelines=GUIDELINES)
    assert started["size"] == len(ids)
    site = serve(proj, USERS)

    # two annotators, each in their own browser context
    annotate_all(site, "alice", ids, mouse={4, 7})
    annotate_all(site, "bob", ids, mouse={2, SHIFTED})
    with Project.open(site.root) as p:
        for who in ("alice", "bob"):
            got = {r.record_id: r for r in p.responses(user=who)}
            assert set(got) == set(ids)
            for k, rid in enumerate(ids):
                assert str(got[rid].status) == "submitted"
                assert got[rid].guideline_version == started["guideline_version"]
                assert got[rid].values["entities"] == as_value(plan(who, k)), (who, k)
        astral = {r.record_id: r for r in p.responses(user="alice")}[ids[4]]
        text = SENTENCES[4][0]  # code points: the gene starts 1 later in UTF-16
        assert astral.values["entities"][0]["start"] == text.index("MLH1") == 21

    # the owner closes the round from the command line
    closed = CliRunner().invoke(app, ["round", "close", "-p", str(site.root)])
    assert closed.exit_code == 0, closed.output
    assert "round 1 closed" in closed.output and "3 items sent to review" in closed.output
    disputed = {ids[k]: k for k in (DROPPED, SHIFTED, MISLABELED)}
    with Project.open(site.root) as p:
        items = {r["record_id"]: r for r in p.reviews()}
        assert set(items) == set(disputed)
        with p.store.read() as tx:
            finals = {f.record_id: f for f in tx.final_labels_for(ids)}
    for k, rid in enumerate(ids):  # agreed records: the consensus, without review
        if rid not in disputed:
            assert finals[rid].value == as_value(plan("alice", k)), k
            assert str(finals[rid].provenance) == "consensus"
    report = (site.root / "qa" / "round-1.html").read_text()
    section = report[report.index('<section id="span-types">') :]
    section = section[: section.index("</section>")]
    for label in LABELS:
        assert f"<td>{label}</td>" in section
    assert "Precision: alice" in section and "Precision: bob" in section

    # the reviewer adjudicates on the review page
    page = site.login("rita")
    page.click("nav a[href='/review']")
    review = page.locator("#review")
    expect(review).to_have_attribute("aria-busy", "false")
    decided: dict[int, str] = {}
    for _ in disputed:
        rid, decided[rid] = decide_on_screen(page, items, disputed)
    expect(page.locator("#done")).to_be_visible()
    shot(page, "review-done")
    assert "edited" in decided.values() and "accepted" in decided.values()

    # Ctrl+Z takes the latest decision back: its item returns with its history, and the
    # record's final label is the consensus again until the reviewer decides it anew
    last = list(decided)[-1]
    page.keyboard.press("Control+z")
    expect(page.locator("#review-meta")).to_contain_text(f"Record {last}")
    expect(page.locator("#history-list li")).to_have_count(2)
    expect(page.locator("#history-list li").nth(1)).to_contain_text("rita undid")
    text = SENTENCES[disputed[last]][0]
    for s, e, lab in spans_of(*SENTENCES[disputed[last]]):  # span sets read as their words
        expect(page.locator("#history-list li").nth(0)).to_contain_text(f"“{text[s:e]}” ({lab})")
    expect(page.locator("#labels-title")).to_have_text("Adjudicate the spans")
    with Project.open(site.root) as p, p.store.read() as tx:
        back = tx.final_label(last, "entities")
    assert back is not None and str(back.provenance) == "consensus"
    shot(page, "review-undone")
    rid, decided[last] = decide_on_screen(page, items, disputed)
    assert rid == last
    expect(page.locator("#done")).to_be_visible()

    with Project.open(site.root) as p:
        items = {r["record_id"]: r for r in p.reviews(status=None)}
        with p.store.read() as tx:
            finals = {f.record_id: f for f in tx.final_labels_for(ids)}
    for rid, status in decided.items():
        assert (items[rid]["status"], items[rid]["reviewer"]) == (status, "rita")
        truth = spans_of(*SENTENCES[disputed[rid]])  # whoever slipped, the reviewer fixed it
        assert finals[rid].value == as_value(truth), SENTENCES[disputed[rid]][0]
        assert str(finals[rid].provenance) == "review"
    # bob slipped twice: his next visit shows the reviewer's two decisions
    bob = site.login("bob")
    bob.goto(f"{site.url}/annotate")
    expect(bob.locator("#feedback")).to_be_visible()
    expect(bob.locator("#feedback li")).to_have_count(2)
    shot(bob, "annotate-bob-feedback")
    # the read-only record behind the link shows both span sets as their words
    bob.locator("#feedback a.feedback-record").first.click()
    expect(bob.locator(".feedback-final").first).to_have_text(
        re.compile(r"^“[^”]+” \((Disease|Gene)\)")
    )
    expect(bob.locator(".feedback-answer").first).to_contain_text("”")
    shot(bob, "feedback-page-bob")

    report_page = site.browser.new_page()
    report_page.goto((site.root / "qa" / "round-1.html").as_uri() + "#span-types")
    expect(report_page.locator("#span-types table tbody tr")).to_have_count(len(LABELS))
    shot(report_page, "report")
    report_page.close()


def decide_on_screen(
    page: Page, items: dict[int, dict[str, Any]], disputed: dict[int, int]
) -> tuple[int, str]:
    """Decide the item on screen: Enter on an unchanged proposal that is right (accept),
    else fix the span set and Enter (edit). Returns the record and the expected status."""
    expect(page.locator("#review")).to_have_attribute("aria-busy", "false")
    meta = page.locator("#review-meta").inner_text()
    rid = int(re.search(r"Record (\d+)", meta).group(1))  # type: ignore[union-attr]
    k = disputed[rid]
    text = SENTENCES[k][0]
    check_item_shown(page, items[rid], k)
    shot(page, f"review-{k:02d}-shown")
    truth = spans_of(*SENTENCES[k])
    got = [(s["start"], s["end"], s["label"]) for s in items[rid]["detail"]["proposed"]]
    if got == truth:
        expect(page.locator("#span-state")).to_have_attribute("data-state", "unchanged")
        status = "accepted"
    else:
        adjudicate(page, text, got, truth, mouse=k == SHIFTED)
        expect(page.locator("#span-state")).to_have_attribute("data-state", "edited")
        expect(page.locator("#record mark")).to_have_count(len(truth))
        shot(page, f"review-{k:02d}-edited")
        status = "edited"
    page.keyboard.press("Enter")
    expect(page.locator("#error")).to_be_empty()
    expect(page.locator("#note")).to_contain_text(f"Item {items[rid]['id']} ")
    return rid, status


def adjudicate(page: Page, text: str, got: list[Span], truth: list[Span], *, mouse: bool) -> None:
    """Turn the proposed span set ``got`` into ``truth`` on the review page: wrong spans are
    clicked away, missing ones marked by mouse (a drag, then the label's button) or keys."""
    spans = page.locator("#labels .span-list li")
    # the buttons that start from an annotator's set, and back to the proposal
    page.locator('#answers button.use-answer[data-annotator="alice"]').click()
    expect(page.locator("#span-state")).to_have_attribute("data-state", "edited")
    page.locator("#span-reset").click()
    expect(page.locator("#span-state")).to_have_attribute("data-state", "unchanged")
    expect(spans).to_have_count(len(got))
    for s, e, _ in sorted(set(got) - set(truth)):
        page.locator("#record mark", has_text=text[s:e]).first.click()
        expect(page.locator("#note")).to_contain_text("Span removed")
    caret = Caret(page, text, '#record .text[data-field="text"]')
    for s, e, lab in sorted(set(truth) - set(got)):
        if mouse:
            caret.drag(s, e)
            page.locator("#labels .option", has_text=lab).click()
        else:
            caret.keys(s, e, str(LABELS.index(lab) + 1))
    expect(spans).to_have_count(len(truth))


def check_item_shown(page: Page, item: dict[str, Any], k: int) -> None:
    """The item on screen shows the record, both annotators' spans marked against the
    proposal, and the proposal with each span's support."""
    text = SENTENCES[k][0]
    detail = item["detail"]
    proposed = {(s["start"], s["end"], s["label"]) for s in detail["proposed"]}
    expect(page.locator("#question-title")).to_have_text("entities")
    expect(page.locator('#record .text[data-field="text"]')).to_have_text(text)
    expect(page.locator("#labels-title")).to_have_text("Adjudicate the spans")
    expect(page.locator("#proposal")).to_contain_text(
        f"Proposed consensus span set: {len(proposed)} span"
    )
    expect(page.locator("#record mark")).to_have_count(len(proposed))
    for who in ("alice", "bob"):
        row = page.locator(f'#answers tr[data-annotator="{who}"]')
        for s, e, lab in plan(who, k):
            li = row.locator(f'li[data-span="{s}:{e}:{lab}"]')
            expect(li).to_contain_text(text[s:e])
            expect(li).to_contain_text(lab)
            if (s, e, lab) in proposed:
                expect(li.locator(".badge")).to_have_count(0)
            else:
                expect(li.locator(".badge")).to_have_text("not proposed")
        for s, e, lab in proposed - set(plan(who, k)):
            expect(row.locator(f'li.missed[data-span="{s}:{e}:{lab}"]')).to_contain_text(
                "not marked"
            )
    support = {f"{s['start']}:{s['end']}:{s['label']}": s for s in detail["support"]["spans"]}
    for s, e, lab in proposed:
        tr = page.locator(f'#span-support tr[data-span="{s}:{e}:{lab}"]')
        expect(tr).to_have_attribute("data-kept", "true")
        expect(tr).to_contain_text(text[s:e])
        sup = support[f"{s}:{e}:{lab}"]
        expect(tr).to_contain_text(f"{round(sup['support'] * 100)} %")
        given = [w for w in ("alice", "bob") if (s, e, lab) in plan(w, k)]
        expect(tr.locator("td").nth(3)).to_have_text(", ".join(given))


def test_a_model_proposed_or_unanswered_span_item_is_never_set_by_one_key(
    serve: Serve, make_project: Callable[..., Project]
) -> None:
    proj = make_project(QUESTION, overlap=2)
    texts = [SENTENCES[6][0], SENTENCES[11][0]]
    ids = proj.add_records([{"fields": {"text": t}} for t in texts]).ids
    apoe = as_value(spans_of(texts[0], [("APOE4", "Gene")]))
    proposed = as_value(spans_of(texts[0], [("APOE4", "Gene"), ("Alzheimer disease", "Disease")]))
    answers = {"alice": as_value(spans_of(texts[0], [("APOE4", "Disease")])), "bob": apoe}
    with proj.store.write() as tx:  # as a rule that proposes a set nobody gave would queue them
        tx.add_reviews(
            [
                {"record_id": ids[0], "question": "entities", "kind": "disagreement",
                 "priority": 0.9, "detail": {"answers": answers, "proposed": proposed,
                                             "model_proposed": True}},
                {"record_id": ids[1], "question": "entities", "kind": "disagreement",
                 "priority": 0.5, "detail": {"answers": {}, "proposed": None}},
            ]
        )  # fmt: skip
    site = serve(proj, USERS)
    page = site.login("rita")
    page.goto(f"{site.url}/review")
    expect(page.locator("#review")).to_have_attribute("aria-busy", "false")

    def state() -> tuple[dict[int, str], dict[int, Any]]:
        with Project.open(site.root) as p:
            items = {r["record_id"]: r["status"] for r in p.reviews(status=None)}
            with p.store.read() as tx:
                finals = {r: tx.final_label(r, "entities") for r in ids}
        return items, {
            r: None if f is None else (f.value, str(f.provenance)) for r, f in finals.items()
        }

    untouched = ({ids[0]: "open", ids[1]: "open"}, {ids[0]: None, ids[1]: None})
    expect(page.locator("#review-meta")).to_contain_text(f"Record {ids[0]}")
    expect(page.locator("#model-badge")).to_be_visible()
    expect(page.locator("#proposal")).to_contain_text("Model-proposed span set")
    expect(page.locator("#record mark")).to_have_count(2)
    shot(page, "model-proposed")
    page.keyboard.press("Enter")  # the proposal as it stands: refused
    expect(page.locator("#error")).to_contain_text("no annotator gave this span set")
    assert state() == untouched
    page.keyboard.press("a")  # takes it; Enter then accepts it
    expect(page.locator("#note")).to_contain_text("Model-proposed span set taken")
    assert state() == untouched
    page.keyboard.press("Enter")

    expect(page.locator("#review-meta")).to_contain_text(f"Record {ids[1]}")
    expect(page.locator("#proposal")).to_contain_text("Nobody answered this record")
    expect(page.locator("#record mark")).to_have_count(0)
    start = texts[1].index("PAH")
    Caret(page, texts[1], '#record .text[data-field="text"]').keys(start, start + 3, "2")
    page.keyboard.press("Enter")
    expect(page.locator("#error")).to_contain_text("nobody answered this record")
    assert state()[0][ids[1]] == "open"
    page.keyboard.press("Enter")  # the second Enter: knowingly
    expect(page.locator("#done")).to_be_visible()
    assert state() == (
        {ids[0]: "accepted", ids[1]: "edited"},
        {ids[0]: (proposed, "review"), ids[1]: (as_value([(start, start + 3, "Gene")]), "review")},
    )


def test_span_labels_items_are_adjudicated_label_by_label(
    serve: Serve, make_project: Callable[..., Project]
) -> None:
    text = "🇫🇷 Ana met the Acme board in Paris 😀 today."
    proj = make_project(
        {"name": "mentions", "kind": "span_multilabel", "labels": ["PER", "LOC", "ORG"]}
    )
    (rid,) = proj.add_records([{"fields": {"text": text}}]).ids
    start = text.index("Paris")
    loc = [{"start": start, "end": start + 5, "labels": ["LOC"]}]
    both = [{"start": start, "end": start + 5, "labels": ["LOC", "ORG"]}]
    # the vote counts each label of a span on its own: bob's weight carried ORG
    support = [
        {"start": start, "end": start + 5, "label": "LOC", "support": 1.0, "entity_support": 1.0,
         "annotators": ["alice", "bob"], "disputed": False},
        {"start": start, "end": start + 5, "label": "ORG", "support": 0.6, "entity_support": 0.6,
         "annotators": ["bob"], "disputed": False},
    ]  # fmt: skip
    detail = {
        "answers": {"alice": loc, "bob": both},
        "proposed": both,
        "support": {"spans": support},
    }
    with proj.store.write() as tx:
        tx.add_reviews(
            [{"record_id": rid, "question": "mentions", "kind": "low_confidence",
              "priority": 0.4, "detail": detail}]
        )  # fmt: skip
    site = serve(proj, USERS)
    page = site.login("rita")
    page.goto(f"{site.url}/review")
    expect(page.locator("#review")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#record mark")).to_have_text("Paris")
    alice = page.locator('#answers tr[data-annotator="alice"]')
    expect(alice.locator(f'li.missed[data-span="{start}:{start + 5}:LOC+ORG"]')).to_contain_text(
        "not marked"
    )
    rows = page.locator("#span-support tbody tr")  # one row per label of the proposed span
    expect(rows).to_have_count(2)
    for label, share, given in (("LOC", "100 %", "alice, bob"), ("ORG", "60 %", "bob")):
        row = page.locator(f'#span-support tr[data-span="{start}:{start + 5}:{label}"]')
        expect(row).to_have_attribute("data-kept", "true")
        expect(row.locator("td").nth(1)).to_have_text(share)
        expect(row.locator("td").nth(3)).to_have_text(given)
    expect(page.locator("#record mark")).to_have_attribute("data-tag", "LOC+ORG")
    Caret(page, text, '#record .text[data-field="text"]').keys(start, start + 5, "3")  # ORG off
    expect(page.locator("#record mark")).to_have_attribute("data-tag", "LOC")
    expect(page.locator("#span-state")).to_have_attribute("data-state", "edited")
    shot(page, "span-labels-edited")
    page.keyboard.press("Enter")
    expect(page.locator("#done")).to_be_visible()
    with Project.open(site.root) as p:
        (item,) = p.reviews(status=None)
        with p.store.read() as tx:
            final = tx.final_label(rid, "mentions")
    assert item["status"] == "edited" and final is not None
    assert (final.value, str(final.provenance)) == (loc, "review")
