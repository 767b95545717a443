"""Question kinds: one module per kind, each a :class:`~goldsmith.kinds.base.QuestionKind`."""
