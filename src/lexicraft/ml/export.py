"""Export a trained model as a self-contained folder, and load such a folder back.

The folder holds the backend's own artifact files (``config.json`` names the backend, so
:func:`lexicraft.ml.registry.load_ner_predictor` / ``load_classification_predictor`` load it
as they are), ``labels.json`` (the label map), ``evaluation.json``, ``lexicraft-model.json``
(what the model is) and a ``README.md`` with the evaluation and a snippet that runs it.

``dir`` copies the backend's files as they are. ``onnx`` writes the network as an ONNX graph
that ONNX Runtime runs (same entities, no PyTorch at prediction time); it exists for the
transformer NER backend only (the CRF and the TF-IDF classifiers have no network to convert,
and the fine-tuned MiniLM classifier has no exporter yet).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from lexicraft.errors import InvalidParameterValue
from lexicraft.ml import registry
from lexicraft.ml.base import ClassificationPredictor, NerPredictor
from lexicraft.ml.ner import transformer

MANIFEST_FILE = "lexicraft-model.json"
LABELS_FILE = "labels.json"
EVALUATION_FILE = "evaluation.json"
README_FILE = "README.md"
_EXPORT_VERSION = 1


class ExportFormat(StrEnum):
    """Ways to export a model."""

    DIR = "dir"
    ONNX = "onnx"


SUPPORTED_FORMATS = (ExportFormat.DIR, ExportFormat.ONNX)

#: Backend name → the function that writes its model folder with the network as ONNX.
_ONNX_EXPORTERS: Mapping[str, Callable[[Path, Path], None]] = MappingProxyType(
    {
        transformer.BACKEND_NAME: transformer.export_onnx,
        transformer.V2_BACKEND_NAME: transformer.export_onnx,
        transformer.E5_BACKEND_NAME: transformer.export_onnx,
    }
)


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What an exported model is: its project, training and evaluation."""

    project_name: str
    project_kind: str
    language: str
    model_label: str
    model_id: str
    training_config_version: str
    backend: str
    trained_at: str
    labels: tuple[str, ...]
    evaluation_options: dict[str, Any]
    evaluation_summary: dict[str, Any]

    @property
    def is_ner(self) -> bool:
        """Whether the model finds entities (else it classifies)."""
        return self.project_kind == registry.CUSTOM_ENTITY_RECOGNITION


def _check_format(export_format: str, backend: str) -> None:
    if export_format == ExportFormat.DIR:
        return
    if export_format == ExportFormat.ONNX:
        if backend in _ONNX_EXPORTERS:
            return
        raise InvalidParameterValue(
            f"ONNX export is not available for {backend!r} models; models of "
            f"{sorted(_ONNX_EXPORTERS)} export to ONNX, every model exports with --format dir",
            target="format",
        )
    supported = [f.value for f in SUPPORTED_FORMATS]
    raise InvalidParameterValue(
        f"export format {export_format!r} is not supported; use one of {supported}",
        target="format",
    )


def export_model(artifact_dir: Path, output: Path, card: ModelCard, export_format: str) -> Path:
    """Write the model in ``artifact_dir`` to the new folder ``output``; returns ``output``."""
    _check_format(export_format, card.backend)
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise InvalidParameterValue(
            f"{str(output)!r} already exists and is not an empty folder; choose another output",
            target="output",
        )
    if not (artifact_dir / registry.MODEL_CONFIG_FILE).is_file():
        raise InvalidParameterValue(
            f"the artifact folder of model {card.model_label!r} is missing; train it again",
            target="model",
        )
    partial = output.with_name(output.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    if export_format == ExportFormat.ONNX:
        _ONNX_EXPORTERS[card.backend](artifact_dir, partial)
    else:
        shutil.copytree(artifact_dir, partial)
    manifest = {"exportVersion": _EXPORT_VERSION, **asdict(card)}
    manifest["labels"] = list(card.labels)
    _write_json(partial / MANIFEST_FILE, manifest)
    _write_json(partial / LABELS_FILE, {"projectKind": card.project_kind, "labels": card.labels})
    _write_json(
        partial / EVALUATION_FILE,
        {"evaluationOptions": card.evaluation_options, "summary": card.evaluation_summary},
    )
    (partial / README_FILE).write_text(render_readme(card, output.name), encoding="utf-8")
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.exists():
        output.rmdir()
    partial.replace(output)
    return output


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def read_card(model_dir: Path) -> ModelCard:
    """The card of an exported model folder."""
    path = model_dir / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise InvalidParameterValue(
            f"{str(model_dir)!r} is not an exported Lexicraft model ({MANIFEST_FILE} is missing "
            "or unreadable); make one with 'lexicraft export-model'",
            target="model",
        ) from error
    fields = {name: manifest[name] for name in ModelCard.__dataclass_fields__}
    fields["labels"] = tuple(fields["labels"])
    return ModelCard(**fields)


def load_exported(model_dir: Path) -> tuple[ModelCard, NerPredictor | ClassificationPredictor]:
    """An exported model's card and its loaded predictor."""
    card = read_card(model_dir)
    if card.is_ner:
        return card, registry.load_ner_predictor(model_dir)
    return card, registry.load_classification_predictor(model_dir)


def _metric(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "-"


def render_readme(card: ModelCard, folder_name: str) -> str:
    """The README of an exported model: what it is, how well it did, how to run it."""
    summary: Mapping[str, Any] = card.evaluation_summary
    per_label: Mapping[str, Mapping[str, Any]] = summary.get("entities") or summary.get(
        "classes", {}
    )
    loader = "load_ner_predictor" if card.is_ner else "load_classification_predictor"
    example = "Ada Lovelace visited Paris in 1843." if card.is_ner else "Where is my card?"
    show = (
        "    print(found.category, found.start, found.end, round(found.confidence, 3))"
        if card.is_ner
        else "    print(found.category, round(found.confidence, 3))"
    )
    lines = [
        f"# {card.project_name} / {card.model_label}",
        "",
        f"A {card.project_kind} model exported by Lexicraft.",
        "",
        f"- model id: `{card.model_id}`",
        f"- trained: {card.trained_at} with training config version "
        f"`{card.training_config_version}` (backend `{card.backend}`)",
        f"- language: `{card.language}`",
        f"- labels: {', '.join(f'`{label}`' for label in card.labels)}",
        f"- evaluation split: `{json.dumps(card.evaluation_options)}`",
        "",
        "## Evaluation",
        "",
        "| | precision | recall | F1 |",
        "|---|---|---|---|",
        f"| micro | {_metric(summary.get('microPrecision'))} | "
        f"{_metric(summary.get('microRecall'))} | {_metric(summary.get('microF1'))} |",
        f"| macro | {_metric(summary.get('macroPrecision'))} | "
        f"{_metric(summary.get('macroRecall'))} | {_metric(summary.get('macroF1'))} |",
    ]
    for label, metrics in per_label.items():
        lines.append(
            f"| `{label}` | {_metric(metrics.get('precision'))} | "
            f"{_metric(metrics.get('recall'))} | {_metric(metrics.get('f1'))} |"
        )
    lines += [
        "",
        "Full figures (counts, confusion matrix) are in `evaluation.json`.",
        "",
        "## Run it",
        "",
        "Without a server, one JSON line per input line:",
        "",
        "```sh",
        f"echo '{example}' | lexicraft predict --model {folder_name} -",
        "```",
        "",
        "From Python (needs the `lexicraft` package; offsets are code points):",
        "",
        "```python",
        "from pathlib import Path",
        "",
        f"from lexicraft.ml.registry import {loader}",
        "",
        f'predictor = {loader}(Path("{folder_name}"))',
        f'for found in predictor.predict(["{example}"])[0]:',
        show,
        "```",
        "",
        "`config.json` and the other model files are the backend's own format (no pickle).",
        "",
    ]
    return "\n".join(lines)
