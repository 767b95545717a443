"""UTF-16 code units (Label Studio, the DOM) <-> code points, checked against Python's codec."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goldsmith.errors import SchemaError
from goldsmith.kinds._utf16 import Utf16Offsets

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@given(text=_text, data=st.data())
def test_both_ways_agree_with_the_codec(text: str, data: st.DataObject) -> None:
    point = data.draw(st.integers(0, len(text)))
    m = Utf16Offsets(text)
    assert m.utf16_length == units(text)
    assert m.to_utf16(point) == units(text[:point])
    assert m.to_code_points(m.to_utf16(point)) == point


def test_an_offset_inside_an_astral_character_or_outside_is_refused() -> None:
    m = Utf16Offsets("a😀b")  # a=0, 😀=1..2, b=3 in UTF-16
    assert [m.to_code_points(u) for u in (0, 1, 3, 4)] == [0, 1, 2, 3]
    with pytest.raises(SchemaError, match="inside a character"):
        m.to_code_points(2)
    with pytest.raises(SchemaError, match="outside the text"):
        m.to_code_points(5)
    with pytest.raises(SchemaError, match="outside the text"):
        m.to_utf16(4)
