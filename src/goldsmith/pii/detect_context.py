"""Detectors that need context: date of birth, medical record number and postal address.

A plain date is not PII here; a date is a :attr:`~PiiKind.DATE_OF_BIRTH` only when "DOB",
"D.O.B.", "born", "date of birth" or "birth date" comes shortly before it. A medical record
number is an identifier right after "MRN", "medical record number", "record number",
"patient id" or "chart number". A postal address is a house number followed by up to four
capitalised words and a street type, extended by an apartment, a city, a US state + ZIP
or a UK postcode when they follow.
"""

from __future__ import annotations

import re

from goldsmith.pii.kinds import PiiKind, PiiSpan

_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE = re.compile(
    r"(?<![\w/.-])(?:"
    r"(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?P<y>\d{4}|\d{2})"
    r"|(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})"
    rf"|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS},?\s+\d{{4}}"
    r")(?![\w/-]|\.\d)"
)
_DOB_CONTEXT = re.compile(
    r"(?i)(?:\bd\.?o\.?b\b\.?|\bborn\b|\bdate\s+of\s+birth\b|\bbirth\s*date\b|\bbirthday\b)"
    r"[^.\n]{0,20}$|\bd\.o\.b\.[^\n]{0,20}$"
)
_MRN = re.compile(
    r"(?i)\b(?:mrn|medical\s+record\s+(?:number|no\.?|#)|record\s+(?:number|no\.?|#)|"
    r"patient\s+(?:id|identifier|number|no\.?)|chart\s+(?:number|no\.?|#)|hospital\s+number)"
    r"\s*(?:[:#=]|is|was)?\s*(?:#\s*)?"
    r"(?P<id>(?=[A-Z0-9-]*\d{4})[A-Z]{0,4}[-]?\d[A-Z0-9-]{3,18}[A-Z0-9])\b"
)
_STREET_TYPES = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
    r"Terrace|Square|Sq|Parkway|Pkwy|Highway|Hwy|Close|Crescent|Gardens|Row|Circle|Cir)"
)
_ADDRESS = re.compile(
    r"(?<![\w.,/-])\d{1,6}[A-Za-z]?\s+(?:(?:[NSEW]\.?|North|South|East|West)\s+)?"
    r"(?:[A-Z][a-z]+\.?\s+){1,4}" + _STREET_TYPES + r"\b\.?"
    r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Flat|#)\.?\s*#?[A-Za-z0-9-]+)?"
    r"(?:,\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2})?"
    r"(?:(?:,\s*|\s+)(?:[A-Z]{2}\s+\d{5}(?:-\d{4})?|\d{5}(?:-\d{4})?"
    r"|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}))?"
    r"(?![\w])"
)


def _plausible(m: re.Match[str]) -> bool:
    if m.group("a"):
        a, b = int(m.group("a")), int(m.group("b"))
        return 1 <= a <= 31 and 1 <= b <= 31 and min(a, b) <= 12
    if m.group("iy"):
        return 1 <= int(m.group("im")) <= 12 and 1 <= int(m.group("id")) <= 31
    return True


def find_dates_of_birth(text: str) -> list[PiiSpan]:
    """Dates (numeric, ISO or with a month name) within 20 characters after a birth keyword."""
    out = []
    for m in _DATE.finditer(text):
        if _plausible(m) and _DOB_CONTEXT.search(text, max(0, m.start() - 40), m.start()):
            out.append(PiiSpan(m.start(), m.end(), PiiKind.DATE_OF_BIRTH, m.group()))
    return out


def find_mrns(text: str) -> list[PiiSpan]:
    """Medical record numbers: the identifier right after an MRN keyword (at least 4 digits)."""
    return [
        PiiSpan(m.start("id"), m.end("id"), PiiKind.MRN, m.group("id")) for m in _MRN.finditer(text)
    ]


def find_addresses(text: str) -> list[PiiSpan]:
    """Street addresses: number + capitalised words + street type (+ unit, city, ZIP/postcode)."""
    out = []
    for m in _ADDRESS.finditer(text):
        end = m.end()
        while text[end - 1] in ", ":
            end -= 1
        out.append(PiiSpan(m.start(), end, PiiKind.POSTAL_ADDRESS, text[m.start() : end]))
    return out
