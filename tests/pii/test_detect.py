"""Each detector finds what it should and not what it must not."""

from __future__ import annotations

import pytest

from goldsmith.errors import SchemaError
from goldsmith.pii import PiiKind, detect


def kinds_found(text: str) -> dict[str, PiiKind]:
    return {s.text: s.kind for s in detect(text)}


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("mail ann.lee+x@mail.example.co.uk.", "ann.lee+x@mail.example.co.uk", PiiKind.EMAIL),
        ("see https://foo.org/a?b=1).", "https://foo.org/a?b=1", PiiKind.URL),
        ("call +1 415-555-0132 now", "+1 415-555-0132", PiiKind.PHONE),
        ("call (415) 555-0132", "(415) 555-0132", PiiKind.PHONE),
        ("ring +44 20 7946 0958", "+44 20 7946 0958", PiiKind.PHONE),
        ("Tel: 06 12 34 56 78", "06 12 34 56 78", PiiKind.PHONE),
        ("SSN 123-45-6789", "123-45-6789", PiiKind.SSN),
        ("SSN: 123456789", "123456789", PiiKind.SSN),
        ("NI AB 12 34 56 C", "AB 12 34 56 C", PiiKind.NATIONAL_ID),
        ("card 4111-1111-1111-1111", "4111-1111-1111-1111", PiiKind.CREDIT_CARD),
        ("card 378282246310005", "378282246310005", PiiKind.CREDIT_CARD),
        ("IBAN GB82 WEST 1234 5698 7654 32 paid", "GB82 WEST 1234 5698 7654 32", PiiKind.IBAN),
        ("DOB: 03/14/1962", "03/14/1962", PiiKind.DATE_OF_BIRTH),
        ("born on March 3, 1970 in", "March 3, 1970", PiiKind.DATE_OF_BIRTH),
        ("MRN: 00482913", "00482913", PiiKind.MRN),
        ("patient ID AB-123456", "AB-123456", PiiKind.MRN),
        ("host 10.0.0.254 down", "10.0.0.254", PiiKind.IP),
        ("at fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a", PiiKind.IP),
        ("at 221B Baker Street, London NW1 6XE.", "221B Baker Street, London NW1 6XE",
         PiiKind.POSTAL_ADDRESS),
        ("seen by Dr. Emily Carter today", "Emily Carter", PiiKind.PERSON),
        ("Patient Marta Kowalska was", "Marta Kowalska", PiiKind.PERSON),
        ("and John Smith said", "John Smith", PiiKind.PERSON),
    ],
)  # fmt: skip
def test_detects(text: str, value: str, kind: PiiKind) -> None:
    assert kinds_found(text).get(value) == kind


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112",  # Luhn-invalid
        "IBAN GB83 WEST 1234 5698 7654 32",  # bad mod-97 checksum
        "SSN 000-12-3456 and 666-12-3456 and 912-34-5678 and 123-00-4567",
        "upgrade to version 1.2.3.4 or v2.0.1.7",
        "octets 256.1.1.1 and 01.2.3.4",
        "the visit on 03/14/2019 went well",  # a plain date is not a date of birth
        "Parkinson disease and Crohn Disease and Hodgkin lymphoma",
        "Grace Hospital in New York",
        "n = 1234567890 cells, p < 0.001, 95% CI 1.2-3.4, 120/80 mmHg",
        "we enrolled 412 patients (2001-2005) in 12 centres",
        "time 10:30:45 and ratio 3:2:1",
        "NI QQ 12 34 56 C",  # QQ is not an issued prefix
    ],
)
def test_does_not_detect(text: str) -> None:
    assert detect(text) == []


def test_kinds_filter_and_unknown_kind() -> None:
    text = "mail a@b.org or call +1 415-555-0132"
    assert [s.kind for s in detect(text, kinds=["email"])] == [PiiKind.EMAIL]
    with pytest.raises(SchemaError, match="unknown PII kind 'PASSPORT'"):
        detect(text, kinds=["PASSPORT"])


def test_spans_are_offsets_into_the_text() -> None:
    text = "Zoë écrit à zoë@example.org — DOB: 1990-01-02"
    for span in detect(text):
        assert text[span.start : span.end] == span.text
