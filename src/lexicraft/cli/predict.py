"""``lexicraft predict``: a JSON line per input line, from a deployment or an exported model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lexicraft.cli.backend import connect
from lexicraft.cli.console import DataDir, Endpoint, Key, read_stdin, write_stdout
from lexicraft.domain.projects import ProjectKind
from lexicraft.errors import InvalidParameterValue, ProjectNotFound
from lexicraft.services.predictions import Prediction

if TYPE_CHECKING:
    from lexicraft.services.conversation_runtime import ConversationPrediction

_BATCH_SIZE = 32


def read_lines(source: str) -> list[str]:
    """The lines of a file (or of stdin for ``-``), without their line ends."""
    if source == "-":
        content = read_stdin()
    else:
        try:
            content = Path(source).read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InvalidParameterValue(
                f"{source!r} is not UTF-8 text (byte {error.start}: {error.reason})"
            ) from None
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    # A Windows line end belongs to the line break, not to the text.
    return [line.removesuffix("\r") for line in lines]


def render(number: int, text: str, prediction: Prediction, ner: bool) -> dict[str, Any]:
    """One output record; NER records are valid ``jsonl`` import records too."""
    record: dict[str, Any] = {"id": str(number), "text": text}
    if ner:
        record["entities"] = [
            {
                "category": span.category,
                "offset": span.start,
                "length": span.end - span.start,
                "text": text[span.start : span.end],
                "confidenceScore": round(span.confidence, 4),
            }
            for span in prediction.entities
        ]
    else:
        record["classes"] = [score.category for score in prediction.classes]
        record["confidenceScores"] = {
            score.category: round(score.confidence, 4) for score in prediction.classes
        }
    return record


def render_conversation(
    number: int, text: str, prediction: ConversationPrediction | None
) -> dict[str, Any]:
    """One output record of a conversation deployment: the top intent, every intent's score
    (best first) and the entities, with what list, regex and prebuilt components add
    (``extraInformation``: the list item's ``key``…, ``resolutions``), as
    ``:analyze-conversations`` answers them but with code-point offsets."""
    record: dict[str, Any] = {"id": str(number), "text": text}
    if prediction is None:  # a blank line: nothing was asked
        record.update(topIntent=None, intents=[], entities=[])
        return record
    record["topIntent"] = prediction.top_intent
    record["intents"] = [
        {"category": intent.category, "confidenceScore": round(intent.confidence, 4)}
        for intent in prediction.intents
    ]
    entities = []
    for entity in prediction.entities:
        item: dict[str, Any] = {
            "category": entity.category,
            "offset": entity.offset,
            "length": entity.length,
            "text": entity.text,
            "confidenceScore": round(entity.confidence, 4),
        }
        if entity.extra_information:
            item["extraInformation"] = list(entity.extra_information)
        if entity.resolutions:
            item["resolutions"] = list(entity.resolutions)
        entities.append(item)
    record["entities"] = entities
    return record


def predict(
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            help="PROJECT DEPLOYMENT, then FILE (or - for stdin, the default). "
            "With --model: FILE only.",
            metavar="PROJECT DEPLOYMENT FILE|-",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="An exported model folder to run without any server."),
    ] = None,
    data_dir: DataDir = None,
    endpoint: Endpoint = None,
    key: Key = None,
) -> None:
    """Predict entities or classes for each line of FILE; prints one JSON line per input line.

    A conversation deployment answers each line with its top intent, every intent's score
    and the entities. Offsets count code points. Examples: 'lexicraft predict news production
    texts.txt', 'echo "Ada went to Paris" | lexicraft predict --model ./news-m1'.
    """
    arguments = list(targets or [])
    if model is not None:
        if len(arguments) > 1:
            raise typer.BadParameter("with --model, give only FILE (or -)")
        source = arguments[0] if arguments else "-"
    else:
        if len(arguments) not in (2, 3):
            raise typer.BadParameter(
                "give PROJECT DEPLOYMENT and optionally FILE, or --model FOLDER and optionally FILE"
            )
        source = arguments[2] if len(arguments) == 3 else "-"
    lines = read_lines(source)
    texts = [line for line in lines if line.strip()]
    if model is not None:
        from lexicraft.ml.export import load_exported, read_card
        from lexicraft.services.predictions import predict_with

        card = read_card(model)
        kind = ProjectKind(card.project_kind)
        if kind.is_conversation:
            raise InvalidParameterValue(
                f"{str(model)!r} holds a conversation model, whose list, regex and prebuilt "
                "components live in its project: predict with its deployment instead "
                "('lexicraft predict PROJECT DEPLOYMENT')"
            )
        card, predictor = load_exported(model)
        found = predict_with(predictor, kind, texts, batch_size=_BATCH_SIZE)
    else:
        project, deployment = arguments[0], arguments[1]
        with connect(data_dir, endpoint, key) as backend:
            found_project = backend.find_project(project)
            if found_project is None:
                raise ProjectNotFound(f"project {project!r} was not found")
            kind = found_project.kind
            if kind.is_conversation:
                answers = backend.analyze_conversation(project, deployment, texts)
                _write_conversations(lines, answers)
                return
            found = backend.predict(project, deployment, texts) if texts else []
    ner = kind is ProjectKind.ENTITY_RECOGNITION
    results = iter(found)
    out = []
    for number, line in enumerate(lines, start=1):
        prediction = next(results) if line.strip() else Prediction()
        out.append(json.dumps(render(number, line, prediction, ner), ensure_ascii=False) + "\n")
    write_stdout("".join(out))


def _write_conversations(lines: list[str], answers: list[ConversationPrediction]) -> None:
    results = iter(answers)
    out = []
    for number, line in enumerate(lines, start=1):
        answer = next(results) if line.strip() else None
        record = render_conversation(number, line, answer)
        out.append(json.dumps(record, ensure_ascii=False) + "\n")
    write_stdout("".join(out))
