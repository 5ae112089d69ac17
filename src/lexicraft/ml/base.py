"""The protocols every ML backend implements, and the plain values they exchange.

Spans are half-open ``[start, end)`` ranges of Unicode code points into the original text;
backends never normalise the text they are given (CONVENTIONS 5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from lexicraft.domain.projects import ProjectKind
from lexicraft.domain.spans import Span
from lexicraft.ml.serving import Precision

__all__ = [
    "ClassExample",
    "ClassScore",
    "ClassificationBackend",
    "ClassificationPredictor",
    "ConversationBackend",
    "ConversationExample",
    "ConversationOutput",
    "ConversationPredictor",
    "NerBackend",
    "NerExample",
    "NerPredictor",
    "PredictedSpan",
    "PreparesServing",
    "Progress",
    "Span",
    "TrainsWith",
    "no_progress",
]

#: Called by trainers with the fraction of work done, 0.0 … 1.0.
Progress = Callable[[float], None]


def no_progress(_fraction: float) -> None:
    """A progress callback that ignores progress."""


HyperparametersT = TypeVar("HyperparametersT")


class TrainsWith(Generic[HyperparametersT]):
    """A backend's default training settings: fixed when the backend is made, read-only.

    The registry's backends are shared by every caller, so the settings a training uses are
    passed into ``train(..., hyperparameters=...)``; these defaults apply when none are.
    """

    def __init__(self, hyperparameters: HyperparametersT) -> None:
        self._hyperparameters = hyperparameters

    @property
    def hyperparameters(self) -> HyperparametersT:
        """The settings ``train`` uses when the caller passes none."""
        return self._hyperparameters

    def settings(self, hyperparameters: HyperparametersT | None) -> HyperparametersT:
        """``hyperparameters``, or the defaults when they are None."""
        return self._hyperparameters if hyperparameters is None else hyperparameters


@dataclass(frozen=True, slots=True)
class PredictedSpan:
    """An entity found by a model, with the model's confidence in it (0 … 1)."""

    start: int
    end: int
    category: str
    confidence: float


@dataclass(frozen=True, slots=True)
class NerExample:
    """One training document for NER."""

    text: str
    spans: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class ClassExample:
    """One training document for classification (one class for single-label)."""

    text: str
    classes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ClassScore:
    """A class and the model's confidence in it (0 … 1)."""

    category: str
    confidence: float


@dataclass(frozen=True, slots=True)
class ConversationExample:
    """One training utterance of a conversation (CLU) project: its intent and entity spans."""

    text: str
    intent: str
    spans: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class ConversationOutput:
    """What a conversation model finds in one utterance.

    ``intents``: every intent the model was trained on, best first, each with a calibrated
    confidence (0 … 1; not a distribution, so unrelated text can score low on every intent).
    ``entities``: what the learned component found (sorted by start, non-overlapping).
    """

    intents: tuple[ClassScore, ...]
    entities: tuple[PredictedSpan, ...]


#: Training documents of one project kind.
Examples = Sequence[NerExample] | Sequence[ClassExample] | Sequence[ConversationExample]


@dataclass(frozen=True, slots=True)
class ModelTraining:
    """One training to run: a ``kind`` backend named ``backend`` on ``examples`` with
    ``labels``, its model published as ``key`` (opaque here: the model store's key);
    ``attempt`` names the job, so that a re-run of it sweeps what a dead attempt left."""

    kind: ProjectKind
    backend: str
    examples: Examples
    labels: Sequence[str]
    key: str
    attempt: str


class NerPredictor(Protocol):
    """A loaded NER model."""

    labels: tuple[str, ...]

    def predict(self, texts: Sequence[str]) -> list[list[PredictedSpan]]:
        """Entities for each text, sorted by start, non-overlapping, inside the text."""
        ...


class ClassificationPredictor(Protocol):
    """A loaded classification model (single- or multi-label)."""

    labels: tuple[str, ...]
    multi_label: bool

    def predict(self, texts: Sequence[str]) -> list[list[ClassScore]]:
        """The chosen classes per text, best first.

        Single-label: exactly one class. Multi-label: every class whose score passes the
        model's (per-class) threshold; possibly none.
        """
        ...


class ConversationPredictor(Protocol):
    """A loaded conversation model: intents and learned entities together."""

    intents: tuple[str, ...]
    labels: tuple[str, ...]  # the entity categories

    def predict(self, texts: Sequence[str]) -> list[ConversationOutput]:
        """One output per text."""
        ...


class NerBackend(Protocol):
    """Trains NER models into a directory and loads them back."""

    name: str

    def train(
        self,
        examples: Sequence[NerExample],
        labels: Sequence[str],
        output_dir: Path,
        progress: Progress = no_progress,
    ) -> None:
        """Train on ``examples``; write config + weights (no pickle) to ``output_dir``."""
        ...

    def load(self, model_dir: Path) -> NerPredictor:
        """Load a model that :meth:`train` wrote."""
        ...


class ClassificationBackend(Protocol):
    """Trains classification models into a directory and loads them back."""

    name: str
    multi_label: bool

    def train(
        self,
        examples: Sequence[ClassExample],
        labels: Sequence[str],
        output_dir: Path,
        progress: Progress = no_progress,
    ) -> None:
        """Train on ``examples``; write config + weights (no pickle) to ``output_dir``."""
        ...

    def load(self, model_dir: Path) -> ClassificationPredictor:
        """Load a model that :meth:`train` wrote."""
        ...


class ConversationBackend(Protocol):
    """Trains conversation (intent + entity) models into a directory and loads them back.

    The intents are those of the examples (``None`` included where utterances carry it);
    ``labels`` are the entity categories.
    """

    name: str

    def train(
        self,
        examples: Sequence[ConversationExample],
        labels: Sequence[str],
        output_dir: Path,
        progress: Progress = no_progress,
    ) -> None:
        """Train on ``examples``; write config + weights (no pickle) to ``output_dir``."""
        ...

    def load(self, model_dir: Path) -> ConversationPredictor:
        """Load a model that :meth:`train` wrote."""
        ...


@runtime_checkable
class PreparesServing(Protocol):
    """A backend that writes extra files into a model folder to serve it faster (ONNX)."""

    def prepare_serving(self, model_dir: Path) -> bool:
        """Write them unless they are there; True when something was written."""
        ...

    def load(self, model_dir: Path, precision: Precision | None = None) -> Any:
        """Load the model; ``precision``: serve it from that ONNX graph (it must have been
        written), None: from the graph this process's serving options pick."""
        ...
