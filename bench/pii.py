"""PII detection on real text with planted identifiers.

Medical abstracts (``medical_tc_test.csv``, column ``medical_abstract``) get synthetic
identifiers inserted at random word boundaries (seeded). A detection is a true positive when
it overlaps a planted identifier of the same kind. False positives are also counted on the
untouched abstracts, whose numbers, dates and capitalised terms must not be flagged.

Run: ``.venv/bin/python bench/pii.py [--n 1000] [--seed 0]``
"""

from __future__ import annotations

import argparse
import csv
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from goldsmith.pii import PiiKind, detect
from goldsmith.pii.checks import iban_remainder, luhn_check_digit

DATA = Path("/work/shared/data/healthcare/medical_abstracts/medical_tc_test.csv")
FIRST = ["Maria", "John", "Aisha", "Wei", "Carlos", "Emily", "Hans", "Priya", "Robert", "Julia"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Brennan", "Kowalski", "Haddad", "Novak"]


def _d(r: random.Random, n: int) -> str:
    return "".join(str(r.randint(0, 9)) for _ in range(n))


def _card(r: random.Random) -> tuple[str, str]:
    body = r.choice("3456") + _d(r, 14)
    num = body + luhn_check_digit(body)
    return "", " ".join(num[i : i + 4] for i in range(0, 16, 4)) if r.random() < 0.5 else num


def _iban(r: random.Random) -> tuple[str, str]:
    bban = _d(r, 18)
    check = 98 - iban_remainder("DE00" + bban)
    raw = f"DE{check:02d}{bban}"
    return "IBAN ", " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _phone(r: random.Random) -> tuple[str, str]:
    return r.choice(["", "phone ", "tel. "]), r.choice(
        [
            f"+1 {_d(r, 3)}-{_d(r, 3)}-{_d(r, 4)}",
            f"({r.randint(201, 989)}) {_d(r, 3)}-{_d(r, 4)}",
            f"{r.randint(201, 989)}.{_d(r, 3)}.{_d(r, 4)}",
            f"+44 20 {_d(r, 4)} {_d(r, 4)}",
            f"+49 30 {_d(r, 7)}",
        ]
    )


def _ssn(r: random.Random) -> tuple[str, str]:
    return r.choice(
        ["", "SSN "]
    ), f"{r.randint(1, 665):03d}-{r.randint(10, 99)}-{r.randint(1000, 9999)}"


def _dob(r: random.Random) -> tuple[str, str]:
    y, m, d = r.randint(1930, 2010), r.randint(1, 12), r.randint(1, 28)
    months = ["January", "March", "June", "October"]
    return r.choice(["DOB: ", "born ", "date of birth "]), r.choice(
        [f"{m:02d}/{d:02d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{r.choice(months)} {d}, {y}"]
    )


def _address(r: random.Random) -> tuple[str, str]:
    street = f"{r.randint(1, 9999)} {r.choice(['Oak', 'Elm', 'Mill Creek', 'Baker'])} "
    street += r.choice(["Street", "Avenue", "Rd", "Lane", "Blvd"])
    return "lives at ", street + r.choice(["", ", Springfield, IL 62704", ", Leeds LS1 4AP"])


def _person(r: random.Random) -> tuple[str, str]:
    return r.choice(["Dr. ", "Patient ", "Mrs. ", ""]), f"{r.choice(FIRST)} {r.choice(LAST)}"


PLANTERS: dict[PiiKind, Callable[[random.Random], tuple[str, str]]] = {
    PiiKind.EMAIL: lambda r: ("", f"{r.choice(FIRST).lower()}.{_d(r, 2)}@clinic-{_d(r, 2)}.org"),
    PiiKind.PHONE: _phone,
    PiiKind.SSN: _ssn,
    PiiKind.CREDIT_CARD: _card,
    PiiKind.IBAN: _iban,
    PiiKind.DATE_OF_BIRTH: _dob,
    PiiKind.MRN: lambda r: (r.choice(["MRN: ", "MRN ", "record number "]), _d(r, 8)),
    PiiKind.URL: lambda r: ("", f"https://www.{r.choice(LAST).lower()}.com/p/{_d(r, 4)}"),
    PiiKind.IP: lambda r: (
        "",
        f"{r.randint(1, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
    ),
    PiiKind.POSTAL_ADDRESS: _address,
    PiiKind.PERSON: _person,
}


def plant(text: str, r: random.Random, k: int) -> tuple[str, list[tuple[int, int, PiiKind]]]:
    """Insert ``k`` identifiers at random word boundaries; return the text and their spans."""
    cuts = sorted(r.sample([i for i, c in enumerate(text) if c == " "], k))
    out, gold, pos = "", [], 0
    for cut in cuts:
        kind = r.choice(list(PLANTERS))
        cue, value = PLANTERS[kind](r)
        out += text[pos:cut] + " " + cue
        gold.append((len(out), len(out) + len(value), kind))
        out += value + " ,"
        pos = cut
    return out + text[pos:], gold


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with DATA.open(newline="") as fh:
        texts = [row["medical_abstract"] for row in csv.DictReader(fh)][: args.n]
    r = random.Random(args.seed)
    tp, fp, fn, clean_fp = (
        Counter[PiiKind](),
        Counter[PiiKind](),
        Counter[PiiKind](),
        Counter[str](),
    )
    for text in texts:
        for s in detect(text):
            clean_fp[s.kind.value] += 1
        planted, gold = plant(text, r, r.randint(1, 4))
        found = detect(planted)
        for start, end, kind in gold:
            if any(s.kind == kind and s.start < end and start < s.end for s in found):
                tp[kind] += 1
            else:
                fn[kind] += 1
        for s in found:
            if not any(s.kind == k and s.start < e and b < s.end for b, e, k in gold):
                fp[s.kind] += 1
    print(f"# {len(texts)} abstracts, seed {args.seed}")
    for kind in PiiKind:
        p_den, r_den = tp[kind] + fp[kind], tp[kind] + fn[kind]
        prec = tp[kind] / p_den if p_den else float("nan")
        rec = tp[kind] / r_den if r_den else float("nan")
        print(
            f"pii_{kind.value.lower()}: ours precision {prec:.3f} recall {rec:.3f} "
            f"(planted {r_den}, false positives {fp[kind]}, on clean abstracts "
            f"{clean_fp[kind.value]})"
        )
    total_clean = sum(clean_fp.values())
    print(f"pii_clean_false_positives_per_1000: ours {1000 * total_clean / len(texts):.1f}")


if __name__ == "__main__":
    main()
