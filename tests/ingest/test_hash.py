"""The import's fast content hash must equal ``schema.content_hash`` on every input."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldsmith.ingest._hash import content_hash, normalise_text
from goldsmith.schema import content_hash as schema_hash
from goldsmith.schema import normalise_text as schema_normalise

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


FIELDS: list[dict[str, Any]] = [
    {"text": "A  b"},
    {"prompt": "p", "candidates": ["x ", " X"]},
    {"messages": [{"role": "user", "content": "Hi\tthere"}, {"role": "assistant"}]},
    {"b": 3, "a": "z"},
]


@pytest.mark.parametrize("fields", FIELDS)
def test_content_hash_matches_schema(fields: dict[str, Any]) -> None:
    assert content_hash(fields) == schema_hash(fields)
