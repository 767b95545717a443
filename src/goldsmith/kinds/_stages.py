"""What the LLM, export and training stages ask a question kind, with the defaults.

:class:`~goldsmith.kinds.base.QuestionKind` takes these methods from :class:`StageBehaviour`;
each kind overrides the ones where it differs. The defaults fit a free-form value (a string
or JSON) that nothing needs to align or bound. ``docs/kinds.md`` has the whole table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from goldsmith.errors import ExportError

if TYPE_CHECKING:
    from goldsmith.schema import Record

Redact = Callable[[str], str]


class StageBehaviour:
    """Capabilities and renderings of a kind for the LLM, export and training stages."""

    if TYPE_CHECKING:  # the pydantic fields of QuestionKind, declared here for the type checker
        name: str
        title: str | None
        required: bool
        kind: str

        def check(self, value: Any) -> Any: ...

    categorical: ClassVar[bool] = False
    """The value is one of a closed set, or a set of them (label, multilabel, rating): its
    LLM confidence is the joint probability of its tokens, and a model's answers to it are
    scored as classes."""
    ranks_candidates: ClassVar[bool] = False
    """The value ranks the candidate responses of a field (preference: DPO and KTO rows)."""
    free_text: ClassVar[bool] = False
    """The value is free text: the SFT completion, which self-instruct imitates."""
    trains_sft: ClassVar[bool] = True
    """The value has a prompt-completion form (:meth:`sft_answer`)."""
    hf_category: ClassVar[str] = "text-classification"
    """The Hugging Face ``task_categories`` entry of a dataset card."""
    count_unit: ClassVar[str] = "records"
    """What the dataset card's label counts count (``mentions`` for spans)."""
    table_int: ClassVar[bool] = False
    """The parquet column holds integers (else strings)."""
    prodigy: ClassVar[bool] = False
    """The value has a Prodigy task form (:meth:`prodigy_task`)."""
    conll: ClassVar[bool] = False
    """The value becomes CoNLL BIO tags (one label per span)."""

    def empty(self) -> Any:
        """The valid value that marks nothing (no label applies, no span found), or None
        where every answer must say something (a label, a rating, a ranking, a text)."""
        return None

    # ----------------------------------------------------------------- LLM structured output

    def json_schema(self) -> dict[str, Any]:
        """The JSON schema of a value, in the subset strict structured outputs accept."""
        return {"type": "string"}

    def value_type(self) -> Any:
        """The pydantic type a parsed answer is validated against before :meth:`check`."""
        return str

    def prompt_wording(self) -> str:
        """What the LLM is asked to give, after the question's name in the system prompt."""
        return "free text"

    def describe(self) -> str:
        """The question's line in an LLM system prompt: name, title, wording, optionality."""
        head = f'- "{self.name}"' + (f" ({self.title})" if self.title else "")
        optional = "" if self.required else "; null when it does not apply"
        return f"{head}: {self.prompt_wording()}{optional}"

    def llm_fields(self) -> tuple[str, ...]:
        """Record fields sent to the LLM besides the task's fields (candidates to rank)."""
        return ()

    def from_llm(self, value: Any, fields: Mapping[str, Any] | None) -> Any:
        """The canonical value of a schema-valid LLM answer, given the record's ``fields``
        (spans are aligned on their text, candidate indices bounded)."""
        return self.check(value)

    def to_llm(self, value: Any, fields: Mapping[str, Any], redact: Redact) -> Any:
        """A checked value as a few-shot answer, its record text passed through ``redact``."""
        return value

    # ----------------------------------------------------------------- export and training

    def prompt_fields(self, text_fields: Sequence[str]) -> list[str]:
        """Which of the task's text fields make the prompt of a training row."""
        return list(text_fields)

    def target_field(self, default: str) -> str:
        """The field the value annotates: the one a span kind marks, else ``default`` (the
        task's first field, where annotation-tool results point)."""
        return default

    def sft_system_prompt(self) -> str | None:
        """The system prompt generated for training rows (None: free-form, only the title)."""
        return self.title

    def _lead(self) -> str:
        return f"{self.title.rstrip('.')}. " if self.title else ""

    def sft_answer(self, value: Any, record: Record) -> str:
        """The assistant's answer in a training row for ``value``, a final value."""
        return str(value)

    def stratum(self, value: Any) -> str:
        """The stratum a final value is split in (free-form values share one)."""
        return ""

    def counted_labels(self, value: Any) -> list[str]:
        """The labels a final value counts under in the dataset card (spans: one each)."""
        return []

    def class_names(self) -> tuple[str, ...]:
        """The classes a model's answers are scored over (empty for open values)."""
        return ()

    def guesses(self, text: str) -> Iterator[Any]:
        """Candidate values read from a generated free-form answer, best first."""
        yield text

    def table_cell(self, value: Any) -> str | int:
        """The value in a parquet or CSV cell."""
        return json.dumps(value, ensure_ascii=False)

    def label_studio_results(
        self, value: Any, record: Record, base: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Label Studio result items for ``value`` (``base``: from_name, to_name, origin)."""
        return []

    def prodigy_task(self, value: Any, record: Record, text: str) -> dict[str, Any]:
        """The Prodigy task of ``value`` for a record whose prompt text is ``text``."""
        raise ExportError(f"question {self.name!r}: a {self.kind} question has no Prodigy form")

    def candidates_of(self, record: Record) -> list[str]:
        """The candidate responses the value ranks (ranking kinds); ExportError otherwise."""
        raise ExportError(f"question {self.name!r}: a {self.kind} question ranks no candidates")

    def ranking_of(self, value: Any, record: Record) -> list[int]:
        """The ranking of ``value``, checked against :meth:`candidates_of` (ranking kinds)."""
        raise ExportError(f"question {self.name!r}: a {self.kind} question ranks no candidates")

    def spans_with_text(self, value: Any, record: Record) -> list[dict[str, Any]]:
        """Spans of ``value`` with their text (span kinds); ExportError when one is outside."""
        raise ExportError(f"question {self.name!r}: a {self.kind} question marks no spans")
