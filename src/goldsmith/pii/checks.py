"""Checksums and range rules that turn a pattern match into a validated identifier."""

from __future__ import annotations

import ipaddress
import string

IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21,
    "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24,
    "SI": 19, "SK": 24, "SM": 27, "TR": 26,
}  # fmt: skip
"""Lengths of the SEPA countries' IBANs; other countries only need 15 to 34 characters."""


def digits(text: str) -> str:
    """The decimal digits of ``text``, in order."""
    return "".join(c for c in text if c.isdigit())


def luhn_ok(number: str) -> bool:
    """Whether a digit string passes the Luhn (mod 10) check."""
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_check_digit(partial: str) -> str:
    """The digit that makes ``partial + digit`` Luhn-valid."""
    for d in string.digits:
        if luhn_ok(partial + d):
            return d
    raise AssertionError("unreachable: one of ten digits always completes a Luhn number")


def iban_remainder(compact: str) -> int:
    """ISO 13616 mod-97 remainder of an IBAN without spaces (1 for a valid IBAN)."""
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97


def iban_ok(compact: str) -> bool:
    """Whether ``compact`` (no spaces, upper case) is a well-formed IBAN with a valid checksum."""
    if not 15 <= len(compact) <= 34 or not compact.isalnum() or not compact.isascii():
        return False
    if not (compact[:2].isalpha() and compact[:2].isupper() and compact[2:4].isdigit()):
        return False
    expected = IBAN_LENGTHS.get(compact[:2])
    if expected is not None and len(compact) != expected:
        return False
    return iban_remainder(compact) == 1


def ssn_ok(area: str, group: str, serial: str) -> bool:
    """US SSN ranges: area not 000, 666 or 900-999; group not 00; serial not 0000."""
    a = int(area)
    return a != 0 and a != 666 and a < 900 and int(group) != 0 and int(serial) != 0


_NINO_BAD_PREFIXES = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def nino_ok(prefix: str) -> bool:
    """UK National Insurance number prefix rules (HMRC)."""
    first, second = prefix[0], prefix[1]
    return first not in "DFIQUV" and second not in "DFIOQUV" and prefix not in _NINO_BAD_PREFIXES


def ipv4_ok(text: str) -> bool:
    """Four octets 0-255, no leading zeros, first octet not 0."""
    parts = text.split(".")
    if len(parts) != 4:
        return False
    for p in parts:
        if not p.isdigit() or int(p) > 255 or (len(p) > 1 and p[0] == "0"):
            return False
    return int(parts[0]) != 0


def ipv6_ok(text: str) -> bool:
    """A valid IPv6 address with at least three groups written out."""
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return sum(1 for g in text.split(":") if g) >= 3
