"""One real keyboard flow per question kind; each checks what the store holds afterwards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from goldsmith import Project, Suggestion, SuggestionKind

pytestmark = pytest.mark.browser
OpenPage = Callable[..., Any]


def test_label_number_keys_choose_and_enter_submits(open_page: OpenPage, tmp_path: Path) -> None:
    proj = Project.init(tmp_path / "p", template="classification", labels=["a", "b", "c"])
    ids = proj.add_records([{"fields": {"text": "first"}}, {"fields": {"text": "second"}}]).ids
    s = open_page(proj)
    s.wait_record(ids[0])
    s.press("2")
    expect(s.page.locator('[role=radio][data-value="b"]')).to_have_attribute("aria-checked", "true")
    s.press("Enter")
    s.wait_record(ids[1])
    s.press("3", "1", "Enter")
    s.wait_done()
    got = s.responses()
    assert got[ids[0]].values == {"label": "b"}
    assert got[ids[1]].values == {"label": "a"}
    assert {str(r.status) for r in got.values()} == {"submitted"}


def test_multilabel_keys_toggle(open_page: OpenPage, tmp_path: Path) -> None:
    proj = Project.init(tmp_path / "p", template="multilabel", labels=["a", "b", "c"])
    (rid,) = proj.add_records([{"fields": {"text": "x"}}]).ids
    s = open_page(proj)
    s.wait_record(rid)
    s.press("3", "1", "2", "2")  # 2 twice: on, then off again
    checked = s.page.locator('[role=checkbox][aria-checked="true"]')
    expect(checked).to_have_count(2)
    s.press("Enter")
    s.wait_done()
    assert s.responses()[rid].values == {"labels": ["a", "c"]}


# Astral characters (emoji, flags, maths letters) are two UTF-16 units in JS, one in Python.
SPANS_TEXT = "Hi 😀 Ana, 🇫🇷 met 𝐁ob in Paris 👩🏽‍🔬 today."


def _drag_select(s, start: int, end: int) -> None:  # noqa: ANN001 - a conftest Session
    """Select [start, end) (Python offsets) of the spans field with a real mouse drag."""
    u16 = [len(SPANS_TEXT[:i].encode("utf-16-le")) // 2 for i in (start, end)]
    box = s.page.evaluate(
        """([a, b]) => {
            const t = document.querySelector('.text[data-field="text"]');
            const walk = document.createTreeWalker(t, NodeFilter.SHOW_TEXT);
            const at = (u) => { let acc = 0;
                for (let n = walk.nextNode(); n; n = walk.nextNode()) {
                    if (u <= acc + n.length) return [n, u - acc]; acc += n.length; } };
            const r = document.createRange();
            r.setStart(...at(a)); walk.currentNode = t; r.setEnd(...at(b));
            const rects = r.getClientRects(); const f = rects[0], l = rects[rects.length - 1];
            return {x0: f.left + 1, y0: f.top + f.height / 2,
                    x1: l.right - 1, y1: l.top + l.height / 2};
        }""",
        u16,
    )
    s.page.mouse.move(box["x0"], box["y0"])
    s.page.mouse.down()
    s.page.mouse.move(box["x1"], box["y1"], steps=5)
    s.page.mouse.up()


def test_spans_keyboard_and_mouse_selection_store_code_point_offsets(
    open_page: OpenPage, tmp_path: Path
) -> None:
    proj = Project.init(tmp_path / "p", template="ner", labels=["PER", "LOC"])
    (rid,) = proj.add_records([{"fields": {"text": SPANS_TEXT}}]).ids
    s = open_page(proj)
    s.wait_record(rid)
    # keyboard: jump over "Hi", then to the end of "Ana", select it back word-wise, label PER
    s.press("Control+ArrowRight", "Control+ArrowRight", "Control+Shift+ArrowLeft", "1")
    # a mis-labelled span ("met"), removed by clicking it; the click puts the caret inside it
    s.press("Control+ArrowRight", "Control+Shift+ArrowLeft", "2")
    expect(s.page.locator("mark")).to_have_count(2)
    s.page.locator("mark", has_text="met").click()
    expect(s.page.locator("mark")).to_have_count(1)
    # character-wise keyboard selection across an astral letter: "𝐁ob"
    s.press("Control+ArrowRight", "ArrowRight")  # end of "met", then just before "𝐁"
    s.press("Shift+ArrowRight", "Shift+ArrowRight", "Shift+ArrowRight", "1")
    # mouse: drag over "Paris", label LOC
    start = SPANS_TEXT.index("Paris")
    _drag_select(s, start, start + 5)
    s.press("2")
    expect(s.page.locator("mark")).to_have_count(3)
    expect(s.page.locator(".span-list li")).to_have_count(3)
    s.press("Enter")
    s.wait_done()
    spans = s.responses()[rid].values["spans"]
    assert [(SPANS_TEXT[x["start"] : x["end"]], x["label"]) for x in spans] == [
        ("Ana", "PER"),
        ("𝐁ob", "PER"),
        ("Paris", "LOC"),
    ]
    assert spans[0]["start"] == SPANS_TEXT.index("Ana") == 5  # code points, not UTF-16 (6)


def test_spans_suggestion_prefills_marks_at_code_point_offsets(
    open_page: OpenPage, tmp_path: Path
) -> None:
    proj = Project.init(tmp_path / "p", template="ner", labels=["PER", "LOC"])
    (rid,) = proj.add_records([{"fields": {"text": SPANS_TEXT}}]).ids
    start = SPANS_TEXT.index("Paris")
    proj.add_suggestions(
        [
            Suggestion(
                rid,
                "spans",
                [{"start": start, "end": start + 5, "label": "LOC"}],
                agent="ner@2",
                kind=SuggestionKind.MODEL,
                score=0.5,
            )
        ]
    )
    s = open_page(proj)
    s.wait_record(rid)
    expect(s.page.locator("mark")).to_have_text("Paris")
    s.press(*["Control+ArrowRight"] * 6)  # the caret lands at the end of "Paris"
    s.press("Delete")  # removes the span the caret touches
    expect(s.page.locator("mark")).to_have_count(0)
    s.press("Control+Shift+ArrowLeft", "2")  # and label it again
    expect(s.page.locator("mark")).to_have_text("Paris")
    s.press("Enter")
    s.wait_done()
    assert s.responses()[rid].values["spans"] == [
        {"start": start, "end": start + 5, "label": "LOC"}
    ]


def test_text_question_types_keys_and_ctrl_enter_submits(
    open_page: OpenPage, tmp_path: Path
) -> None:
    proj = Project.init(tmp_path / "p", template="sft")
    ids = proj.add_records([{"fields": {"prompt": "Say hi"}}, {"fields": {"prompt": "Bye"}}]).ids
    s = open_page(proj)
    s.wait_record(ids[0])
    # the box has focus: "s", digits, "?" and Backspace edit text instead of acting
    s.page.keyboard.type("Hello s1?x")
    s.press("Backspace", "Enter")  # Enter alone is a new line
    s.page.keyboard.type("2nd line")
    expect(s.page.locator("#help")).not_to_be_visible()
    s.press("Control+Enter")
    s.wait_record(ids[1])
    # Esc leaves the box; then "s" skips
    s.page.keyboard.type("draft")
    s.press("Escape", "s")
    s.wait_done()
    got = s.responses()
    assert got[ids[0]].values == {"response": "Hello s1?\n2nd line"}
    assert str(got[ids[0]].status) == "submitted"
    assert str(got[ids[1]].status) == "discarded"


def test_rating_and_tab_between_questions(
    open_page: OpenPage, make_project: Callable[..., Project]
) -> None:
    proj = make_project(
        {"name": "label", "kind": "label", "labels": ["good", "bad"]},
        {"name": "quality", "kind": "rating", "min": 1, "max": 5},
        {"name": "stars", "kind": "rating", "min": 0, "max": 10, "required": False},
    )
    ids = proj.add_records([{"fields": {"text": "one"}}, {"fields": {"text": "two"}}]).ids
    s = open_page(proj)
    s.wait_record(ids[0])
    s.press("2")  # label is the current question
    s.press("Tab", "4")  # rating: the key is the value
    s.press("Shift+Tab", "1")  # back to the label
    s.press("Tab", "Tab", "1", "0")  # 0..10: keys are positions, 1 -> 0 and 0 -> 9 (10th)
    s.press("ArrowRight")  # -> 10
    expect(s.page.locator(".question.active")).to_have_attribute("data-name", "stars")
    s.press("Enter")
    s.wait_record(ids[1])
    # clicking works too
    s.page.locator('.question[data-name="label"] [data-value="bad"]').click()
    s.page.locator('.question[data-name="quality"] [data-value="2"]').click()
    s.press("Enter")
    s.wait_done()
    got = s.responses()
    assert got[ids[0]].values == {"label": "good", "quality": 4, "stars": 10}
    assert got[ids[1]].values == {"label": "bad", "quality": 2}


def test_preference_pairwise_and_ranking(open_page: OpenPage, tmp_path: Path) -> None:
    proj = Project.init(tmp_path / "p", template="preference")
    ids = proj.add_records(
        [
            {"fields": {"prompt": "p1", "candidates": ["short", "long answer"]}},
            {"fields": {"prompt": "p2", "candidates": ["x", "y", "z", "w"]}},
        ]
    ).ids
    s = open_page(proj)
    s.wait_record(ids[0])
    s.press("1", "2")  # pairwise: the last press wins
    expect(s.page.locator(".candidate.winner")).to_contain_text("long answer")
    s.press("Enter")
    s.wait_record(ids[1])
    s.press("3", "1", "1")  # 1 twice: ranked, then taken out again
    s.press("4", "1")  # three ranked of four: the last one completes the ranking
    expect(s.page.locator(".ranking")).to_have_text("Ranking: 3 > 4 > 1 > 2")
    s.press("Enter")
    s.wait_done()
    got = s.responses()
    assert got[ids[0]].values == {"preference": [1, 0]}
    assert got[ids[1]].values == {"preference": [2, 3, 0, 1]}


def test_tab_into_a_text_box_types_digits_and_letters(
    open_page: OpenPage, make_project: Callable[..., Project]
) -> None:
    proj = make_project(
        {"name": "label", "kind": "label", "labels": ["a", "b"]},
        {"name": "notes", "kind": "text", "required": False},
    )
    (rid,) = proj.add_records([{"fields": {"text": "one"}}]).ids
    s = open_page(proj)
    s.wait_record(rid)
    s.press("1", "Tab")
    expect(s.page.locator("textarea")).to_be_focused()
    s.page.keyboard.type("2 s?")
    s.press("Tab", "2")  # Tab wraps round to the label; 2 picks "b"
    expect(s.page.locator("textarea")).not_to_be_focused()
    s.press("Enter")
    s.wait_done()
    assert s.responses()[rid].values == {"label": "b", "notes": "2 s?"}
