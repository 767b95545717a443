"""Detectors for identifiers with a recognisable shape: e-mail, URL, IP, phone, SSN,
national insurance number, credit card and IBAN.

Each detector is a pure function ``str -> list[PiiSpan]``. Where a checksum or a range rule
exists it is applied, so a Luhn-invalid card, an IBAN with a bad mod-97 checksum or an SSN in
the 000/666/9xx areas is not reported.
"""

from __future__ import annotations

import re

from goldsmith.pii.checks import digits, iban_ok, ipv4_ok, ipv6_ok, luhn_ok, nino_ok, ssn_ok
from goldsmith.pii.kinds import PiiKind, PiiSpan

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}(?![\w-])"
)
_URL = re.compile(r"(?i)\b(?:https?://|ftp://|www\.)[^\s<>\"'`]+")
_URL_TRAIL = ".,;:!?)]}'\""
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)(?![\w])")
_VERSION_CONTEXT = re.compile(r"(?i)(?:\bv|\bversion|\bver\.?|\brelease|\bbuild)\s*$")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_PHONE_INTL = re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){2,6}(?![\w])")
_PHONE_US = re.compile(
    r"(?<![\w+(])(?:\(\d{3}\)\s?\d{3}[-.\s]\d{4}|\d{3}([-.])\d{3}\1\d{4})(?![\w-])"
)
_PHONE_LOCAL = re.compile(r"(?<![\w+.,])0\d{1,4}(?:[ ./-]?\d{2,4}){2,4}(?![\w.,]?\d)")
_PHONE_CONTEXT = re.compile(
    r"(?i)\b(?:phone|tel|telephone|call|mobile|cell|fax|contact|ph|reach)\b[^\n]{0,12}$"
)
_SSN = re.compile(r"(?<![\w-])(\d{3})-(\d{2})-(\d{4})(?![\w-])")
_SSN_BARE = re.compile(
    r"(?i)\b(?:ssn|social\s+security(?:\s+(?:number|no\.?))?)\s*(?:[:#]|is)?\s*"
    r"(\d{3})[ ]?(\d{2})[ ]?(\d{4})\b"
)
_NINO = re.compile(r"\b([A-CEGHJ-PR-TW-Z]{2}) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])\b")
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){3,8}\b")


def _span(text: str, start: int, end: int, kind: PiiKind) -> PiiSpan:
    return PiiSpan(start, end, kind, text[start:end])


def find_emails(text: str) -> list[PiiSpan]:
    """E-mail addresses (local part, ``@``, dotted domain with an alphabetic TLD)."""
    return [_span(text, m.start(), m.end(), PiiKind.EMAIL) for m in _EMAIL.finditer(text)]


def find_urls(text: str) -> list[PiiSpan]:
    """``http(s)://``, ``ftp://`` and ``www.`` URLs, without trailing punctuation."""
    out = []
    for m in _URL.finditer(text):
        end = m.end()
        while end > m.start() and text[end - 1] in _URL_TRAIL:
            end -= 1
        if end - m.start() > 7:
            out.append(_span(text, m.start(), end, PiiKind.URL))
    return out


def find_ips(text: str) -> list[PiiSpan]:
    """IPv4 (octets 0-255, no leading zeros, not after "version"/"v") and IPv6 addresses."""
    out = []
    for m in _IPV4.finditer(text):
        if ipv4_ok(m.group()) and not _VERSION_CONTEXT.search(text, 0, m.start()):
            out.append(_span(text, m.start(), m.end(), PiiKind.IP))
    for m in _IPV6.finditer(text):
        if ipv6_ok(m.group()):
            out.append(_span(text, m.start(), m.end(), PiiKind.IP))
    return out


def find_phones(text: str) -> list[PiiSpan]:
    """Phone numbers.

    International numbers (``+`` country code, 8-15 digits), North-American numbers
    (``(415) 555-0132``, ``415-555-0132``, ``415.555.0132``) and European national numbers
    starting with ``0`` (9-12 digits) when "phone", "tel", "call", "mobile", "fax" or
    "contact" comes just before them. Bare digit runs are never phone numbers.
    """
    out = []
    for m in _PHONE_INTL.finditer(text):
        if 8 <= len(digits(m.group())) <= 15:
            out.append(_span(text, m.start(), m.end(), PiiKind.PHONE))
    for m in _PHONE_US.finditer(text):
        out.append(_span(text, m.start(), m.end(), PiiKind.PHONE))
    for m in _PHONE_LOCAL.finditer(text):
        n = len(digits(m.group()))
        if 9 <= n <= 12 and _PHONE_CONTEXT.search(text, max(0, m.start() - 30), m.start()):
            out.append(_span(text, m.start(), m.end(), PiiKind.PHONE))
    return out


def find_ssns(text: str) -> list[PiiSpan]:
    """US Social Security numbers: ``123-45-6789`` anywhere, ``123456789`` after "SSN".

    The never-issued ranges are excluded: area 000, 666 and 900-999, group 00, serial 0000.
    """
    out = []
    for m in _SSN.finditer(text):
        if ssn_ok(*m.groups()):
            out.append(_span(text, m.start(), m.end(), PiiKind.SSN))
    for m in _SSN_BARE.finditer(text):
        if ssn_ok(*m.groups()):
            out.append(_span(text, m.start(1), m.end(3), PiiKind.SSN))
    return out


def find_national_ids(text: str) -> list[PiiSpan]:
    """UK National Insurance numbers (``QQ 12 34 56 C``), with HMRC's prefix rules."""
    out = []
    for m in _NINO.finditer(text):
        if nino_ok(m.group(1)):
            out.append(_span(text, m.start(), m.end(), PiiKind.NATIONAL_ID))
    return out


def find_cards(text: str) -> list[PiiSpan]:
    """Payment card numbers: 13-19 digits, optionally grouped by spaces or dashes (one kind of
    separator), starting with 2-6 (the issuer ranges in use), and Luhn-valid."""
    out = []
    for m in _CARD.finditer(text):
        raw = m.group()
        if " " in raw and "-" in raw:
            continue
        num = digits(raw)
        if 13 <= len(num) <= 19 and num[0] in "23456" and luhn_ok(num):
            out.append(_span(text, m.start(), m.end(), PiiKind.CREDIT_CARD))
    return out


def find_ibans(text: str) -> list[PiiSpan]:
    """IBANs, compact or in groups of four, with a valid mod-97 checksum (and the right length
    for SEPA countries). The longest valid prefix of a match is kept."""
    out = []
    for m in _IBAN.finditer(text):
        raw = m.group()
        ends = [len(raw)] + [i for i, c in enumerate(raw) if c == " "]
        for end in sorted(ends, reverse=True):
            if iban_ok(raw[:end].replace(" ", "")):
                out.append(_span(text, m.start(), m.start() + end, PiiKind.IBAN))
                break
    return out
