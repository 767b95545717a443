"""Offsets in UTF-16 code units (Label Studio, the browser's DOM) and in Python code points.

JavaScript strings count UTF-16 code units, so Label Studio's ``value.start``/``value.end``
count a character outside the Basic Multilingual Plane (an emoji, ``𝐁``) as two. goldsmith
stores code-point offsets. :class:`Utf16Offsets` converts one text's offsets both ways; the
page's ``static/lib/text.js`` (``OffsetMap``) does the same in the browser.

>>> m = Utf16Offsets("😀 Paris")
>>> m.to_code_points(3), m.to_utf16(2)
(2, 3)
>>> m.utf16_length
8
"""

from __future__ import annotations

from bisect import bisect_left

from goldsmith.errors import SchemaError

_BMP_MAX = 0xFFFF


class Utf16Offsets:
    """Offset conversion for one text; building it scans the text once.

    Parameters
    ----------
    text:
        The text the offsets point into.
    """

    __slots__ = ("_astral_cp", "_astral_u16", "length", "utf16_length")

    def __init__(self, text: str) -> None:
        self.length = len(text)
        if text.isascii():
            astral: list[int] = []
        else:
            astral = [i for i, ch in enumerate(text) if ord(ch) > _BMP_MAX]
        self._astral_cp = astral  # code-point index of each astral character, ascending
        self._astral_u16 = [i + k for k, i in enumerate(astral)]  # its UTF-16 index
        self.utf16_length = self.length + len(astral)

    def to_code_points(self, unit: int) -> int:
        """The code-point offset of the UTF-16 offset ``unit``.

        Raises
        ------
        SchemaError
            ``unit`` is outside ``0..utf16_length`` or splits a surrogate pair (an astral
            character in two).
        """
        if not 0 <= unit <= self.utf16_length:
            raise SchemaError(
                f"offset {unit} is outside the text (0..{self.utf16_length} UTF-16 code units)"
            )
        before = bisect_left(self._astral_u16, unit)  # astral characters starting before it
        if before and self._astral_u16[before - 1] + 1 == unit:
            raise SchemaError(
                f"offset {unit} falls inside a character that takes two UTF-16 code units "
                "(an emoji or another astral character)"
            )
        return unit - before

    def to_utf16(self, point: int) -> int:
        """The UTF-16 offset of the code-point offset ``point`` (``0..len(text)``)."""
        if not 0 <= point <= self.length:
            raise SchemaError(f"offset {point} is outside the text (0..{self.length})")
        return point + bisect_left(self._astral_cp, point)
