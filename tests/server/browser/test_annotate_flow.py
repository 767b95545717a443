"""The page around the widgets: skip and back, help, drafts, errors, big records, prefill."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Route, expect

from goldsmith import Project, Suggestion, SuggestionKind

pytestmark = pytest.mark.browser
OpenPage = Callable[..., Any]


def _classification(tmp_path: Path, n: int = 3) -> tuple[Project, list[int]]:
    proj = Project.init(tmp_path / "p", template="classification", labels=["a", "b", "c"])
    ids = proj.add_records([{"fields": {"text": f"record {i}"}} for i in range(n)]).ids
    return proj, ids


def test_skip_then_backspace_returns_and_resubmits(open_page: OpenPage, tmp_path: Path) -> None:
    proj, ids = _classification(tmp_path)
    s = open_page(proj)
    s.wait_record(ids[0])
    s.press("s")
    s.wait_record(ids[1])
    assert str(s.responses()[ids[0]].status) == "discarded"
    s.press("Backspace")
    s.wait_record(ids[0])
    expect(s.page.locator("#record-status")).to_contain_text("skipped earlier")
    s.press("3", "Enter")  # re-submit the skipped record, then back to the queue
    s.wait_record(ids[1])
    s.press("1", "Enter")
    s.wait_record(ids[2])
    s.press("Backspace")  # back over a submitted record shows its answer
    s.wait_record(ids[1])
    expect(s.page.locator('[role=radio][data-value="a"]')).to_have_attribute("aria-checked", "true")
    s.press("Backspace")
    s.wait_record(ids[0])
    s.press("Enter")  # unchanged re-submit
    s.wait_record(ids[2])
    got = s.responses()
    assert got[ids[0]].values == {"label": "c"} and str(got[ids[0]].status) == "submitted"
    assert got[ids[1]].values == {"label": "a"}


def test_backspace_from_all_done_reopens_the_last_record(
    open_page: OpenPage, tmp_path: Path
) -> None:
    proj, ids = _classification(tmp_path, n=1)
    s = open_page(proj)
    s.wait_record(ids[0])
    s.press("2", "Enter")
    s.wait_done()
    expect(s.page.locator("#done-progress")).to_contain_text("1 / 1 complete")
    s.press("Backspace")
    s.wait_record(ids[0])
    s.press("3", "Enter")
    s.wait_done()
    assert s.responses()[ids[0]].values == {"label": "c"}


def test_empty_queue_shows_all_done(open_page: OpenPage, tmp_path: Path) -> None:
    proj = Project.init(tmp_path / "p", template="classification", labels=["a", "b"])
    s = open_page(proj)
    s.wait_done()
    expect(s.page.locator("#workspace")).to_be_hidden()
    s.press("Enter", "s")  # nothing to submit or skip: no error
    expect(s.page.locator("#error")).to_be_empty()


def test_help_overlay_lists_every_key(open_page: OpenPage, tmp_path: Path) -> None:
    proj, ids = _classification(tmp_path)
    s = open_page(proj)
    s.wait_record(ids[0])
    help_ = s.page.locator("#help")
    expect(help_).to_be_hidden()
    s.press("?")
    expect(help_).to_be_visible()
    for text in ("Enter", "Backspace", "Submit", "Skip", "Back to your previous record"):
        expect(help_).to_contain_text(text)
    rows = help_.locator("tr")
    for key, label in (("1", "“a”"), ("2", "“b”"), ("3", "“c”"), ("s", "Skip")):
        expect(rows.filter(has_text=label).locator("kbd").first).to_have_text(key)
    s.press("2")  # keys do nothing behind the dialog
    s.press("Escape")
    expect(help_).to_be_hidden()
    expect(s.page.locator('[role=radio][aria-checked="true"]')).to_have_count(0)
    s.press("?", "?")  # the help key also closes it
    expect(help_).to_be_hidden()


def test_failed_submit_keeps_text_and_shows_alert(open_page: OpenPage, tmp_path: Path) -> None:
    proj = Project.init(tmp_path / "p", template="sft")
    (rid,) = proj.add_records([{"fields": {"prompt": "Say hi"}}]).ids
    s = open_page(proj)
    # one route from the start (a route added just before a request can miss it): "mode"
    # says whether answers fail in the network, are refused by "the server", or go through
    mode = {"now": "pass"}
    conflict = '{"error": {"code": "conflict", "message": "record is full"}}'

    def answer(route: Route) -> None:
        if mode["now"] == "network":
            route.abort()
        elif mode["now"] == "refuse":
            route.fulfill(status=409, content_type="application/json", body=conflict)
        else:
            route.continue_()

    s.page.route("**/api/v1/records/*/response", answer)
    s.wait_record(rid)
    s.page.keyboard.type("A long careful answer")
    mode["now"] = "network"
    s.press("Control+Enter")
    alert = s.page.get_by_role("alert")
    expect(alert).to_contain_text("Could not reach the server")
    expect(alert).not_to_contain_text("null")
    expect(s.page.locator("textarea")).to_have_value("A long careful answer")
    mode["now"] = "refuse"
    s.press("Control+Enter")
    expect(alert).to_contain_text("record is full")
    expect(s.page.locator("textarea")).to_have_value("A long careful answer")
    mode["now"] = "pass"
    s.page.locator("textarea").focus()
    s.page.keyboard.type("!")
    s.press("Control+Enter")  # now it goes through
    s.wait_done()
    expect(s.page.locator("#error")).to_be_empty()
    assert s.responses()[rid].values == {"response": "A long careful answer!"}


def test_submit_with_the_server_gone_keeps_the_answer(open_page: OpenPage, tmp_path: Path) -> None:
    proj, ids = _classification(tmp_path)
    s = open_page(proj)
    s.wait_record(ids[0])
    s.press("3")
    s.server.stop()
    s.press("Enter")
    expect(s.page.get_by_role("alert")).to_contain_text("Could not reach the server")
    expect(s.page.locator('[role=radio][data-value="c"]')).to_have_attribute("aria-checked", "true")
    s.wait_record(ids[0])


def test_drafts_are_saved_and_restored(open_page: OpenPage, tmp_path: Path) -> None:
    proj = Project.init(tmp_path / "p", template="sft")
    (rid,) = proj.add_records([{"fields": {"prompt": "Say hi"}}]).ids
    s = open_page(proj)
    s.wait_record(rid)
    s.page.keyboard.type("half an ans")
    expect(s.page.locator("#saved")).to_have_text("Draft saved")
    got = s.responses()[rid]
    assert str(got.status) == "draft" and got.values == {"response": "half an ans"}
    s.page.reload()
    s.wait_record(rid)
    expect(s.page.locator("textarea")).to_have_value("half an ans")
    s.page.locator("textarea").focus()
    s.page.keyboard.press("End")
    s.page.keyboard.type("wer")
    s.press("Control+Enter")
    s.wait_done()
    got = s.responses()[rid]
    assert str(got.status) == "submitted" and got.values == {"response": "half an answer"}


def test_no_draft_over_a_submitted_answer(open_page: OpenPage, tmp_path: Path) -> None:
    proj, ids = _classification(tmp_path, n=2)
    s = open_page(proj)
    s.wait_record(ids[0])
    s.press("1", "Enter")
    s.wait_record(ids[1])
    drafts: list[str] = []
    s.page.on("request", lambda r: r.method == "PUT" and drafts.append(r.post_data or ""))
    s.press("Backspace")
    s.wait_record(ids[0])
    s.press("2")  # a change on a submitted record waits for Enter; no draft is sent
    time.sleep(1.5)
    assert drafts == []
    assert s.responses()[ids[0]].values == {"label": "a"}


def test_large_record_renders(open_page: OpenPage, tmp_path: Path) -> None:
    proj = Project.init(tmp_path / "p", template="ner", labels=["PER", "LOC"])
    text = ("lorem ipsum 😀 dolor sit amet " * 36_000)[:1_000_000] + " end Paris"
    (rid,) = proj.add_records([{"fields": {"text": text}}]).ids
    s = open_page(proj)
    s.wait_record(rid)
    field = s.page.locator('.text[data-field="text"]')
    assert field.evaluate("e => e.textContent.length") == len(text.encode("utf-16-le")) // 2
    count_nodes = """e => { const w = document.createTreeWalker(e, NodeFilter.SHOW_ALL);
                            let n = 0; while (w.nextNode()) n++; return n; }"""
    assert field.evaluate(count_nodes) < 200  # blocks of text, never a node per character
    # select the last word (the test jumps there; a person would drag or use Shift+arrows)
    s.page.evaluate(
        """() => { const e = document.querySelector('.text[data-field="text"]');
                   const t = e.lastChild.lastChild;
                   getSelection().setBaseAndExtent(t, t.length - 5, t, t.length); }"""
    )
    s.press("2")
    expect(s.page.locator("mark")).to_have_text("Paris")
    assert field.evaluate(count_nodes) < 200
    s.press("Enter")
    s.wait_done()
    (span,) = s.responses()[rid].values["spans"]
    assert text[span["start"] : span["end"]] == "Paris" and span["end"] == len(text)


def test_suggestion_prefill_shows_score_and_agent(open_page: OpenPage, tmp_path: Path) -> None:
    proj, ids = _classification(tmp_path, n=1)
    proj.add_suggestions(
        [
            Suggestion(ids[0], "label", "b", agent="m@1", kind=SuggestionKind.MODEL, score=0.8),
            Suggestion(ids[0], "label", "c", agent="rules@2", kind=SuggestionKind.LF, score=0.3),
        ]
    )
    s = open_page(proj)
    s.wait_record(ids[0])
    first = s.page.locator(".suggestion").first
    expect(first).to_contain_text("m@1")
    expect(first).to_contain_text("0.80")
    expect(s.page.locator(".suggestion").nth(1)).to_contain_text("rules@2")
    expect(s.page.locator('[role=radio][data-value="b"]')).to_have_attribute("aria-checked", "true")
    s.press("Enter")
    s.wait_done()
    assert s.responses()[ids[0]].values == {"label": "b"}


def test_reassigned_keys_work(open_page: OpenPage, make_project: Callable[..., Project]) -> None:
    proj = make_project(
        {"name": "label", "kind": "label", "labels": ["a", "b", "c"]},
        keys={"skip": "x", "submit": "k", "labels": {"a": "q", "c": "1"}},
    )
    ids = proj.add_records([{"fields": {"text": "one"}}, {"fields": {"text": "two"}}]).ids
    s = open_page(proj)
    s.wait_record(ids[0])
    s.press("s", "Enter")  # the old keys do nothing now
    expect(s.page.locator("#error")).to_be_empty()
    checked = s.page.locator('[role=radio][aria-checked="true"]')
    s.press("1")  # now "c"
    expect(checked).to_have_attribute("data-value", "c")
    s.press("2")  # "b" keeps its place
    expect(checked).to_have_attribute("data-value", "b")
    s.press("q", "k")
    s.wait_record(ids[1])
    s.press("?")
    expect(s.page.locator("#help tr", has_text="Skip").locator("kbd")).to_have_text("x")
    expect(s.page.locator("#help tr", has_text="“a”").locator("kbd")).to_have_text("q")
    s.press("Escape", "x")
    s.wait_done()
    got = s.responses()
    assert got[ids[0]].values == {"label": "a"}
    assert str(got[ids[1]].status) == "discarded"


def test_record_view_chat_guidelines_and_progress(
    open_page: OpenPage, make_project: Callable[..., Project]
) -> None:
    proj = make_project(
        {"name": "ok", "kind": "label", "labels": ["yes", "no"]},
        fields=[{"name": "chat", "kind": "chat", "title": "Conversation"}],
    )
    proj.set_guidelines("# Rules\n\nSay **yes** to kind answers. <script>alert(1)</script>")
    proj.set_guidelines("# Rules v2\n\nSay **yes** to kind answers.")
    chat = [
        {"role": "user", "content": "Hi <b>there</b>"},
        {"role": "assistant", "content": "Hello!"},
    ]
    ids = proj.add_records([{"fields": {"chat": chat}}, {"fields": {"chat": chat[:1]}}]).ids
    s = open_page(proj)
    s.wait_record(ids[0])
    messages = s.page.locator(".chat .msg")
    expect(messages).to_have_count(2)
    expect(messages.first).to_contain_text("Hi <b>there</b>")  # text, never HTML
    expect(messages.nth(1)).to_contain_text("assistant")
    expect(s.page.locator("#guideline-version")).to_have_text("v2")
    expect(s.page.locator(".guidelines-body h1")).to_have_text("Rules v2")
    expect(s.page.locator("#progress-text")).to_contain_text("0 / 2 complete")
    s.press("1", "Enter")
    s.wait_record(ids[1])
    expect(s.page.locator("#progress-text")).to_contain_text("1 / 2 complete")
    expect(s.page.locator("#progress-text")).to_contain_text("1 submitted")


def _words(i: int) -> str:
    """A text with no digits in it (so that no record id can hide in it)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return "abstract " + letters[i // 26 % 26] + letters[i % 26] + " about the heart"


def test_annotators_see_their_own_number_never_the_record_id(
    open_page: OpenPage, tmp_path: Path
) -> None:
    """Issue 19: the header said "Record 306"; gold imported in a later batch had ids out of
    sequence. Now it says "#1 in your queue", and no record id reaches the page."""
    proj = Project.init(tmp_path / "p", template="classification", labels=["a", "b", "c"])
    ids = proj.add_records([{"fields": {"text": _words(i)}} for i in range(310)]).ids
    late = ids[305]  # record 306, served first
    with proj.store.write() as tx:
        tx.set_queue_ranks([(late, -1.0)])
    s = open_page(proj)
    s.wait_record(late)
    meta = s.page.locator("#record-meta")
    expect(meta).to_contain_text("#1 in your queue")
    assert str(late) not in s.page.locator("body").inner_text()
    assert f"Record {late}" not in s.page.content()
    s.press("1", "Enter")
    s.wait_record(ids[0])
    expect(meta).to_contain_text("#2 in your queue")
    s.press("Backspace")  # back to the first: its number stays
    s.wait_record(late)
    expect(meta).to_contain_text("#1 in your queue")
    assert str(late) not in s.page.locator("body").inner_text()
