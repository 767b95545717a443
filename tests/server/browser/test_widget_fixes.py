"""Widget fixes of issue 20 in a real Chromium: a preference ranking typed in any order, mouse
span selection that snaps to words (Alt: exact characters), and nested or overlapping spans
that each can be selected and removed. Each test reads the store afterwards."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from goldsmith import Project, Suggestion, SuggestionKind

pytestmark = pytest.mark.browser
OpenPage = Callable[..., Any]
SHOTS = Path("/tmp/shots/widgets")


def test_ranking_keeps_every_order_typed_in_full(open_page: OpenPage, tmp_path: Path) -> None:
    proj = Project.init(tmp_path / "p", template="preference")
    orders = list(itertools.permutations(range(3)))
    records = [{"fields": {"prompt": f"p{n}", "candidates": ["x", "y", "z"]}} for n in orders]
    records.append({"fields": {"prompt": "four", "candidates": ["a", "b", "c", "d"]}})
    ids = proj.add_records(records).ids
    s = open_page(proj)
    summary = s.page.locator(".ranking")
    for rid, order in zip(ids, orders, strict=False):
        s.wait_record(rid)
        s.press(*(str(j + 1) for j in order))
        expect(summary).to_have_text("Ranking: " + " > ".join(str(j + 1) for j in order))
        expect(s.page.locator(".ranking-order li.implied")).to_have_count(0)
        s.press("Enter")
    # four candidates: the order shows as it is built; the last place is filled in, dashed,
    # until its own key confirms it
    s.wait_record(ids[-1])
    built = s.page.locator(".ranking-order li")
    s.press("2", "4")
    expect(built).to_have_text(["#1 Candidate 2", "#2 Candidate 4"])
    expect(s.page.locator(".ranking-next")).to_contain_text("place #3")
    s.press("1")
    expect(built).to_have_count(4)
    expect(s.page.locator(".ranking-order li.implied")).to_have_text("#4 Candidate 3")
    SHOTS.mkdir(parents=True, exist_ok=True)
    s.page.screenshot(path=str(SHOTS / "ranking-implied.png"))
    s.press("3")
    expect(summary).to_have_text("Ranking: 2 > 4 > 1 > 3")
    expect(s.page.locator(".ranking-order li.implied")).to_have_count(0)
    s.press("Enter")
    s.wait_done()
    got = s.responses()
    for rid, order in zip(ids, orders, strict=False):
        assert got[rid].values == {"preference": list(order)}, order
    assert got[ids[-1]].values == {"preference": [1, 3, 0, 2]}


TEXT = "🧬🧬 BRCA1 is secreted by 😀 cells in vitro."

RECT = """([u, frac]) => {
    const t = document.querySelector('.text[data-field="text"]');
    const w = document.createTreeWalker(t, NodeFilter.SHOW_TEXT); let acc = 0;
    for (let n = w.nextNode(); n; n = w.nextNode()) {
        if (u < acc + n.length) {
            const r = document.createRange(); r.setStart(n, u - acc); r.setEnd(n, u - acc + 1);
            const b = r.getBoundingClientRect();
            return [b.left + b.width * frac, b.top + b.height / 2];
        }
        acc += n.length;
    }
}"""


def _at(page: Page, i: int) -> tuple[float, float]:
    """A point on the left quarter of code point ``i`` of TEXT: a drag boundary before it."""
    u16 = len(TEXT[:i].encode("utf-16-le")) // 2
    x, y = page.evaluate(RECT, [u16, 0.25])
    return x, y


def _drag(page: Page, a: int, b: int, *, alt: bool = False) -> None:
    """Drag the real mouse from before code point ``a`` to before code point ``b``."""
    (x1, y1), (x2, y2) = _at(page, a), _at(page, b)
    if alt:
        page.keyboard.down("Alt")
    page.mouse.move(x1, y1)
    page.mouse.down()
    page.mouse.move(x2, y2, steps=8)
    page.mouse.up()
    if alt:
        page.keyboard.up("Alt")


def test_mouse_spans_snap_to_words_and_alt_keeps_characters(
    open_page: OpenPage, make_project: Callable[..., Project]
) -> None:
    proj = make_project(
        {"name": "ents", "kind": "spans", "labels": ["GENE", "CELL"], "field": "text"}
    )
    ids = proj.add_records([{"fields": {"text": TEXT}}, {"fields": {"text": TEXT + " Again."}}]).ids
    s = open_page(proj)
    page = s.page
    s.wait_record(ids[0])
    # from inside "BRCA1" to inside "secreted": the whole words
    gene = TEXT.index("BRCA1")
    _drag(page, gene + 2, TEXT.index("secreted") + 7)
    assert page.evaluate("getSelection().toString()") == "BRCA1 is secreted"
    s.press("1")
    expect(page.locator("mark")).to_have_text("BRCA1 is secreted")
    # backwards, from inside "vitro" to inside "cells"
    cells = TEXT.index("cells")
    _drag(page, TEXT.index("vitro") + 2, cells + 2)
    s.press("2")
    expect(page.locator("mark", has_text="cells in vitro")).to_have_count(1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "spans-snapped.png"))
    s.press("Enter")
    s.wait_record(ids[1])
    expect(page.locator("mark")).to_have_count(0)
    # Alt held: exactly the characters dragged over
    _drag(page, cells + 2, TEXT.index("vitro") + 2, alt=True)
    s.press("2")
    expect(page.locator("mark")).to_have_text("lls in vi")
    s.press("Enter")
    s.wait_done()
    got = s.responses()
    assert got[ids[0]].values["ents"] == [
        {"start": gene, "end": gene + len("BRCA1 is secreted"), "label": "GENE"},
        {"start": cells, "end": cells + len("cells in vitro"), "label": "CELL"},
    ]
    assert gene == 3  # code points: the two emoji count one each
    assert got[ids[1]].values["ents"] == [
        {"start": cells + 2, "end": TEXT.index("vitro") + 2, "label": "CELL"}
    ]


NESTED = "The quick brown fox jumps over the lazy dog."


def test_nested_and_overlapping_spans_render_and_each_is_selected_and_removed(
    open_page: OpenPage, make_project: Callable[..., Project]
) -> None:
    proj = make_project(
        {"name": "ents", "kind": "spans", "labels": ["A", "B", "C", "D"], "field": "text"}
    )
    (rid,) = proj.add_records([{"fields": {"text": NESTED}}]).ids
    at = {
        w: (NESTED.index(w), NESTED.index(w) + len(w))
        for w in ("quick brown", "quick", "brown", "brown fox")
    }
    spans = [
        {
            "start": at["quick brown"][0],
            "end": at["quick brown"][1],
            "label": "A",
        },  # covers B and C
        {"start": at["quick"][0], "end": at["quick"][1], "label": "B"},
        {"start": at["brown"][0], "end": at["brown"][1], "label": "C"},
        {"start": at["brown fox"][0], "end": at["brown fox"][1], "label": "D"},  # overlaps A
    ]
    proj.add_suggestions(
        [Suggestion(rid, "ents", spans, agent="ner", kind=SuggestionKind.MODEL, score=0.9)]
    )
    s = open_page(proj)
    page = s.page
    s.wait_record(rid)
    # "brown" lies under A, C and D: three layers, each colour drawn
    brown = page.locator('mark[data-depth="3"]')
    expect(brown).to_have_text("brown")
    layers = "[...document.querySelectorAll('mark[data-depth=\"3\"]')].map((m) => m.style.cssText)"
    assert all("--h3" in css for css in page.evaluate(layers))
    expect(page.locator('mark[data-depth="2"]').first).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "spans-nested.png"))
    items = page.locator(".span-list li")
    expect(items).to_have_count(4)
    labels = page.locator(".span-list .span-label")
    expect(labels).to_have_text(["B", "A", "C", "D"])  # by start, then end
    # Shift+↓ selects the spans in turn: the second is the outer one; Delete removes it alone
    s.press("Shift+ArrowDown")
    assert page.evaluate("getSelection().toString()") == "quick"
    s.press("Shift+ArrowDown")
    expect(items.nth(1)).to_have_class("current")
    assert page.evaluate("getSelection().toString()") == "quick brown"
    s.press("Delete")
    expect(items).to_have_count(3)
    expect(labels).to_have_text(["B", "C", "D"])
    # a click on a span's text in the list selects it; Delete removes it alone
    items.nth(2).locator(".span-text").click()
    assert page.evaluate("getSelection().toString()") == "brown fox"
    s.press("Delete")
    expect(labels).to_have_text(["B", "C"])
    # and the × button removes one
    items.nth(0).locator(".remove").click()
    expect(labels).to_have_text(["C"])
    s.press("Enter")
    s.wait_done()
    assert s.responses()[rid].values["ents"] == [spans[2]]
