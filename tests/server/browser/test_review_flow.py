"""The reviewer's pages in a real Chromium: the review queue driven by keys, the feedback the
wrong annotator sees on the annotate page, the QA page, and annotators kept out of both."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from goldsmith import Project

pytestmark = pytest.mark.browser
Site = Any  # conftest.Site: a live server that users log in to
Serve = Callable[..., Site]

LABELS = ["cardio", "onco", "neuro"]
USERS = {"olive": "owner", "rita": "reviewer", "alice": "annotator", "bob": "annotator"}
TRICKY = "<img src=x onerror=alert(1)> Tumour growth in the left lung."
COMMENT = "<b>Tumour growth</b> is oncology"


def _reviewed_project(make_project: Callable[..., Project]) -> tuple[Project, list[int]]:
    """A closed round where alice (cardio) and bob (onco) tie on the first record, which is
    queued for review, plus a lower-priority suspected label error on the second."""
    proj = make_project({"name": "label", "kind": "label", "labels": LABELS}, overlap=2)
    texts = [TRICKY, "Beta blockers after infarction.", "Seizures in children."]
    ids = proj.add_records([{"fields": {"text": t}} for t in texts]).ids
    proj.start_round(size=len(ids), gold_rate=0.0)
    proj.answer("alice", ids[0], {"label": "cardio"})
    proj.answer("bob", ids[0], {"label": "onco"})
    for rid in ids[1:]:
        for user in ("alice", "bob"):
            proj.answer(user, rid, {"label": "neuro"})
    assert proj.close_round()["reviews"] == 1
    issue = {"given": "neuro", "proposed": "cardio", "quality": 0.12}
    with proj.store.write() as tx:  # as `label_issues` queues it
        tx.add_reviews(
            [{"record_id": ids[1], "question": "label", "kind": "issue", "priority": 0.3,
              "detail": issue}]
        )  # fmt: skip
    return proj, ids


def _open_review(site: Site) -> Page:
    page = site.login("rita")
    page.click("nav a[href='/review']")
    expect(page.locator("#review")).to_have_attribute("aria-busy", "false")
    return page


def test_reviewer_sets_a_label_and_the_wrong_annotator_sees_why(
    serve: Serve, make_project: Callable[..., Project]
) -> None:
    proj, ids = _reviewed_project(make_project)
    site = serve(proj, USERS)
    page = _open_review(site)
    meta, kind = page.locator("#review-meta"), page.locator("#kind")
    # highest priority first: the tie, with the record as text and both answers
    expect(meta).to_contain_text(f"Record {ids[0]}")
    expect(kind).to_have_text("disagreement")
    expect(page.locator("#proposal")).to_contain_text("No consensus")
    expect(page.locator("#record")).to_contain_text(TRICKY)
    expect(page.locator("#record img")).to_have_count(0)
    expect(page.locator("#question-title")).to_have_text("label")
    expect(page.locator('#answers [data-annotator="alice"]')).to_contain_text("cardio")
    expect(page.locator('#answers [data-annotator="bob"]')).to_contain_text("onco")
    # "later" cycles through the queue and leaves items open
    page.keyboard.press("s")
    expect(meta).to_contain_text(f"Record {ids[1]}")
    page.keyboard.press("s")
    expect(meta).to_contain_text(f"Record {ids[0]}")
    # nothing proposed: accept is refused in the page; Enter needs a label first
    expect(page.locator("#accept-button")).to_be_disabled()
    page.keyboard.press("a")
    expect(page.locator("#error")).to_contain_text("nothing is proposed")
    page.keyboard.press("Enter")
    expect(page.locator("#error")).to_contain_text("pick a label first")
    page.keyboard.press("2")
    expect(page.locator('#labels [data-value="onco"]')).to_have_attribute("aria-checked", "true")
    page.keyboard.press("c")
    expect(page.locator("#comment")).to_be_focused()
    page.keyboard.type(COMMENT)  # letters in the box type text, they are not actions
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    # the next item: the suspected error, with a clean slate
    expect(meta).to_contain_text(f"Record {ids[1]}")
    expect(kind).to_have_text("suspected label error")
    expect(page.locator("#proposal")).to_contain_text("Suggested label: cardio")
    expect(page.locator("#proposal")).to_contain_text("Current label: neuro")
    expect(page.locator("#comment")).to_have_value("")
    expect(page.locator("#error")).to_be_empty()
    expect(page.locator("#labels [aria-checked=true]")).to_have_count(0)
    page.keyboard.press("r")
    expect(page.locator("#done")).to_be_visible()

    with Project.open(site.root) as p:
        decided = {r["record_id"]: r for r in p.reviews(status=None)}
        with p.store.read() as tx:
            finals = {f.record_id: f for f in tx.final_labels_for(ids)}
    first = decided[ids[0]]
    assert (first["status"], first["value"], first["reviewer"]) == ("edited", "onco", "rita")
    assert first["comment"] == COMMENT
    assert decided[ids[1]]["status"] == "rejected"
    assert finals[ids[0]].value == "onco" and str(finals[ids[0]].provenance) == "review"
    assert finals[ids[1]].value == "neuro" and str(finals[ids[1]].provenance) != "review"

    # bob answered onco: no feedback for him
    bob = site.login("bob")
    bob.goto(f"{site.url}/annotate")
    expect(bob.locator("#feedback")).to_have_attribute("data-state", "loaded")
    expect(bob.locator("#feedback")).to_be_hidden()

    # alice answered cardio: she sees the comment with the record, as text
    alice = site.login("alice")
    alice.goto(f"{site.url}/annotate")
    banner = alice.locator("#feedback")
    expect(banner).to_be_visible()
    with Project.open(site.root) as p:  # she knows the record by her own handle and number
        handle = p.record_handle("alice", ids[0])
    item = banner.locator(f'li[data-record="{handle}"]')
    expect(item).to_contain_text("Your #1")
    expect(item).to_contain_text(COMMENT)
    expect(banner.locator("b")).to_have_count(0)
    alice.keyboard.press("Escape")
    expect(banner).to_be_hidden()
    expect(banner).to_have_attribute("data-state", "seen")
    alice.reload()
    expect(alice.locator("#feedback")).to_have_attribute("data-state", "loaded")
    expect(alice.locator("#feedback")).to_be_hidden()
    with Project.open(site.root) as p:
        assert p.feedback("alice") == [] and p.feedback("bob") == []


def test_annotators_are_refused_the_reviewer_pages(
    serve: Serve, make_project: Callable[..., Project]
) -> None:
    proj, _ = _reviewed_project(make_project)
    site = serve(proj, USERS)
    page = site.login("alice")
    expect(page.locator("nav")).to_contain_text("Annotate")
    expect(page.locator("nav a[href='/review'], nav a[href='/qa']")).to_have_count(0)
    for path in ("/review", "/qa"):
        response = page.goto(f"{site.url}{path}")
        assert response is not None and response.status == 403
        expect(page.locator(".refused")).to_contain_text("Not allowed")
        expect(page.locator("#review, #qa, #task")).to_have_count(0)
    figure = page.request.get(f"{site.url}/qa/figures/annotators.png")
    assert figure.status == 403 and figure.json()["error"]["code"] == "forbidden"
    assert "image" not in figure.headers["content-type"]


def _loaded_images(page: Page) -> list[dict[str, Any]]:
    page.wait_for_function(
        "[...document.querySelectorAll('.qa-figure img')].every((i) => i.complete)"
    )
    images: list[dict[str, Any]] = page.eval_on_selector_all(
        ".qa-figure img",
        "(imgs) => imgs.map((i) => ({src: i.getAttribute('src'), w: i.naturalWidth}))",
    )
    return images


def test_qa_page_shows_the_figures_and_resumes_a_paused_annotator(
    serve: Serve, make_project: Callable[..., Project]
) -> None:
    proj, _ = _reviewed_project(make_project)
    site = serve(proj, USERS)
    with Project.open(site.root) as p:
        p.set_paused("alice", True)
    page = site.login("olive")
    response = page.goto(f"{site.url}/qa")
    assert response is not None and response.status == 200
    assert "img-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("h1")).to_contain_text("round 1")
    images = _loaded_images(page)
    srcs = {i["src"] for i in images}
    assert {"/qa/figures/agreement.png", "/qa/figures/annotators.png"} <= srcs
    assert all(i["w"] > 0 for i in images), images  # every figure decoded as an image
    png = page.request.get(f"{site.url}/qa/figures/annotators.png")
    assert png.status == 200 and png.headers["content-type"] == "image/png"
    assert png.body().startswith(b"\x89PNG\r\n\x1a\n")
    assert page.request.get(f"{site.url}/qa/figures/nothing.png").status == 404

    alice = page.locator('#annotators tr[data-name="alice"]')
    bob = page.locator('#annotators tr[data-name="bob"]')
    expect(alice.locator(".state")).to_have_text("paused")
    expect(bob.locator(".state")).to_have_text("active")
    expect(bob.locator("button.resume")).to_have_count(0)
    alice.locator("button.resume").click()
    expect(alice.locator(".state")).to_have_text("active")
    expect(alice.locator("button.resume")).to_have_count(0)
    expect(page.locator("#error")).to_be_empty()
    with Project.open(site.root) as p, p.store.read() as tx:
        assert not tx.is_paused("alice")
    page.reload()  # the closed round's report is frozen; the page shows who is paused now
    expect(page.locator('#annotators tr[data-name="alice"] .state')).to_have_text("active")


SHOTS = Path(os.environ.get("GOLDSMITH_TEST_SHOTS", "/tmp/goldsmith-shots"))


def _doubtful_project(make_project: Callable[..., Project]) -> tuple[Project, list[int]]:
    """Two review items no single key may settle: a label no annotator chose (alice cardio,
    bob onco, Dawid-Skene neuro) and a tie on a record nobody answered (as rounds closed
    before issue 19 queued them)."""
    proj = make_project({"name": "label", "kind": "label", "labels": LABELS}, overlap=2)
    ids = proj.add_records([{"fields": {"text": t}} for t in ("Chest pain.", "Headache.")]).ids
    proj.answer("alice", ids[0], {"label": "cardio"})
    proj.answer("bob", ids[0], {"label": "onco"})
    model = {"answers": {"alice": "cardio", "bob": "onco"}, "proposed": "neuro",
             "model_proposed": True}  # fmt: skip
    with proj.store.write() as tx:
        tx.add_reviews(
            [
                {"record_id": ids[0], "question": "label", "kind": "disagreement",
                 "priority": 0.9, "detail": model},
                {"record_id": ids[1], "question": "label", "kind": "disagreement",
                 "priority": 0.5, "detail": {"answers": {}, "proposed": None}},
            ]
        )  # fmt: skip
    return proj, ids


def _state(root: Path, ids: list[int]) -> tuple[dict[int, str], dict[int, Any]]:
    with Project.open(root) as p:
        items = {r["record_id"]: r["status"] for r in p.reviews(status=None)}
        with p.store.read() as tx:
            finals = {r: tx.final_label(r, "label") for r in ids}
    return items, {r: (None if f is None else f.value) for r, f in finals.items()}


def test_no_single_key_settles_a_model_proposal_or_an_unanswered_record_and_ctrl_z_undoes(
    serve: Serve, make_project: Callable[..., Project]
) -> None:
    proj, ids = _doubtful_project(make_project)
    untouched = ({ids[0]: "open", ids[1]: "open"}, {ids[0]: None, ids[1]: None})
    site = serve(proj, USERS)
    page = _open_review(site)
    meta, proposal = page.locator("#review-meta"), page.locator("#proposal")
    expect(meta).to_contain_text(f"Record {ids[0]}")
    expect(page.locator("#model-badge")).to_be_visible()
    expect(proposal).to_contain_text("Model-proposed: neuro")
    expect(proposal).to_contain_text("No annotator chose it")
    page.set_viewport_size({"width": 1280, "height": 900})
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "review-model-proposed-1280.png"), full_page=True)
    # a picks the proposal; nothing is decided until Enter
    page.keyboard.press("a")
    expect(page.locator('#labels [data-value="neuro"]')).to_have_attribute("aria-checked", "true")
    expect(page.locator("#note")).to_contain_text("no annotator chose it")
    assert _state(site.root, ids) == untouched
    page.keyboard.press("Enter")
    # the record nobody answered: 1 + Enter is not enough
    expect(meta).to_contain_text(f"Record {ids[1]}")
    expect(proposal).to_contain_text("Nobody answered this record")
    expect(page.locator("#answers")).to_contain_text("No annotator answers recorded")
    expect(page.locator("#model-badge")).to_be_hidden()
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    expect(page.locator("#error")).to_contain_text("nobody answered this record")
    items, finals = _state(site.root, ids)
    assert items == {ids[0]: "accepted", ids[1]: "open"}
    assert finals == {ids[0]: "neuro", ids[1]: None}
    page.keyboard.press("Enter")  # the second Enter says "yes, this label, knowingly"
    expect(page.locator("#done")).to_be_visible()
    assert _state(site.root, ids) == (
        {ids[0]: "accepted", ids[1]: "edited"},
        {ids[0]: "neuro", ids[1]: "cardio"},
    )
    # Ctrl+Z: the latest decision first, its item back on screen with its history
    page.keyboard.press("Control+z")
    expect(meta).to_contain_text(f"Record {ids[1]}")
    history = page.locator("#history-list li")
    expect(history).to_have_count(2)
    expect(history.nth(0)).to_contain_text("rita set: none → cardio (review)")
    expect(history.nth(1)).to_contain_text("rita undid: cardio (review) → none")
    page.keyboard.press("Control+z")
    expect(meta).to_contain_text(f"Record {ids[0]}")
    expect(page.locator("#history-list li").first).to_contain_text("rita accepted")
    expect(page.locator("#model-badge")).to_be_visible()
    assert _state(site.root, ids) == untouched
    page.screenshot(path=str(SHOTS / "review-history-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "review-history-390.png"), full_page=True)
    with Project.open(site.root) as p:
        assert p.feedback("alice") == [] and p.feedback("bob") == []  # withdrawn
