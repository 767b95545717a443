"""The Label Studio labeling config (``label_config.xml``) of a goldsmith task.

A ``label-studio`` export writes it beside the task files, so the project can be recreated
in Label Studio (paste it under *Settings → Labeling Interface*, then import the tasks) and
label-studio-sdk's ``Converter`` and ``LabelInterface`` read the export. It holds:

- one object tag per field: ``<Text>`` for a text field, ``<Paragraphs layout="dialogue">``
  (``role`` / ``content``) for a chat field;
- one control tag per question with a Label Studio form, chosen by the result type the
  question's kind renders (``question.label_studio``): ``<Choices>`` (``choice="multiple"``
  when the question takes several labels), ``<Labels>`` for spans (``choice="multiple"``
  for span_multilabel), ``<TextArea>`` and ``<Rating maxRating=…>``. ``toName`` is the field
  the question marks, as in the exported results.

A preference question has no result form goldsmith exports to Label Studio (its candidates are
a list field, not a ``<List>`` of ``{id, title, body}`` items for ``<Ranker>``), so it is left
out of the config with a comment saying so.

>>> from goldsmith.config import template_task
>>> from goldsmith.schema import Task
>>> print(label_config(Task.model_validate(template_task("t", "classification", ["a", "b"]))))
<View>
  <Text name="text" value="$text" />
  <Choices name="label" toName="text" choice="single" showInline="true">
    <Choice value="a" />
    <Choice value="b" />
  </Choices>
</View>
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

from goldsmith.export.exporter import ExportContext
from goldsmith.schema import FieldKind, Question, Task

CONFIG_NAME = "label_config.xml"


def _labels_of(q: Question) -> tuple[str, ...]:
    labels: tuple[str, ...] = getattr(q, "labels", ())
    return labels


def _choices(view: ET.Element, q: Question, to_name: str) -> None:
    many = q.classifies(many=True)
    tag = ET.SubElement(
        view,
        "Choices",
        name=q.name,
        toName=to_name,
        choice="multiple" if many else "single",
        showInline="true",
    )
    for label in _labels_of(q):
        ET.SubElement(tag, "Choice", value=label)


def _labels(view: ET.Element, q: Question, to_name: str) -> None:
    attrs = {"name": q.name, "toName": to_name}
    if q.many_labels:
        attrs["choice"] = "multiple"
    tag = ET.SubElement(view, "Labels", attrs)
    for label in _labels_of(q):
        ET.SubElement(tag, "Label", value=label)


def _textarea(view: ET.Element, q: Question, to_name: str) -> None:
    ET.SubElement(view, "TextArea", name=q.name, toName=to_name, rows="4", editable="true")


def _rating(view: ET.Element, q: Question, to_name: str) -> None:
    top = getattr(q, "max", 5)
    ET.SubElement(view, "Rating", name=q.name, toName=to_name, maxRating=str(top))


CONTROLS: dict[str, Callable[[ET.Element, Question, str], None]] = {
    "choices": _choices,
    "labels": _labels,
    "textarea": _textarea,
    "rating": _rating,
}
"""Label Studio result type (``QuestionKind.label_studio``) → the control tag it needs."""


def label_config(task: Task) -> str:
    """The Label Studio labeling config of ``task``, as XML text."""
    view = ET.Element("View")
    for spec in task.fields:
        if spec.kind == FieldKind.CHAT:
            ET.SubElement(
                view,
                "Paragraphs",
                name=spec.name,
                value=f"${spec.name}",
                layout="dialogue",
                nameKey="role",
                textKey="content",
            )
        else:
            ET.SubElement(view, "Text", name=spec.name, value=f"${spec.name}")
    first = task.fields[0].name
    for q in task.questions:
        control = CONTROLS.get(q.label_studio or "")
        if control is None:
            view.append(
                ET.Comment(
                    f" question {q.name!r} ({q.kind}) has no Label Studio form in goldsmith's "
                    "export "
                )
            )
            continue
        control(view, q, q.target_field(first))
    ET.indent(view)
    return ET.tostring(view, encoding="unicode")


def write_label_config(out: Path, ctx: ExportContext) -> list[Path]:
    """Write :data:`CONFIG_NAME` into ``out``; return its path (an exporter companion)."""
    path = out / CONFIG_NAME
    path.write_text(label_config(ctx.task) + "\n", encoding="utf-8")
    return [path]
