"""Issue 20 item 5 in a real Chromium: the feedback banner shows the annotator's answer, the
final label and the reviewer's comment, and links to a read-only view of the record that
only that annotator can open."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from goldsmith import Project

pytestmark = pytest.mark.browser
Site = Any  # conftest.Site
Serve = Callable[..., Site]

SHOTS = Path("/tmp/shots/layout")
LABELS = ["cardio", "onco", "neuro"]
USERS = {"rita": "reviewer", "alice": "annotator", "bob": "annotator", "carol": "annotator"}
PROBE = "<img src=x onerror=alert(1)>"
TEXT = f"{PROBE} Tumour growth in the left lung."
COMMENT = f"{PROBE} <b>growth</b> is oncology"


def _decided(make_project: Callable[..., Project]) -> tuple[Project, int]:
    """alice (cardio) and bob (onco) disagree; rita sets onco with a comment: alice gets
    feedback, bob does not."""
    proj = make_project(
        {"name": "label", "kind": "label", "labels": LABELS}, overlap=2, show_metadata=["ward"]
    )
    ids = proj.add_records(
        [{"fields": {"text": TEXT}, "metadata": {"ward": "B2", "provenance": "gold"}},
         {"fields": {"text": "Seizures in children."}}]
    ).ids  # fmt: skip
    proj.start_round(size=1, gold_rate=0.0)
    proj.answer("alice", ids[0], {"label": "cardio"})
    proj.answer("bob", ids[0], {"label": "onco"})
    assert proj.close_round()["reviews"] == 1
    (item,) = proj.reviews(status="open")
    proj.decide_review(item["id"], reviewer="rita", action="edit", value="onco", comment=COMMENT)
    return proj, ids[0]


def _watch_dialogs(page: Page) -> list[str]:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return dialogs


def test_the_feedback_link_opens_the_record_read_only(
    serve: Serve, make_project: Callable[..., Project]
) -> None:
    proj, rid = _decided(make_project)
    site = serve(proj, USERS)
    with Project.open(site.root) as p:
        handle = p.record_handle("alice", rid)
    alice = site.login("alice")
    dialogs = _watch_dialogs(alice)
    alice.goto(f"{site.url}/annotate")
    banner = alice.locator("#feedback")
    expect(banner).to_be_visible()
    item = banner.locator(f'li[data-record="{handle}"]')
    expect(item.locator(".feedback-answer")).to_have_text("cardio")
    expect(item.locator(".feedback-final")).to_have_text("onco")
    expect(item.locator(".feedback-message")).to_contain_text(COMMENT)
    expect(banner.locator("img, b")).to_have_count(0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    alice.screenshot(path=str(SHOTS / "test-feedback-banner-1280.png"))
    link = item.locator("a.feedback-record")
    expect(link).to_have_text("Your #1")
    assert link.get_attribute("href") == f"/feedback/{handle}"
    link.click()
    alice.wait_for_url(f"{site.url}/feedback/{handle}")
    page = alice.locator("#feedback-page")
    expect(page).to_have_attribute("aria-busy", "false")
    expect(alice.locator("h1")).to_have_text("Feedback on your #1")
    expect(alice.locator("#record")).to_contain_text(TEXT)
    expect(alice.locator('#metadata [data-key="ward"] dd')).to_have_text("B2")
    expect(alice.locator('#metadata [data-key="provenance"]')).to_have_count(0)
    decision = alice.locator('#decisions [data-question="label"]')
    expect(decision.locator(".feedback-answer")).to_have_text("cardio")
    expect(decision.locator(".feedback-final")).to_have_text("onco")
    expect(decision.locator(".feedback-comment")).to_have_text(COMMENT)
    expect(alice.locator("#feedback-page img, #feedback-page b")).to_have_count(0)
    # read-only: no answer controls, no way to submit from here
    expect(alice.locator("#feedback-page button, #feedback-page input, textarea")).to_have_count(0)
    alice.screenshot(path=str(SHOTS / "test-feedback-page-1280.png"))
    assert dialogs == []
    # opening it marks nothing: the banner is still there until dismissed
    with Project.open(site.root) as p:
        assert [f["record_id"] for f in p.feedback("alice")] == [rid]
        (mine,) = p.responses(user="alice", record_id=rid)
        assert mine.values == {"label": "cardio"}


def test_another_annotator_gets_404(serve: Serve, make_project: Callable[..., Project]) -> None:
    proj, rid = _decided(make_project)
    site = serve(proj, USERS)
    with Project.open(site.root) as p:
        alices = p.record_handle("alice", rid)
        bobs = p.record_handle("bob", rid)
    for who, name in (("bob", alices), ("bob", bobs), ("carol", alices), ("alice", str(rid))):
        page = site.login(who)
        response = page.goto(f"{site.url}/feedback/{name}")
        assert response is not None and response.status == 404, (who, name)
        expect(page.locator(".refused")).to_contain_text("Not found")
        expect(page.locator("#feedback-page, #feedback-data, #task")).to_have_count(0)
        assert "Tumour" not in page.content()
    reviewer = site.login("rita")  # staff have no feedback of their own on it either
    response = reviewer.goto(f"{site.url}/feedback/{rid}")
    assert response is not None and response.status == 404
    bad = reviewer.goto(f"{site.url}/feedback/..%2Fannotate")
    assert bad is not None and bad.status in (404, 422)
