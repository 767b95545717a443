"""The ``span_labels`` widget of ``span_multilabel`` questions: select text as for spans, then
toggle labels on the span with the label keys; the store holds code-point offsets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from goldsmith import Project, Suggestion, SuggestionKind

pytestmark = pytest.mark.browser
OpenPage = Callable[..., Any]

# astral characters before the spans: a flag, a ZWJ sequence, a maths letter (2 UTF-16 units
# each in JS, 1 code point each in Python)
TEXT = "🇫🇷 👩🏽‍🔬 Ana met 𝐁ob in Paris 😀 today."
LABELS = ["PER", "LOC", "ORG"]

SELECT = """([a, b]) => {
    const t = document.querySelector('.text[data-field="text"]');
    const at = (u) => {
        const walk = document.createTreeWalker(t, NodeFilter.SHOW_TEXT); let acc = 0;
        for (let n = walk.nextNode(); n; n = walk.nextNode()) {
            if (u <= acc + n.length) return [n, u - acc]; acc += n.length; } };
    getSelection().setBaseAndExtent(...at(a), ...at(b));
}"""


def _select(s: Any, start: int, end: int) -> None:
    """Select [start, end) (Python offsets) of the text field through the DOM selection."""
    u16 = [len(TEXT[:i].encode("utf-16-le")) // 2 for i in (start, end)]
    s.page.evaluate(SELECT, u16)


def test_span_labels_toggle_labels_on_spans_and_store_code_points(
    open_page: OpenPage, make_project: Callable[..., Project]
) -> None:
    proj = make_project({"name": "mentions", "kind": "span_multilabel", "labels": LABELS})
    (rid,) = proj.add_records([{"fields": {"text": TEXT}}]).ids
    s = open_page(proj)
    s.wait_record(rid)
    question = s.page.locator('.question[data-name="mentions"]')
    expect(question).to_have_attribute("data-kind", "span_multilabel")
    expect(question.locator(".hint")).to_contain_text("toggle labels")

    # keyboard: to the end of "Ana", select it back word-wise; PER, then ORG on the same span
    s.press("Control+ArrowRight", "Control+Shift+ArrowLeft", "1")
    expect(s.page.locator("mark")).to_have_text("Ana")
    s.press("3")  # no selection now: the key toggles ORG on the span at the caret
    expect(s.page.locator("mark")).to_have_attribute("data-tag", "PER+ORG")
    expect(s.page.locator(".span-list li").first.locator(".span-label")).to_have_text(
        ["PER", "ORG"]
    )

    # "Paris" through the DOM selection: LOC, then PER; the labels keep the task's order
    start = TEXT.index("Paris")
    _select(s, start, start + 5)
    s.press("2", "1")
    expect(s.page.locator("mark", has_text="Paris")).to_have_attribute("data-tag", "PER+LOC")

    # a third span, "met": its only label toggled off removes it, as Delete and a click do
    start = TEXT.index("met")
    _select(s, start, start + 3)
    s.press("1")
    expect(s.page.locator("mark")).to_have_count(3)
    s.press("1")
    expect(s.page.locator("mark")).to_have_count(2)
    _select(s, start, start + 3)
    s.press("2")
    expect(s.page.locator("mark")).to_have_count(3)
    s.press("Delete")  # the caret sits at the end of "met"
    expect(s.page.locator("mark")).to_have_count(2)
    expect(s.page.locator(".span-list li")).to_have_count(2)

    s.press("?")
    expect(s.page.locator("#help tr", has_text="Toggle “ORG”").locator("kbd")).to_have_text("3")
    s.press("Escape", "Enter")
    s.wait_done()
    got = s.responses()[rid]
    assert str(got.status) == "submitted"
    spans = got.values["mentions"]
    assert [(TEXT[x["start"] : x["end"]], x["labels"]) for x in spans] == [
        ("Ana", ["PER", "ORG"]),
        ("Paris", ["PER", "LOC"]),
    ]
    assert spans[0]["start"] == TEXT.index("Ana") == 8  # code points, not UTF-16 (13)


def test_span_labels_suggestion_prefills_and_a_click_removes(
    open_page: OpenPage, make_project: Callable[..., Project]
) -> None:
    proj = make_project({"name": "mentions", "kind": "span_multilabel", "labels": LABELS})
    (rid,) = proj.add_records([{"fields": {"text": TEXT}}]).ids
    start = TEXT.index("𝐁ob")
    proj.add_suggestions(
        [_suggestion(rid, [{"start": start, "end": start + 3, "labels": ["PER", "ORG"]}])]
    )
    s = open_page(proj)
    s.wait_record(rid)
    expect(s.page.locator(".suggestion .s-value")).to_have_text("PER+ORG")
    expect(s.page.locator("mark")).to_have_text("𝐁ob")
    s.page.locator("mark", has_text="𝐁ob").click()
    expect(s.page.locator("mark")).to_have_count(0)
    s.page.locator(".suggestion button").click()  # the suggestion comes back
    expect(s.page.locator("mark")).to_have_text("𝐁ob")
    s.press("Enter")
    s.wait_done()
    assert s.responses()[rid].values["mentions"] == [
        {"start": start, "end": start + 3, "labels": ["PER", "ORG"]}
    ]


def _suggestion(rid: int, value: list[dict[str, Any]]) -> Suggestion:
    return Suggestion(rid, "mentions", value, agent="ner@2", kind=SuggestionKind.MODEL, score=0.5)
