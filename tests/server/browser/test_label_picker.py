"""The label picker in a real Chromium: a 77-label intent task done by keyboard through the
filter, groups and pinned recent labels, 1,000 labels, multi-label and span questions, and the
review page's "set label" control. Each test reads the store afterwards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from goldsmith import Project

pytestmark = pytest.mark.browser
OpenPage = Callable[..., Any]
SHOTS = Path("/tmp/shots/picker")

# the 77 intents of the banking77 data set
# the 77 intent names of the banking77 dataset, one per line (shared with bench/page_speed.py)
BANKING77 = (Path(__file__).with_name("banking77_labels.txt")).read_text(encoding="utf-8").split()
assert len(BANKING77) == 77


def groups_of(labels: list[str]) -> dict[str, list[str]]:
    """Intent groups by keyword (first match wins); the rest stay ungrouped ("Other")."""
    keywords = {
        "Top-ups": ("top_up", "topping"),
        "Transfers": ("transfer",),
        "Cash": ("cash", "atm"),
        "Identity and security": ("verify", "identity", "pin", "passcode", "compromised", "stolen"),
        "Cards": ("card",),
    }
    out: dict[str, list[str]] = {g: [] for g in keywords}
    for lab in labels:
        group = next((g for g, words in keywords.items() if any(w in lab for w in words)), None)
        if group:
            out[group].append(lab)
    return out


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def picker(page: Page, question: str = "intent") -> Any:
    return page.locator(f'.question[data-name="{question}"] .picker')


def test_77_intents_by_keyboard_through_the_filter(
    open_page: OpenPage, make_project: Callable[..., Project]
) -> None:
    proj = make_project({"name": "intent", "kind": "label", "labels": BANKING77})
    texts = [
        "I want to stop the transfer I just made",
        "My phone was stolen and the app is on it",
        "Which currencies can I hold?",
        "The top-up with my card cost a fee",
        "Is the exchange rate fixed?",
        "My card has not arrived yet",
    ]
    ids = proj.add_records([{"fields": {"text": t}} for t in texts]).ids
    s = open_page(proj)
    page = s.page
    page.set_viewport_size({"width": 1366, "height": 850})
    s.wait_record(ids[0])
    box = page.locator(".picker-input")
    expect(box).to_have_attribute("placeholder", "Filter 77 labels")
    shot(page, "77-empty-1366")

    # a letter that is no shortcut starts the filter; the exact prefix match is first
    page.keyboard.type("cancel")
    expect(box).to_be_focused()
    expect(box).to_have_value("cancel")
    visible = picker(page).locator(".option:visible")
    expect(visible).to_have_count(1)
    expect(picker(page).locator(".option.hl")).to_have_attribute("data-value", "cancel_transfer")
    shot(page, "77-filtered-1366")
    s.press("Enter")  # picks the highlighted label, empties the filter and leaves it
    expect(box).not_to_be_focused()
    expect(box).to_have_value("")
    checked = picker(page).locator('[aria-checked="true"]')
    expect(checked).to_have_attribute("data-value", "cancel_transfer")
    s.press("Enter")  # now Enter submits
    s.wait_record(ids[1])

    # words in any order, each the start of a word; "lost" also matches lost_or_stolen_card
    page.keyboard.type("lost phone")
    expect(picker(page).locator(".option.hl")).to_have_attribute(
        "data-value", "lost_or_stolen_phone"
    )
    s.press("Enter", "Enter")
    s.wait_record(ids[2])

    # "s" is the skip key: "/" opens the filter for labels that start with it
    s.press("/")
    expect(box).to_be_focused()
    page.keyboard.type("supported")
    s.press("Enter")
    expect(box).to_have_value("")
    s.press("Enter")
    s.wait_record(ids[3])

    # several matches, best first: ↓ moves the highlight, Esc clears the filter and keeps focus
    page.keyboard.type("top up card")
    hl = picker(page).locator(".option.hl")
    expect(hl).to_have_attribute("data-value", "top_up_by_card_charge")
    s.press("Escape")
    expect(box).to_be_focused()
    expect(box).to_have_value("")
    expect(picker(page).locator(".option:visible")).to_have_count(77 + 3)  # 3 pinned recents
    page.keyboard.type("top up")
    expect(hl).to_have_attribute("data-value", "top_up_by_bank_transfer_charge")
    s.press("ArrowDown")
    expect(hl).to_have_attribute("data-value", "top_up_by_card_charge")
    s.press("Enter")
    expect(picker(page).locator('[aria-checked="true"]').first).to_have_attribute(
        "data-value", "top_up_by_card_charge"
    )
    # Enter in the empty filter box is the page's submit too
    s.press("/", "Enter")
    s.wait_record(ids[4])

    # nothing matches: Enter does not submit
    page.keyboard.type("xyzzy")
    expect(picker(page).locator(".picker-none")).to_contain_text("No label matches")
    s.press("Enter")
    expect(page.locator("#record-meta")).to_have_attribute("data-record", s.name(ids[4]))
    s.press("Escape", "Escape")  # clear, then leave the box
    expect(box).not_to_be_focused()
    # digits still choose the first nine; the pinned recent labels sit on top
    recent = picker(page).locator(".picker-recent .option")
    expect(recent).to_have_count(4)
    expect(recent.first).to_have_attribute("data-value", "top_up_by_card_charge")
    s.press("3")
    expect(checked.last).to_have_attribute("data-value", "apple_pay_or_google_pay")
    page.keyboard.type("exchange rate")
    s.press("Enter", "Enter")
    s.wait_record(ids[5])
    shot(page, "77-recent-1366")

    # without the filter: ↓ moves the highlight, Space picks it
    s.press("ArrowDown", "ArrowDown", "Space")  # from the first pinned label, two down
    picked = picker(page).locator(".picker-group:not(.picker-recent) [aria-checked=true]")
    expect(picked).to_have_count(1)
    first_pick = picked.get_attribute("data-value")
    page.keyboard.type("card arrival")
    s.press("Enter", "Enter")
    s.wait_done()

    got = {rid: r.values["intent"] for rid, r in s.responses().items()}
    assert [got[i] for i in ids] == [
        "cancel_transfer",
        "lost_or_stolen_phone",
        "supported_cards_and_currencies",
        "top_up_by_card_charge",
        "exchange_rate",
        "card_arrival",
    ]
    assert first_pick in BANKING77

    # the help dialog lists the filter keys
    s.press("?")
    expect(page.locator("#help")).to_contain_text("Filter the labels")
    shot(page, "77-help-1366")


def test_groups_headings_arrows_stay_in_a_group_and_screenshots(
    open_page: OpenPage, make_project: Callable[..., Project]
) -> None:
    groups = groups_of(BANKING77)
    proj = make_project(
        {"name": "intent", "kind": "label", "labels": BANKING77, "label_groups": groups}
    )
    ids = proj.add_records([{"fields": {"text": f"message {n}"}} for n in range(3)]).ids
    s = open_page(proj)
    page = s.page
    s.wait_record(ids[0])
    headings = picker(page).locator(".picker-group:not(.picker-recent) .picker-heading")
    # groups in the order of their first label; the ungrouped ones last, as "Other"
    expect(headings).to_have_text(_group_order(groups))
    hl = picker(page).locator(".option.hl")
    first = _first_of_each_group(groups)
    expect(hl).to_have_attribute("data-value", first[0][1])
    s.press("PageDown")
    expect(hl).to_have_attribute("data-value", first[1][1])
    # ↑ from a group's first label wraps to that group's last, never into the next group
    s.press("ArrowUp")
    expect(hl).to_have_attribute("data-value", _group_members(groups, first[1][0])[-1])
    s.press("Space")
    s.press("Enter")
    s.wait_record(ids[1])
    for width, height in ((1366, 850), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        shot(page, f"77-groups-{width}")
        page.keyboard.type("card")
        expect(page.locator(".picker-input")).to_be_focused()
        shot(page, f"77-groups-filtered-{width}")
        s.press("Escape", "Escape")
    page.keyboard.type("card")
    # filtered: one list, best first, across groups; the groups without a match are hidden
    expect(hl).to_have_attribute("data-value", "card_about_to_expire")
    s.press("Enter", "Enter")
    s.wait_record(ids[2])
    s.press("Enter")  # nothing chosen: refused
    expect(page.locator("#error")).to_contain_text("before submitting")
    s.press("Escape")
    page.keyboard.type("pin blocked")
    s.press("Enter", "Enter")
    s.wait_done()
    got = {rid: r.values["intent"] for rid, r in s.responses().items()}
    assert got[ids[0]] == _group_members(groups, first[1][0])[-1]
    assert got[ids[1]] == "card_about_to_expire"
    assert got[ids[2]] == "pin_blocked"


def _group_order(groups: dict[str, list[str]]) -> list[str]:
    grouped = {lab: g for g, labs in groups.items() for lab in labs}
    order: list[str] = []
    for lab in BANKING77:
        g = grouped.get(lab, "Other")
        if g not in order:
            order.append(g)
    return [g for g in order if g != "Other"] + ["Other"]


def _group_members(groups: dict[str, list[str]], name: str) -> list[str]:
    grouped = {lab for labs in groups.values() for lab in labs}
    if name == "Other":
        return [lab for lab in BANKING77 if lab not in grouped]
    return [lab for lab in BANKING77 if lab in groups[name]]


def _first_of_each_group(groups: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(g, _group_members(groups, g)[0]) for g in _group_order(groups)]


def test_a_thousand_labels_filter_without_rebuilding(
    open_page: OpenPage, make_project: Callable[..., Project]
) -> None:
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    labels = [f"{words[n % 8]}_{words[(n // 8) % 8]}_{n:04d}" for n in range(1000)]
    proj = make_project({"name": "intent", "kind": "label", "labels": labels})
    ids = proj.add_records([{"fields": {"text": "one"}}, {"fields": {"text": "two"}}]).ids
    s = open_page(proj)
    page = s.page
    s.wait_record(ids[0])
    options = picker(page).locator(".picker-list > .picker-group:not(.picker-recent) .option")
    expect(options).to_have_count(1000)
    # tag every button: filtering must keep the same nodes (move the matches, never rebuild)
    page.evaluate("document.querySelectorAll('.picker .option').forEach((b) => (b._tag = 1))")
    page.keyboard.type(labels[777].replace("_", " "))
    expect(picker(page).locator(".option:visible")).to_have_count(1)
    expect(picker(page).locator(".option.hl")).to_have_attribute("data-value", labels[777])
    untagged = "[...document.querySelectorAll('.picker .option')].filter((b) => !b._tag).length"
    assert page.evaluate(untagged) == 0
    # one button per label, filtering or not: a label's locator never finds a copy
    assert page.evaluate("document.querySelectorAll('.picker .option').length") == 1000
    # Esc puts every match back in its place: the full list in task order again
    s.press("Escape")
    expect(picker(page).locator(".option:visible")).to_have_count(1000)
    in_order = "[...document.querySelectorAll('.picker .option')].map((b) => b.dataset.value)"
    assert page.evaluate(in_order) == labels
    page.keyboard.type(labels[777].replace("_", " "))
    s.press("Enter", "Enter")
    s.wait_record(ids[1])
    page.keyboard.type("hotel")
    hotel = [lab for lab in labels if "hotel" in lab]
    assert len(hotel) > 100  # only the best 100 show; typing more narrows them
    expect(picker(page).locator(".picker-count")).to_have_text(f"best 100 of {len(hotel)}")
    expect(picker(page).locator(".option:visible")).to_have_count(100)
    s.press("ArrowDown", "Enter", "Enter")
    s.wait_done()
    got = {rid: r.values["intent"] for rid, r in s.responses().items()}
    assert got[ids[0]] == labels[777]
    hotel_first = [lab for lab in labels if lab.startswith("hotel")]
    assert got[ids[1]] == hotel_first[1]  # prefix matches first, in task order; ↓ the second


def test_multilabel_toggles_through_the_filter(
    open_page: OpenPage, make_project: Callable[..., Project]
) -> None:
    labels = BANKING77[:20]
    proj = make_project({"name": "intent", "kind": "multilabel", "labels": labels})
    (rid,) = proj.add_records([{"fields": {"text": "card stuck and charged"}}]).ids
    s = open_page(proj)
    page = s.page
    s.wait_record(rid)
    s.press("/")  # "s" is the skip key
    page.keyboard.type("swallowed")
    s.press("Enter")  # toggles it on
    page.keyboard.type("card payment fee")
    s.press("Enter")
    page.keyboard.type("atm")
    s.press("Enter")
    page.keyboard.type("atm")
    s.press("Enter")  # toggled off again
    checked = picker(page).locator('.picker-group:not(.picker-recent) [aria-checked="true"]')
    expect(checked).to_have_count(2)
    s.press("2")  # digits toggle as before: age_limit
    expect(checked).to_have_count(3)
    s.press("Enter")
    s.wait_done()
    assert s.responses()[rid].values["intent"] == [  # task order
        "age_limit",
        "card_payment_fee_charged",
        "card_swallowed",
    ]


SPAN_TEXT = "Ana 😀 paid Bob at the 🏦 ATM in Paris."


def test_span_questions_apply_labels_through_the_filter(
    open_page: OpenPage, make_project: Callable[..., Project]
) -> None:
    labels = [f"TYPE_{n:02d}" for n in range(10)] + ["PERSON", "ORGANIZATION", "LOCATION"]
    proj = make_project(
        {"name": "ents", "kind": "spans", "labels": labels, "field": "text"},
        {"name": "tags", "kind": "span_multilabel", "labels": labels, "field": "text"},
    )
    (rid,) = proj.add_records([{"fields": {"text": SPAN_TEXT}}]).ids
    s = open_page(proj)
    page = s.page
    s.wait_record(rid)
    # keyboard selection of "Ana", then the filter: the selection survives the trip to the box
    s.press("Control+Shift+ArrowRight")
    page.keyboard.type("pers")
    expect(picker(page, "ents").locator(".option.hl")).to_have_attribute("data-value", "PERSON")
    s.press("Enter")
    expect(page.locator("mark")).to_have_text("Ana")
    # "Paris" through the DOM selection, LOCATION by "/" and the start of the label
    paris = SPAN_TEXT.index("Paris")
    _select_u16(page, paris, paris + 5)
    s.press("/")
    page.keyboard.type("locat")
    s.press("Enter")
    expect(page.locator("mark", has_text="Paris")).to_have_count(1)
    # the multi-label span question: two labels toggled on "Bob" through the filter
    s.press("Tab")
    expect(page.locator(".question.active")).to_have_attribute("data-name", "tags")
    start = SPAN_TEXT.index("Bob")
    _select_u16(page, start, start + 3)
    page.keyboard.type("person")
    s.press("Enter")
    s.press("/")
    page.keyboard.type("org")
    s.press("Enter")  # no selection now: toggles on the span at the caret
    s.press("/", "Enter")  # empty filter: submit
    s.wait_done()
    values = s.responses()[rid].values
    assert values["ents"] == [
        {"start": 0, "end": 3, "label": "PERSON"},
        {"start": paris, "end": paris + 5, "label": "LOCATION"},
    ]
    assert values["tags"] == [
        {"start": start, "end": start + 3, "labels": ["PERSON", "ORGANIZATION"]}
    ]


SELECT = """([a, b]) => {
    const t = document.querySelector('.text[data-field="text"]');
    const at = (u) => {
        const w = document.createTreeWalker(t, NodeFilter.SHOW_TEXT);
        let acc = 0;
        for (let n = w.nextNode(); n; n = w.nextNode()) {
            if (u <= acc + n.length) return [n, u - acc];
            acc += n.length;
        }
    };
    getSelection().setBaseAndExtent(...at(a), ...at(b));
}"""


def _select_u16(page: Page, start: int, end: int) -> None:
    """Select [start, end) (code points) of SPAN_TEXT through the DOM selection."""
    u16 = [len(SPAN_TEXT[:i].encode("utf-16-le")) // 2 for i in (start, end)]
    page.evaluate(SELECT, u16)


def test_review_page_sets_a_label_through_the_filter(
    serve: Callable[..., Any], make_project: Callable[..., Project]
) -> None:
    proj = make_project({"name": "intent", "kind": "label", "labels": BANKING77}, overlap=2)
    ids = proj.add_records([{"fields": {"text": "Where is my refund?"}}]).ids
    proj.start_round(size=1, gold_rate=0.0)
    proj.answer("alice", ids[0], {"intent": "request_refund"})
    proj.answer("bob", ids[0], {"intent": "refund_not_showing_up"})
    assert proj.close_round()["reviews"] == 1
    site = serve(proj, {"rita": "reviewer", "alice": "annotator", "bob": "annotator"})
    page = site.login("rita")
    page.set_viewport_size({"width": 1366, "height": 850})
    page.goto(f"{site.url}/review")
    expect(page.locator("#review")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#labels .picker-input")).to_have_attribute(
        "placeholder", "Filter 77 labels"
    )
    page.keyboard.press("/")  # "r" rejects: "/" opens the filter, where it is text
    page.keyboard.type("refund not")
    shot(page, "review-filtered-1366")
    expect(page.locator("#labels .option.hl")).to_have_attribute(
        "data-value", "refund_not_showing_up"
    )
    page.keyboard.press("Enter")  # picks
    expect(page.locator('#labels [aria-checked="true"]')).to_have_attribute(
        "data-value", "refund_not_showing_up"
    )
    page.keyboard.press("Enter")  # sets
    expect(page.locator("#done")).to_be_visible()
    with Project.open(site.root) as p:
        (decided,) = p.reviews(status=None)
        with p.store.read() as tx:
            (final,) = tx.final_labels_for(ids)
    assert (decided["status"], decided["value"]) == ("edited", "refund_not_showing_up")
    assert final.value == "refund_not_showing_up" and str(final.provenance) == "review"


def test_arrows_space_and_letter_keys_on_short_and_long_lists(
    open_page: OpenPage, make_project: Callable[..., Project]
) -> None:
    short = ["good", "bad", "ugly", "meh", "other"]
    long = [*BANKING77[:11], "zeta"]
    proj = make_project(
        {"name": "q1", "kind": "label", "labels": short},
        {"name": "q2", "kind": "label", "labels": long},
        keys={"labels": {"zeta": "z"}},
    )
    (rid,) = proj.add_records([{"fields": {"text": "one"}}]).ids
    s = open_page(proj)
    page = s.page
    s.wait_record(rid)
    checked = picker(page, "q1").locator('[aria-checked="true"]')
    # a short list: no filter box; Space picks nothing until the arrows show the highlight
    expect(picker(page, "q1").locator(".picker-input")).to_have_count(0)
    s.press("Space")
    expect(checked).to_have_count(0)
    s.press("ArrowDown", "ArrowDown", "ArrowUp", "ArrowRight", "Space")
    expect(checked).to_have_attribute("data-value", "ugly")
    s.press("x")  # a letter on a short list does nothing
    expect(checked).to_have_attribute("data-value", "ugly")
    # a long list: a label's own letter key picks it instead of starting the filter
    s.press("Tab", "z")
    expect(picker(page, "q2").locator('[aria-checked="true"]')).to_have_attribute(
        "data-value", "zeta"
    )
    expect(picker(page, "q2").locator(".picker-input")).not_to_be_focused()
    s.press("Enter")
    s.wait_done()
    assert s.responses()[rid].values == {"q1": "ugly", "q2": "zeta"}
