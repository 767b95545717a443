"""Deterministic, realistic surrogates: :func:`surrogate` gives a fake value of the same kind.

The fake is drawn from a random generator seeded by HMAC-SHA256(salt, kind + value), so the
same value gets the same fake under the same salt, and nothing about the value can be
recovered without the salt. Fakes keep the shape of the original where it matters (the
grouping of a card or IBAN, the punctuation of a phone number, the format of a date) and are
valid where validity is checkable: cards pass Luhn, IBANs pass mod-97, SSNs lie in issued
ranges, e-mails and URLs use the reserved ``example.*`` domains, IPs the documentation ranges
(192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import string
from collections.abc import Callable

from goldsmith.pii.checks import digits, iban_remainder, luhn_check_digit
from goldsmith.pii.kinds import PiiKind

FIRST = [
    "Alex",
    "Jordan",
    "Morgan",
    "Taylor",
    "Casey",
    "Riley",
    "Jamie",
    "Avery",
    "Quinn",
    "Rowan",
    "Elliot",
    "Harper",
    "Sasha",
    "Robin",
    "Dana",
    "Kim",
    "Lee",
    "Noel",
    "Reese",
    "Skyler",
]
LAST = [
    "Ashford",
    "Bellamy",
    "Carver",
    "Dalton",
    "Ellery",
    "Fairbanks",
    "Garrick",
    "Hollis",
    "Ingram",
    "Jessop",
    "Kendrick",
    "Lomax",
    "Marlow",
    "Norcott",
    "Oakley",
    "Pemberton",
    "Quayle",
    "Radley",
    "Sutton",
    "Thorne",
]
STREETS = [
    "Maple",
    "Cedar",
    "Willow",
    "Harbor",
    "Orchard",
    "Juniper",
    "Meadow",
    "Chestnut",
    "Linden",
    "Birch",
]
STREET_TYPES = ["Street", "Avenue", "Road", "Lane", "Drive", "Court"]
CITIES = ["Riverton", "Lakeside", "Fairview", "Brookfield", "Millbrook", "Ashton"]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def normalise(value: str) -> str:
    """The identity of a value: case-folded, without spaces, dashes, dots or brackets."""
    return re.sub(r"[\s\-.()/]", "", value.casefold())


def keyed_digest(salt: bytes, kind: PiiKind, value: str) -> bytes:
    """HMAC-SHA256 of ``kind:normalised value`` under ``salt``."""
    return hmac.new(salt, f"{kind.value}:{normalise(value)}".encode(), hashlib.sha256).digest()


def _reshape(rng: random.Random, template: str, keep: int = 0) -> str:
    """Replace digits by random digits and letters by random letters (same case), keeping the
    first ``keep`` characters and all punctuation."""
    out = list(template[:keep])
    for ch in template[keep:]:
        if ch.isdigit():
            out.append(rng.choice(string.digits))
        elif ch.isalpha() and ch.isascii():
            letter = rng.choice(string.ascii_uppercase)
            out.append(letter if ch.isupper() else letter.lower())
        else:
            out.append(ch)
    return "".join(out)


def _regroup(value: str, template: str) -> str:
    """Lay the characters of ``value`` out like the alphanumerics of ``template``."""
    it = iter(value)
    return "".join(next(it) if ch.isalnum() else ch for ch in template)


def _card(rng: random.Random, original: str) -> str:
    n = len(digits(original))
    body = digits(original)[0] + "".join(rng.choice(string.digits) for _ in range(n - 2))
    return _regroup(body + luhn_check_digit(body), original)


def _iban(rng: random.Random, original: str) -> str:
    compact = original.replace(" ", "").upper()
    bban = _reshape(rng, compact[4:])
    check = 98 - iban_remainder(compact[:2] + "00" + bban)
    return _regroup(f"{compact[:2]}{check:02d}{bban}", original.upper())


def _ssn(rng: random.Random, original: str) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    body = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
    return _regroup(body, original) if len(digits(original)) == 9 else body


def _date(rng: random.Random, original: str) -> str:
    y, mo, d = rng.randint(1930, 2005), rng.randint(1, 12), rng.randint(1, 28)
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", original):
        return f"{y:04d}-{mo:02d}-{d:02d}"
    m = re.fullmatch(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{2}|\d{4})", original)
    if m:
        year = f"{y:04d}" if len(m.group(4)) == 4 else f"{y % 100:02d}"
        first, second = (d, mo) if int(m.group(1)) > 12 or m.group(2) == "." else (mo, d)
        return f"{first:02d}{m.group(2)}{second:02d}{m.group(2)}{year}"
    if original[:1].isdigit():
        return f"{d} {_MONTHS[mo - 1]} {y}"
    return f"{_MONTHS[mo - 1]} {d}, {y}"


def _ip(rng: random.Random, original: str) -> str:
    if ":" in original:
        return "2001:db8:" + ":".join(f"{rng.randint(0, 0xFFFF):x}" for _ in range(6))
    net = rng.choice(["192.0.2", "198.51.100", "203.0.113"])
    return f"{net}.{rng.randint(1, 254)}"


def _person(rng: random.Random, original: str) -> str:
    if " " not in original.strip():
        return rng.choice(LAST)
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _address(rng: random.Random, original: str) -> str:
    street = f"{rng.randint(1, 999)} {rng.choice(STREETS)} {rng.choice(STREET_TYPES)}"
    if "," in original:
        street += f", {rng.choice(CITIES)}"
    return street


_FAKES: dict[PiiKind, Callable[[random.Random, str], str]] = {
    PiiKind.CREDIT_CARD: _card,
    PiiKind.IBAN: _iban,
    PiiKind.SSN: _ssn,
    PiiKind.DATE_OF_BIRTH: _date,
    PiiKind.IP: _ip,
    PiiKind.PERSON: _person,
    PiiKind.POSTAL_ADDRESS: _address,
}
"""The kinds whose fake is drawn by a function of its own, from the original's shape."""


def surrogate(kind: PiiKind, value: str, salt: bytes) -> str:
    """A fake value of ``kind`` for ``value``, the same every time for the same salt.

    Parameters
    ----------
    kind
        What the value is.
    value
        The original text.
    salt
        The secret key; different salts give unrelated fakes.
    """
    rng = random.Random(keyed_digest(salt, kind, value))
    if kind is PiiKind.EMAIL:
        user = f"{rng.choice(FIRST)}.{rng.choice(LAST)}{rng.randint(1, 99)}".lower()
        return f"{user}@{rng.choice(['example.com', 'example.org', 'example.net'])}"
    if kind is PiiKind.URL:
        return f"https://www.example.com/{rng.choice(STREETS).lower()}{rng.randint(1, 999)}"
    fake = _FAKES.get(kind)
    if fake is not None:
        return fake(rng, value)
    keep = 0
    if kind is PiiKind.PHONE:
        prefix = re.match(r"\+\d{1,3}|0", value)
        keep = prefix.end() if prefix else 0
    return _reshape(rng, value, keep=keep)
