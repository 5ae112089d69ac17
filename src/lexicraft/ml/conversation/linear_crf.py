"""``clu.linear-crf.v1``: the fast conversation model, two existing models side by side.

Intents: the TF-IDF logistic regression of ``textcat.linear.v1``
(:mod:`lexicraft.ml.classification.linear`); entities: the CRF of ``ner.crf.v1``
(:mod:`lexicraft.ml.ner.crf`). Both train in seconds and serve in well under a millisecond
per utterance. The model folder holds this backend's ``config.json`` and one subfolder per
part (``intents/``, ``entities/``), each written and read by that part's own code (and so
carrying its own ``config.json``), so a fix to either part's format needs no change here.

Intent scores are the regression's softmax over every intent seen in training: in 0 … 1,
every intent listed, but *not* calibrated against out-of-scope text (the default backend,
``clu.minilm.v1``, is).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lexicraft.ml.artifacts import ModelConfig, read_config, write_config
from lexicraft.ml.base import (
    ClassExample,
    ClassScore,
    ConversationExample,
    ConversationOutput,
    NerExample,
    Progress,
    TrainsWith,
    no_progress,
)
from lexicraft.ml.classification.linear import (
    LinearClassificationPredictor,
    LinearHyperparameters,
    fit_linear_model,
    load_linear_model,
    save_linear_model,
)
from lexicraft.ml.conversation.validation import check_examples, intents_of
from lexicraft.ml.ner.crf import CrfHyperparameters, CrfNerBackend, CrfNerPredictor

BACKEND_NAME = "clu.linear-crf.v1"
#: The subfolders of a model folder: the intent classifier's and the entity tagger's.
INTENTS_DIR = "intents"
ENTITIES_DIR = "entities"
#: The name the intent classifier's own ``config.json`` carries (it is loaded only from here).
_INTENT_PART_NAME = f"{BACKEND_NAME}/intents"


@dataclass(frozen=True, slots=True)
class LinearCrfHyperparameters:
    """Training settings of both parts."""

    intents: LinearHyperparameters = field(default_factory=LinearHyperparameters)
    entities: CrfHyperparameters = field(default_factory=CrfHyperparameters)


class LinearCrfConfig(ModelConfig):
    """A ``clu.linear-crf.v1`` folder's ``config.json`` (``labels``: the entity categories)."""

    intents: tuple[str, ...]
    hyperparameters: LinearCrfHyperparameters
    intents_dir: str = INTENTS_DIR
    entities_dir: str = ENTITIES_DIR


class LinearCrfConversationBackend(TrainsWith[LinearCrfHyperparameters]):
    """Trains and loads ``clu.linear-crf.v1`` models."""

    name = BACKEND_NAME

    def __init__(self, hyperparameters: LinearCrfHyperparameters | None = None) -> None:
        super().__init__(hyperparameters or LinearCrfHyperparameters())

    def train(
        self,
        examples: Sequence[ConversationExample],
        labels: Sequence[str],
        output_dir: Path,
        progress: Progress = no_progress,
        *,
        hyperparameters: LinearCrfHyperparameters | None = None,
    ) -> None:
        """Train both parts on ``examples``; write the model folder to ``output_dir``."""
        settings = self.settings(hyperparameters)
        label_list = tuple(dict.fromkeys(labels))
        check_examples(examples, label_list)
        intents = intents_of(examples)
        progress(0.0)
        # The regression takes a few seconds at most; the CRF's L-BFGS is most of the work.
        model = fit_linear_model(
            [ClassExample(example.text, (example.intent,)) for example in examples],
            intents,
            False,
            settings.intents,
            progress=lambda fraction: progress(0.2 * fraction),
        )
        save_linear_model(model, _INTENT_PART_NAME, settings.intents, output_dir / INTENTS_DIR)
        CrfNerBackend(settings.entities).train(
            [NerExample(example.text, example.spans) for example in examples],
            label_list,
            output_dir / ENTITIES_DIR,
            lambda fraction: progress(0.2 + 0.79 * fraction),
        )
        write_config(
            output_dir,
            LinearCrfConfig(
                backend=BACKEND_NAME,
                labels=label_list,
                intents=intents,
                hyperparameters=settings,
            ),
        )
        progress(1.0)

    def load(self, model_dir: Path) -> LinearCrfConversationPredictor:
        """Load a model that :meth:`train` wrote."""
        config = read_config(model_dir, LinearCrfConfig, BACKEND_NAME)
        return LinearCrfConversationPredictor(
            intents=config.intents,
            labels=config.labels,
            classifier=load_linear_model(
                model_dir / config.intents_dir, expected_backend=_INTENT_PART_NAME
            ),
            tagger=CrfNerBackend().load(model_dir / config.entities_dir),
        )


class LinearCrfConversationPredictor:
    """A loaded ``clu.linear-crf.v1`` model."""

    def __init__(
        self,
        intents: tuple[str, ...],
        labels: tuple[str, ...],
        classifier: LinearClassificationPredictor,
        tagger: CrfNerPredictor,
    ) -> None:
        self.intents = intents
        self.labels = labels
        self._classifier = classifier
        self._tagger = tagger

    def predict(self, texts: Sequence[str]) -> list[ConversationOutput]:
        """Every trained intent with its score, best first, and the entities, per text."""
        if not texts:
            return []
        model = self._classifier.model
        scores = model.scores(texts)
        entities = self._tagger.predict(texts)
        outputs: list[ConversationOutput] = []
        for row, found in zip(scores, entities, strict=True):
            ranked = sorted(
                (
                    ClassScore(intent, min(1.0, max(0.0, float(score))))
                    for intent, score in zip(model.classes, row, strict=True)
                ),
                key=lambda score: (-score.confidence, score.category),
            )
            outputs.append(ConversationOutput(intents=tuple(ranked), entities=tuple(found)))
        return outputs
