"""What every question kind is: a frozen pydantic model that knows its own values.

A question kind is one object that every stage asks, instead of a string every stage switches
on. Each kind lives in its own module of this package and subclasses :class:`QuestionKind`;
:mod:`goldsmith.schema` joins them into the ``Question`` union that ``goldsmith.toml`` is
parsed into. Adding a kind is one module here, one line in that union, one widget module in
the page, and tests (see ``docs/kinds.md``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from goldsmith.errors import SchemaError

MAX_LABELS = 1000  # more than a page can offer; use spans or free text for open vocabularies


def check_labels(name: str, labels: tuple[str, ...]) -> None:
    if not labels:
        raise ValueError(f"question {name!r} needs at least one label")
    if len(labels) > MAX_LABELS:
        raise ValueError(
            f"question {name!r} has {len(labels)} labels; at most {MAX_LABELS} fit an annotation "
            "page. Split the label set or use a text question for open vocabularies"
        )
    if len(set(labels)) != len(labels):
        raise ValueError(f"question {name!r} repeats a label")


class QuestionKind(BaseModel):
    """The base of every question kind: its name, title and whether it must be answered.

    Subclasses set ``kind`` (the discriminator in ``goldsmith.toml``) and ``widget`` (the
    page's ES module that draws it), and implement :meth:`check`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    widget: ClassVar[str] = ""
    """The page's widget module (``static/widgets/<widget>.js``)."""

    name: str
    title: str | None = None
    required: bool = True

    def check(self, value: Any) -> Any:
        """Return ``value`` in canonical form, or raise :class:`SchemaError`."""
        raise SchemaError(f"{type(self).__name__} does not implement check()")
