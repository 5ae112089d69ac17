"""What a training request asks for: the model label, the recipe and the evaluation split."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lexicraft.errors import InvalidParameterValue

_KINDS = ("percentage", "manual")


@dataclass(frozen=True, slots=True)
class EvaluationOptions:
    """How documents are split into training and test sets."""

    kind: str = "percentage"
    training_split_percentage: int = 80
    testing_split_percentage: int = 20

    @classmethod
    def create(
        cls, kind: str | None = None, training: int | None = None, testing: int | None = None
    ) -> EvaluationOptions:
        """The options, checked: a known kind; percentages default to 80/20, sum to 100.

        One percentage alone implies the other.
        """
        kind = kind or "percentage"
        if kind.lower() not in _KINDS:
            raise InvalidParameterValue(
                f"evaluationOptions.kind {kind!r} is not valid; use 'percentage' or 'manual'",
                target="evaluationOptions.kind",
            )
        if training is None and testing is None:
            training, testing = 80, 20
        elif training is None:
            assert testing is not None
            training = 100 - testing
        elif testing is None:
            testing = 100 - training
        if not 0 < training < 100 or training + testing != 100:
            raise InvalidParameterValue(
                "evaluationOptions.trainingSplitPercentage and testingSplitPercentage must be "
                f"whole numbers between 1 and 99 that sum to 100, not {training!r} and {testing!r}",
                target="evaluationOptions",
            )
        return cls(kind.lower(), training, testing)

    def to_wire(self) -> dict[str, Any]:
        """The Azure ``evaluationOptions`` object (also how jobs and models store it)."""
        return {
            "kind": self.kind,
            "trainingSplitPercentage": self.training_split_percentage,
            "testingSplitPercentage": self.testing_split_percentage,
        }

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> EvaluationOptions:
        """The options :meth:`to_wire` stored (checked when they were submitted)."""
        return cls(
            stored["kind"], stored["trainingSplitPercentage"], stored["testingSplitPercentage"]
        )


@dataclass(frozen=True, slots=True)
class TrainingRequest:
    """Train ``model_label`` with ``training_config_version`` (may be ``latest``).

    ``training_mode``: a conversation project's ``standard``/``advanced`` (kept and shown in
    the job's result; Lexicraft trains both the same way), None for custom text.
    """

    model_label: str
    training_config_version: str
    evaluation_options: EvaluationOptions = EvaluationOptions()
    training_mode: str | None = None
