"""The records browser in a real Chromium (issue 20, item 4): an owner searches, filters,
reads a record's history, sends chosen records to review and exports a filter, each checked
in the store afterwards; a reviewer reads only; an annotator never sees it. Screenshots at
1366x850 and 390x844 go to $GOLDSMITH_TEST_SHOTS (default /tmp/goldsmith-shots)."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from goldsmith import Project
from goldsmith.schema import FinalLabel, Provenance, Suggestion, SuggestionKind

pytestmark = pytest.mark.browser
Site = Any  # conftest.Site
Serve = Callable[..., Site]
SHOTS = Path(os.environ.get("GOLDSMITH_TEST_SHOTS", "/tmp/goldsmith-shots"))
LABELS = ["cardio", "onco", "neuro"]
USERS = {"olive": "owner", "rita": "reviewer", "alice": "annotator", "bob": "annotator"}
TRICKY = "<img src=x onerror=alert(1)> Tumour growth in the left lung."
TEXTS = [
    "Chest pain after exercise, relieved by rest.",
    TRICKY,
    "Seizures in children with fever.",
    "Beta blockers after infarction.",
    "Glioma imaging with MRI.",
    "Lung nodules on a routine scan.",
    "Atrial fibrillation and stroke risk.",
    "Migraine with aura in adults.",
]


def _project(make_project: Callable[..., Project]) -> tuple[Project, list[int]]:
    proj = make_project({"name": "label", "kind": "label", "labels": LABELS}, overlap=2)
    channels = ["email", "web", "phone", "email", "web", "email", "phone", "web"]
    ids = proj.add_records(
        [
            {"fields": {"text": t}, "metadata": {"channel": c}}
            for t, c in zip(TEXTS, channels, strict=True)
        ]
    ).ids
    proj.answer("alice", ids[1], {"label": "onco"})
    proj.answer("bob", ids[1], {"label": "cardio"})  # a disagreement
    proj.answer("alice", ids[2], {"label": "neuro"})
    with proj.store.write() as tx:
        tx.set_final_labels(
            [
                FinalLabel(ids[0], "label", "cardio", Provenance.GOLD),
                FinalLabel(ids[3], "label", "cardio", Provenance.CONSENSUS, 0.7),
                FinalLabel(ids[6], "label", "cardio", Provenance.HUMAN, 0.9),
                FinalLabel(ids[4], "label", "neuro", Provenance.HUMAN, 0.8),
            ]
        )
    proj.add_suggestions(
        [
            Suggestion(ids[1], "label", "onco", "model:m", SuggestionKind.MODEL, 0.62),
            Suggestion(ids[5], "label", "onco", "llm:x", SuggestionKind.LLM, 0.35),
        ]
    )
    return proj, ids


def _open_records(site: Site, user: str) -> Page:
    page = site.login(user)
    page.set_viewport_size({"width": 1366, "height": 850})
    page.click("nav a[href='/records']")
    _idle(page)
    return page


def _idle(page: Page) -> None:
    expect(page.locator("#records")).to_have_attribute("aria-busy", "false")


def _row_ids(page: Page) -> list[int]:
    return [
        int(x) for x in page.locator("#rows tr").evaluate_all("rs => rs.map(r => r.dataset.id)")
    ]


def _shot(page: Page, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=full_page)


def test_an_owner_searches_filters_reads_history_acts_and_exports(
    serve: Serve, make_project: Callable[..., Project]
) -> None:
    proj, ids = _project(make_project)
    root = proj.root
    site = serve(proj, USERS)
    page = _open_records(site, "olive")
    expect(page.locator("#count")).to_have_text("8 records")
    assert _row_ids(page) == ids
    # the text of a record is text, never markup
    expect(page.locator("#rows img")).to_have_count(0)
    expect(page.locator(f"#rows tr[data-id='{ids[1]}'] .rb-text")).to_contain_text("<img src=x")

    # search, by the keyboard: / focuses the box
    page.keyboard.press("/")
    page.keyboard.type("LUNG")
    page.keyboard.press("Enter")
    _idle(page)
    assert _row_ids(page) == [ids[1], ids[5]]
    expect(page.locator("#count")).to_have_text("2 records")
    assert "q=LUNG" in page.url

    # filters: final label cardio, provenance human or consensus, metadata channel
    page.fill("#q", "")
    page.locator("#filters summary").click()
    page.select_option("#f-status", "labeled")
    page.fill("#f-label", "cardio")
    page.check("#f-provenance input[value='consensus']")
    page.check("#f-provenance input[value='human']")
    page.click("#filter-form button[type=submit]")
    _idle(page)
    assert _row_ids(page) == [ids[3], ids[6]]
    expect(page.locator("#filter-count")).to_have_text("3")
    page.fill("#f-meta", "channel:phone")
    page.click("#filter-form button[type=submit]")
    _idle(page)
    assert _row_ids(page) == [ids[6]]
    # sort by the label's confidence, from the column header
    page.click("#clear-filters")
    _idle(page)
    page.click("#table th[data-sorts='-confidence,confidence'] button")
    _idle(page)
    assert _row_ids(page) == [ids[0], ids[6], ids[4], ids[3]]

    # a record's history: the disagreement, opened by keys
    page.click("#clear-filters")
    page.select_option("#f-disagreement", "true")
    page.click("#filter-form button[type=submit]")
    _idle(page)
    assert _row_ids(page) == [ids[1]]
    page.locator("#rows tr").first.click()
    detail = page.locator("#detail")
    expect(detail).to_be_visible()
    expect(page.locator("#detail-title")).to_have_text(f"Record #{ids[1]}")
    expect(detail.locator("[data-field=text]")).to_have_text(TRICKY)
    expect(detail.locator("img")).to_have_count(0)
    expect(detail.locator("tr[data-annotator=alice]")).to_contain_text("onco")
    expect(detail.locator("tr[data-annotator=bob]")).to_contain_text("cardio")
    expect(detail).to_contain_text("model:m (model)")
    history = detail.locator("#history li")
    expect(history.first).to_contain_text("added")
    expect(detail.locator("#history li[data-event=answered]")).to_have_count(2)
    expect(detail.locator("#history li[data-event=suggested]")).to_contain_text("0.62")
    _shot(page, "records-detail-1366.png")
    page.keyboard.press("Escape")
    expect(detail).to_be_hidden()

    # bulk: choose two records by checkbox and by key, send them to review
    page.click("#clear-filters")
    _idle(page)
    page.check(f"#rows tr[data-id='{ids[2]}'] input[type=checkbox]")
    page.locator(f"#rows tr[data-id='{ids[7]}']").click()
    page.keyboard.press("Escape")
    page.keyboard.press("x")
    expect(page.locator("#selected-count")).to_have_text("2 records selected")
    _shot(page, "records-list-1366.png")
    page.click("#bulk [data-action=review]")
    expect(page.locator("#note")).to_contain_text("2 records sent to review")
    _idle(page)
    expect(page.locator("#bulk")).to_be_hidden()
    expect(page.locator(f"#rows tr[data-id='{ids[2]}'] .rb-flags")).to_contain_text(
        "review: manual"
    )
    with Project.open(root) as p:
        manual = {i["record_id"]: i for i in p.reviews(limit=50) if i["kind"] == "manual"}
    assert sorted(manual) == [ids[2], ids[7]]
    assert manual[ids[2]]["detail"]["answers"] == {"alice": "neuro"}
    # and gold, from the open record's own buttons
    page.locator(f"#rows tr[data-id='{ids[3]}']").click()
    expect(page.locator("#detail-title")).to_have_text(f"Record #{ids[3]}")
    page.click("#detail-actions [data-one=gold]")
    expect(page.locator("#note")).to_contain_text("1 record made gold")
    expect(page.locator("#detail tr[data-question=label]")).to_contain_text("gold")
    expect(page.locator("#detail #history li[data-event=gold]")).to_contain_text("olive")
    with Project.open(root) as p, p.store.read() as tx:
        assert tx.final_label(ids[3], "label").provenance == Provenance.GOLD  # type: ignore[union-attr]
    page.keyboard.press("Escape")

    # export the filter: label cardio, in the background, with progress, then the files
    page.fill("#f-label", "cardio")
    page.click("#filter-form button[type=submit]")
    _idle(page)
    assert _row_ids(page) == [ids[0], ids[3], ids[6]]
    expect(page.locator("#export-title")).to_have_text("Export the 3 matching records")
    page.select_option("#x-format", "csv")
    page.fill("#x-name", "cardio-set")
    page.click("#export-button")
    expect(page.locator("#job-stage")).to_contain_text("Done: 3 records (train 3)", timeout=30_000)
    expect(page.locator("#job-files a")).to_have_count(2)
    with page.expect_download() as got:
        page.click("#job-files a[download='train.csv']")
    assert Path(got.value.path()).read_text(encoding="utf-8").count("\n") == 4
    with (root / "exports" / "cardio-set" / "train.csv").open(encoding="utf-8") as f:
        exported = sorted(int(r["id"]) for r in csv.DictReader(f))
    assert exported == [ids[0], ids[3], ids[6]]
    _shot(page, "records-export-1366.png")

    # a phone: one column of cards, no sideways scroll, the record over the list
    page.set_viewport_size({"width": 390, "height": 844})
    page.click("#clear-filters")
    _idle(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "records-list-390.png")
    page.locator(f"#rows tr[data-id='{ids[1]}']").click()
    expect(page.locator("#detail")).to_be_visible()
    expect(page.locator("#close-detail")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "records-detail-390.png", full_page=False)  # what the phone shows
    page.click("#close-detail")
    expect(page.locator("#detail")).to_be_hidden()


def test_a_reviewer_reads_and_an_annotator_never_sees_it(
    serve: Serve, make_project: Callable[..., Project]
) -> None:
    proj, ids = _project(make_project)
    site = serve(proj, USERS)
    page = _open_records(site, "rita")
    assert _row_ids(page) == ids
    expect(page.locator("#export")).to_be_hidden()
    page.locator(f"#rows tr[data-id='{ids[1]}']").click()
    expect(page.locator("#detail tr[data-annotator=alice]")).to_contain_text("onco")
    expect(page.locator("#detail-actions")).to_be_hidden()
    page.keyboard.press("Escape")
    page.locator(f"#rows tr[data-id='{ids[2]}'] input[type=checkbox]").check()
    expect(page.locator("#bulk")).to_be_hidden()

    annotator = site.login("alice")
    expect(annotator.locator("nav a[href='/records']")).to_have_count(0)
    response = annotator.goto(f"{site.url}/records")
    assert response is not None and response.status == 403
    expect(annotator.locator(".refused")).to_contain_text("for owners and reviewers")
