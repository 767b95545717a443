"""The fast ``schema.normalise_text`` equals the obvious regex definition on every input."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldsmith.schema import normalise_text


def schema_normalise(text: str) -> str:
    """The reference: NFKC, casefold, every run of Unicode whitespace to one space, strip."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


# every character Python counts as whitespace, plus look-alikes that are not
SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2005\u200a\u2028\u2029\u202f\u205f\u3000"
)
TRICKY = SPACES + "\u200b\ufeff\x00\x07ﬁＡß İ"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "plain text",
        "double  space",
        " lead and trail ",
        "tab\there\nnew line",
        "nbsp\xa0and\u3000ideographic",
        "ﬁne Ｆｕｌｌwidth ß İstanbul",
        "zero\u200bwidth\ufeffbom",
        "control\x1fseparators\x1c",
        "p less than 0.07.  [r12]",
    ],
)
def test_normalise_text_matches_schema(text: str) -> None:
    assert normalise_text(text) == schema_normalise(text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(TRICKY) | st.characters(), max_size=60))
def test_normalise_text_matches_schema_on_any_text(text: str) -> None:
    assert normalise_text(text) == schema_normalise(text)
