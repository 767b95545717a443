"""Mask numbering, hash stability, fake surrogates, the offset map and the Redactor hook."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldsmith.errors import ConfigError
from goldsmith.pii import Mode, PiiKind, PiiSpan, Redactor, detect, map_spans, redact
from goldsmith.pii.checks import digits, iban_ok, luhn_ok

TEXT = "a@x.org wrote to b@y.org; a@x.org again. Card 4111 1111 1111 1111, SSN 123-45-6789."


def test_mask_numbers_consistently_within_a_record() -> None:
    out = redact(TEXT, detect(TEXT))
    assert out.text.startswith("[EMAIL_1] wrote to [EMAIL_2]; [EMAIL_1] again.")
    assert "[CREDIT_CARD_1]" in out.text and "[SSN_1]" in out.text
    assert out.mapping["[EMAIL_2]"] == "b@y.org"


def test_hash_is_stable_under_the_salt_and_changes_with_it() -> None:
    one = redact(TEXT, detect(TEXT), mode="hash", salt="s1").text
    assert one == redact(TEXT, detect(TEXT), mode="hash", salt="s1").text
    assert one != redact(TEXT, detect(TEXT), mode="hash", salt="s2").text
    tags = re.findall(r"\[EMAIL_[0-9a-f]{10}\]", one)
    assert len(tags) == 3 and tags[0] == tags[2] != tags[1]
    with pytest.raises(ConfigError, match="needs a secret salt"):
        redact(TEXT, [], mode="hash")


def test_fake_is_consistent_and_of_the_right_format() -> None:
    text = (
        "a@x.org, a@x.org, card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, "
        "SSN 123-45-6789, host 10.1.2.3, DOB: 03/14/1962"
    )
    out = redact(text, detect(text), mode="fake", salt="k")
    assert out.text == redact(text, detect(text), mode="fake", salt="k").text
    found = {s.kind: s.text for s in detect(out.text)}
    emails = re.findall(r"[\w.]+@example\.(?:com|org|net)", out.text)
    assert len(emails) == 2 and emails[0] == emails[1]
    card = found[PiiKind.CREDIT_CARD]
    assert luhn_ok(digits(card)) and re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", card)
    assert card != "4111 1111 1111 1111"
    assert iban_ok(found[PiiKind.IBAN].replace(" ", "")) and found[PiiKind.IBAN][:2] == "DE"
    assert re.fullmatch(r"\d{3}-\d{2}-\d{4}", found[PiiKind.SSN])
    assert re.search(r"host (192\.0\.2|198\.51\.100|203\.0\.113)\.\d+", out.text)
    assert re.search(r"DOB: \d\d/\d\d/\d{4}", out.text)
    for original in ("a@x.org", "4111 1111 1111 1111", "123-45-6789", "10.1.2.3", "1962"):
        assert original not in out.text


def test_map_spans_widens_spans_that_touch_pii_and_maps_back() -> None:
    text = "Call Dr. Emily Carter at +1 415-555-0132 today."
    out = redact(text, detect(text))
    assert out.text == "Call Dr. [PERSON_1] at [PHONE_1] today."
    spans = [
        {"start": 0, "end": 4, "label": "V"},  # "Call"
        {"start": 15, "end": 21, "label": "N"},  # "Carter": inside PII -> the whole tag
        {"start": 5, "end": 14, "label": "X"},  # "Dr. Emily": straddles -> widened
    ]
    mapped = map_spans(spans, out.offset_map)
    got = [out.text[s["start"] : s["end"]] for s in mapped]
    assert got == ["Call", "[PERSON_1]", "Dr. [PERSON_1]"]
    back = map_spans(mapped, out.offset_map, to="original")
    assert [text[s["start"] : s["end"]] for s in back] == [
        "Call",
        "Emily Carter",
        "Dr. Emily Carter",
    ]


FILLER = st.text(alphabet="abc xyz,.\n", min_size=0, max_size=20)
PII = st.sampled_from(["a@x.org", "123-45-6789", "4111 1111 1111 1111", "+1 415-555-0132"])


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(st.tuples(FILLER, PII), min_size=0, max_size=5),
    tail=FILLER,
    data=st.data(),
    mode=st.sampled_from(["mask", "hash", "fake"]),
)
def test_redaction_keeps_spans_aligned(
    parts: list[tuple[str, str]], tail: str, data: st.DataObject, mode: str
) -> None:
    text, pii = "", []
    for filler, value in parts:
        text += filler + " "
        pii.append(PiiSpan(len(text), len(text) + len(value), PiiKind.EMAIL, value))
        text += value + " "
    text += tail
    n = len(text)
    raw = data.draw(st.lists(st.tuples(st.integers(0, n), st.integers(0, n)), max_size=8))
    spans: list[dict[str, Any]] = [
        {"start": min(a, b), "end": max(a, b), "label": "L"} for a, b in raw if a != b
    ]
    out = redact(text, pii, mode=mode, salt="k")  # type: ignore[arg-type]
    mapped = map_spans(spans, out.offset_map)
    for orig, new in zip(spans, mapped, strict=True):
        touching = [p for p in pii if p.start < orig["end"] and orig["start"] < p.end]
        piece = out.text[new["start"] : new["end"]]
        if not touching:
            assert piece == text[orig["start"] : orig["end"]]
            back = map_spans([new], out.offset_map, to="original")[0]
            assert (back["start"], back["end"]) == (orig["start"], orig["end"])
        else:
            lo: int = min(orig["start"], touching[0].start)
            hi: int = max(orig["end"], touching[-1].end)
            # widened to whole replacements; the text around them is kept
            assert piece.startswith(text[lo : touching[0].start])
            assert piece.endswith(text[touching[-1].end : hi])
            for p in touching:
                assert p.text not in piece


def test_a_planted_prompt_through_the_redactor_has_no_pii() -> None:
    planted = [
        "jane.doe@hospital.org", "+44 20 7946 0958", "123-45-6789", "5500 0000 0000 0004",
        "GB82 WEST 1234 5698 7654 32", "03/14/1962", "00482913", "https://jane.example.org/cv",
        "192.168.10.7", "742 Evergreen Terrace, Springfield, IL 62704", "Jane Doe",
    ]  # fmt: skip
    prompt = (
        f"## text\nPatient Jane Doe (DOB: {planted[5]}, MRN: {planted[6]}) lives at {planted[9]}. "
        f"Reach her at {planted[0]} or {planted[1]}; SSN {planted[2]}, card {planted[3]}, "
        f"IBAN {planted[4]}, homepage {planted[7]}, last login from {planted[8]}."
    )
    modes: tuple[Mode, ...] = ("mask", "hash", "fake")
    for mode in modes:
        redactor = Redactor(mode, salt="secret")
        sent = redactor(prompt)
        for value in planted:
            assert value not in sent, (mode, value)
        assert "Doe" not in sent


def test_redactor_kinds_and_scan_report_masks_examples() -> None:
    only_email = Redactor(kinds=["EMAIL"])
    assert only_email("a@x.org +1 415-555-0132") == "[EMAIL_1] +1 415-555-0132"
    report = Redactor().scan(["nothing here", "mail a@x.org, SSN 123-45-6789", "a@x.org"])
    assert (report.n_texts, report.n_with_pii) == (3, 2)
    assert report.counts == {"EMAIL": 2, "SSN": 1}
    assert "a@x.org" not in report.to_text() and "123-45-6789" not in report.to_text()
    assert "[EMAIL_1]" in report.examples["EMAIL"][0]
