"""``textcat.minilm.v2`` / ``textcat.minilm-multi.v2``: the packaged MiniLM encoder fine-tuned;
``textcat.e5.v1`` / ``textcat.e5-multi.v1``: the same recipe on multilingual-e5-small, for
projects in other languages than English or in several (a cased encoder of ~100 languages: a
model trained on documents of one language classifies documents of the others).

The encoder (with the casing embedding of :class:`lexicraft.ml.finetune.CasedEncoder`) reads the
document, its outputs are mean-pooled (the pooling all-MiniLM-L6-v2 was trained with) and one
linear layer scores the classes. A document longer than a window is read in consecutive windows
whose logits are averaged, weighted by their length, so no text is dropped.

Both kinds score with a softmax, trained with cross-entropy and light label smoothing (which
keeps the confidences from piling up at 1.0). Multi-label: a document's classes share its target
probability equally (one with no class spreads it over all), and per-class decision thresholds
on the softmax scores choose the classes. Softmax learns many rare classes from few updates
where a sigmoid per class (binary cross-entropy) does not: trained for 90 s on 2,000 goemotions
comments (28 classes), test micro-F1 0.48 against 0.25 for binary cross-entropy, the
most-frequent-class baseline being 0.31.

A TF-IDF logistic regression (the ``textcat.linear.v1`` / ``textcat.linear-multi.v1`` model) is
trained beside the encoder, and the two models' scores are averaged with a weight chosen on a
held-out tenth of the training documents (:mod:`lexicraft.ml.classification.blend`): zero when
it does not help. Multi-label thresholds are tuned on the same documents, on the blended scores.
Both models are trained on the other nine tenths; sets under ``min_examples_for_validation``
documents are not split, and get the encoder alone.

The model directory holds ``config.json``, ``encoder_config.json``, ``tokenizer.json`` and
``model.safetensors`` (no pickle), and ``linear/`` (a linear model folder) when the blend weight
is above zero.

The ``v1`` names keep the behaviour they had before: ``textcat.minilm.v1`` trains the encoder
alone (no TF-IDF blend); ``textcat.minilm-multi.v1`` scores each class with its own sigmoid,
trained with binary cross-entropy, its thresholds tuned on held-out documents (on the linear
grid that suits sigmoid scores), without a blend. Folders they trained load as they were
trained.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

from lexicraft.ml import networks
from lexicraft.ml.artifacts import ModelConfig, read_config, write_config
from lexicraft.ml.base import ClassExample, ClassScore, Progress, TrainsWith, no_progress
from lexicraft.ml.calibration import log_probabilities, tempered
from lexicraft.ml.classification import blend
from lexicraft.ml.classification.linear import (
    MULTI_LABEL_BACKEND_NAME as LINEAR_MULTI_LABEL_BACKEND_NAME,
)
from lexicraft.ml.classification.linear import (
    SINGLE_LABEL_BACKEND_NAME as LINEAR_BACKEND_NAME,
)
from lexicraft.ml.classification.linear import (
    LinearHyperparameters,
    LinearModel,
    fit_linear_model,
    load_linear_model,
    save_linear_model,
    sigmoid,
    softmax,
)
from lexicraft.ml.classification.thresholds import CANDIDATES, LOG_CANDIDATES, best_thresholds
from lexicraft.ml.classification.validation import check_examples
from lexicraft.ml.e5_build import E5
from lexicraft.ml.encoders import MINILM
from lexicraft.ml.networks import Network
from lexicraft.ml.serving import Precision
from lexicraft.ml.training_plan import check_schedule, held_out_split
from lexicraft.ml.wordpieces import (
    FloatArray,
    WordPieces,
    load_tokenizer,
    padded,
    prediction_batches,
)

if TYPE_CHECKING:
    from lexicraft.ml.classification.classifier_network import Classifier

SINGLE_LABEL_BACKEND_NAME = "textcat.minilm.v2"
MULTI_LABEL_BACKEND_NAME = "textcat.minilm-multi.v2"
#: The encoder alone, without the TF-IDF blend (folders trained before the blend existed).
SINGLE_LABEL_V1_BACKEND_NAME = "textcat.minilm.v1"
#: A sigmoid per class (folders trained before the softmax head).
MULTI_LABEL_V1_BACKEND_NAME = "textcat.minilm-multi.v1"
E5_SINGLE_LABEL_BACKEND_NAME = "textcat.e5.v1"
E5_MULTI_LABEL_BACKEND_NAME = "textcat.e5-multi.v1"
#: The blended TF-IDF model's folder inside a model folder.
LINEAR_DIR = "linear"


@dataclass(frozen=True, slots=True)
class TransformerClassifierHyperparameters:
    """Training settings for the fine-tuned encoder classifiers (MiniLM, e5)."""

    epochs: int = 4
    learning_rate: float = 1e-4
    #: The freshly initialised class layer learns faster than the pretrained encoder.
    head_learning_rate: float = 1e-3
    weight_decay: float = 0.01
    batch_size: int = 32
    #: Small training sets still get this many updates (more epochs).
    min_steps: int = 150
    #: Large training sets stop after reading this many word pieces (padding included; see
    #: :func:`lexicraft.ml.training_plan.plan_steps`), whatever the clock says. Chosen so the
    #: benchmark sets train as long as they did under the former 540 s budget on two cores
    #: (bench/results/classify.json): a step costs about 0.9 ms per piece there (atis: 4 epochs,
    #: 560 steps of 443 pieces in 225 s), so 540 s read about 600,000 pieces. banking77 (9,002
    #: documents beside the held-out tenth, 528 pieces a step) keeps its four epochs (1,128
    #: steps; the budget gave about 1,150 of 10,003 documents' 1,252), ag_news (1,675 pieces a
    #: step) gets 358 of 648 (the budget: about 360), atis keeps its four epochs. About nine
    #: minutes on two cores, plus the TF-IDF model's fit; None: no cap.
    max_train_pieces: int | None = 600_000
    #: Word pieces per window, special tokens included.
    window: int = 128
    #: Training reads at most this many windows of a long document (prediction reads all).
    max_train_windows: int = 4
    max_pieces_per_word: int = 16
    label_smoothing: float = 0.1
    #: Train a TF-IDF logistic regression beside the encoder and blend their scores, with a
    #: weight tuned on the held-out documents.
    blend_linear: bool = True
    #: Share of the training data held out (when there are at least
    #: ``min_examples_for_validation`` documents) to tune the blend weight and (multi-label)
    #: the per-class thresholds. Multi-label: a class needs ``min_validation_positives``
    #: held-out positives, else it gets the threshold best for all classes pooled.
    validation_fraction: float = 0.1
    min_examples_for_validation: int = 200
    min_validation_positives: int = 5
    default_threshold: float = 0.5
    #: An explicit wall-clock cap: training (the TF-IDF model's fit included) ends within
    #: this many seconds, with the encoder's learning rate fully decayed but fewer steps than
    #: planned on a slow or busy machine, and the training job says so in a warning. None (the
    #: default): the data alone decides the length, so the same project, config and seed give
    #: the same model.
    time_budget_s: float | None = None
    #: Seeds weight initialisation, dropout, batch order and the held-out split.
    seed: int = 0

    def __post_init__(self) -> None:
        check_schedule(self)
        if not 8 <= self.window <= 512:
            raise ValueError("window must hold 8 … 512 word pieces")
        if not 0.0 < self.validation_fraction < 1.0 or not 0.0 < self.default_threshold < 1.0:
            raise ValueError("validation_fraction and default_threshold must be in (0, 1)")


class TransformerClassifierConfig(ModelConfig):
    """An encoder classifier folder's ``config.json``."""

    multi_label: bool
    #: Multi-label: each class's decision threshold on its score (single-label: unused).
    thresholds: tuple[float, ...]
    hyperparameters: TransformerClassifierHyperparameters
    trained_steps: int
    validation_documents: int
    #: The steps the data asked for (fewer were trained when a time budget cut training
    #: short); None in folders written before it was recorded.
    planned_steps: int | None = None
    #: The TF-IDF model's share of the blended scores; folders from before the blend have none.
    linear_weight: float = 0.0
    #: What the held-out documents chose (None: no blend, or folders from before it was
    #: recorded); shown in the model's evaluation details.
    held_out: blend.HeldOutChoice | None = None


class TransformerClassificationBackend(TrainsWith[TransformerClassifierHyperparameters]):
    """Trains and loads ``textcat.minilm.v2`` (single-label) models."""

    name = SINGLE_LABEL_BACKEND_NAME
    multi_label = False
    #: The pretrained encoder it fine-tunes (:data:`lexicraft.ml.finetune.ENCODERS`).
    encoder: ClassVar[str] = MINILM
    #: Whether the int8 serving graph quantizes the word-piece embeddings too (see
    #: :func:`lexicraft.ml.onnx_serving.quantize`): worth it for a large vocabulary only.
    quantizes_embeddings: ClassVar[bool] = False
    #: Whether training may blend in a TF-IDF model (``blend_linear``).
    can_blend: ClassVar[bool] = True
    #: Multi-label scores: one sigmoid per class (v1) rather than a softmax over the classes.
    sigmoid: ClassVar[bool] = False
    default_hyperparameters: ClassVar[TransformerClassifierHyperparameters] = (
        TransformerClassifierHyperparameters()
    )

    def __init__(self, hyperparameters: TransformerClassifierHyperparameters | None = None) -> None:
        super().__init__(hyperparameters or self.default_hyperparameters)

    def train(
        self,
        examples: Sequence[ClassExample],
        labels: Sequence[str],
        output_dir: Path,
        progress: Progress = no_progress,
        *,
        hyperparameters: TransformerClassifierHyperparameters | None = None,
    ) -> None:
        """Fine-tune on ``examples``; write the model folder to ``output_dir``.

        ``hyperparameters``: the settings to train with (None: :attr:`hyperparameters`); they
        are stored in ``config.json``.
        """
        settings = self.settings(hyperparameters)
        if settings.blend_linear and not self.can_blend:
            raise ValueError(
                f"{self.name} trains the encoder alone; set blend_linear=False or train "
                f"{SINGLE_LABEL_BACKEND_NAME} / {MULTI_LABEL_BACKEND_NAME}"
            )
        label_list = tuple(dict.fromkeys(labels))
        check_examples(examples, label_list, self.multi_label)
        # PyTorch only now: a process that merely serves models never imports it.
        from lexicraft.ml.classification.classifier_network import fine_tune_classifier
        from lexicraft.ml.finetune import (
            TorchNetwork,
            save_encoder_files,
            save_weights,
            seed_everything,
        )

        progress(0.0)
        seed_everything(settings.seed)
        started = time.monotonic()
        training, validation = self._split(examples, settings)
        linear_settings = LinearHyperparameters(seed=settings.seed)
        linear = (
            fit_linear_model(
                training,
                label_list,
                self.multi_label,
                linear_settings,
                tune_thresholds=False,
            )
            if validation and settings.blend_linear
            else None
        )
        # Under an explicit budget the linear model's seconds come out of the encoder's, so
        # the whole training keeps to ``time_budget_s``.
        budget = settings.time_budget_s
        if budget is not None:
            budget = max(budget / 2, budget - (time.monotonic() - started))
        model, tokenizer, config_dict, length = fine_tune_classifier(
            self.encoder,
            training,
            label_list,
            replace(settings, time_budget_s=budget),
            progress,
            sigmoid=self.sigmoid,
        )
        predictor = TransformerClassificationPredictor(
            TorchNetwork(model),
            tokenizer,
            label_list,
            self.multi_label,
            np.full(len(label_list), settings.default_threshold, dtype=np.float32),
            settings,
            sigmoid=self.sigmoid,
        )
        linear_weight, thresholds, choice = self._tune(
            predictor, training, validation, linear, label_list, settings
        )
        save_encoder_files(output_dir, config_dict, self.encoder)
        save_weights(model, output_dir)
        if linear is not None and linear_weight > 0.0:
            save_linear_model(
                linear, self._linear_backend_name, linear_settings, output_dir / LINEAR_DIR
            )
        write_config(
            output_dir,
            TransformerClassifierConfig(
                backend=self.name,
                labels=label_list,
                multi_label=self.multi_label,
                thresholds=tuple(float(value) for value in thresholds),
                hyperparameters=settings,
                trained_steps=length.trained_steps,
                planned_steps=length.planned_steps,
                validation_documents=len(validation),
                linear_weight=linear_weight,
                held_out=choice,
            ),
        )
        progress(1.0)

    def _tune(
        self,
        predictor: TransformerClassificationPredictor,
        training: Sequence[ClassExample],
        validation: Sequence[ClassExample],
        linear: LinearModel | None,
        labels: tuple[str, ...],
        settings: TransformerClassifierHyperparameters,
    ) -> tuple[float, FloatArray, blend.HeldOutChoice | None]:
        """``(blend weight, per-class thresholds, the held-out choice)`` chosen on the held-out
        documents (no choice without a TF-IDF model beside the encoder)."""
        thresholds = np.full(len(labels), settings.default_threshold, dtype=np.float32)
        # Held-out documents tune the blend and the thresholds. Without any, softmax
        # multi-label thresholds are tuned on the training documents themselves, which at
        # least puts them on the softmax's scale (a document with two classes scores under 0.5
        # for each); sigmoid scores are on the default threshold's scale already.
        tuning = validation or (training if self.multi_label and not self.sigmoid else [])
        if not tuning or (linear is None and not self.multi_label):
            return 0.0, thresholds, None
        scores = predictor.scores([example.text for example in tuning]).astype(np.float64)
        targets = _targets(tuning, labels)
        if linear is None:  # multi-label without a blend
            # Softmax scores of rare classes sit at 0.01-0.1: a log-spaced grid reaches them.
            candidates = CANDIDATES if self.sigmoid else LOG_CANDIDATES
            tuned = best_thresholds(
                scores,
                targets,
                settings.default_threshold,
                settings.min_validation_positives,
                candidates,
            )
            return 0.0, tuned.astype(np.float32), None
        # A linear model is only fitted beside a validation split.
        linear_scores = blend.aligned(
            linear.scores([example.text for example in tuning]), linear.classes, labels
        )
        if not self.multi_label:
            choice = blend.single_label_choice(scores, linear_scores, targets.argmax(axis=1))
            return choice.linear_weight, thresholds, choice
        choice, tuned = blend.multi_label_choice(
            scores,
            linear_scores,
            targets,
            settings.default_threshold,
            settings.min_validation_positives,
        )
        return choice.linear_weight, tuned.astype(np.float32), choice

    @property
    def _linear_backend_name(self) -> str:
        return LINEAR_MULTI_LABEL_BACKEND_NAME if self.multi_label else LINEAR_BACKEND_NAME

    def _split(
        self, examples: Sequence[ClassExample], settings: TransformerClassifierHyperparameters
    ) -> tuple[list[ClassExample], list[ClassExample]]:
        """``(training, validation)``; no validation for small sets or when nothing is tuned."""
        tunes = self.multi_label or settings.blend_linear
        if not tunes or len(examples) < settings.min_examples_for_validation:
            return list(examples), []
        if not self.multi_label:
            return blend.stratified_split(examples, settings.validation_fraction, settings.seed)
        return held_out_split(examples, settings.validation_fraction, settings.seed)

    def load(
        self, model_dir: Path, precision: Precision | None = None
    ) -> TransformerClassificationPredictor:
        """Load a model that :meth:`train` wrote (``precision``: from that ONNX graph)."""
        config = read_config(model_dir, TransformerClassifierConfig, self.name)
        labels = config.labels
        network = networks.serving_network(
            model_dir, lambda: _load_classifier(model_dir, len(labels)), precision
        )
        # A folder records the weight it was trained with: v1 folders from before the blend
        # have none (0.0), so they score with the encoder alone.
        linear = None
        if config.linear_weight > 0.0:
            linear = load_linear_model(model_dir / LINEAR_DIR, self._linear_backend_name).model
        return TransformerClassificationPredictor(
            network,
            load_tokenizer(model_dir),
            labels,
            config.multi_label,
            np.asarray(config.thresholds, dtype=np.float32),
            config.hyperparameters,
            linear,
            config.linear_weight,
            sigmoid=self.sigmoid,
            temperature=1.0 if config.held_out is None else config.held_out.temperature,
        )

    def prepare_serving(self, model_dir: Path) -> bool:
        """Write the network as ONNX for serving (see :mod:`lexicraft.ml.onnx_serving`)."""
        from lexicraft.ml import onnx_serving

        labels = read_config(model_dir, TransformerClassifierConfig, self.name).labels
        return onnx_serving.prepare(
            model_dir,
            lambda: _load_classifier(model_dir, len(labels)),
            quantize_embeddings=self.quantizes_embeddings,
        )


def _load_classifier(model_dir: Path, class_count: int) -> Classifier:
    from lexicraft.ml.classification.classifier_network import load_classifier

    return load_classifier(model_dir, class_count)


class TransformerMultiLabelClassificationBackend(TransformerClassificationBackend):
    """Trains and loads ``textcat.minilm-multi.v2`` (multi-label) models."""

    name = MULTI_LABEL_BACKEND_NAME
    multi_label = True
    # A third more reading than single-label (800,000 pieces, the former 720 s budget at
    # 0.9 ms a piece): a large multi-label set (goemotions, 43,000 comments, 619 pieces a
    # step) gets 1,292 steps, just over one pass (as the budget gave it), and its rare classes
    # are the ones still learning at the end.
    default_hyperparameters = TransformerClassifierHyperparameters(max_train_pieces=800_000)


class TransformerClassificationBackendV1(TransformerClassificationBackend):
    """``textcat.minilm.v1``: the single-label encoder alone, as before the TF-IDF blend."""

    name = SINGLE_LABEL_V1_BACKEND_NAME
    can_blend = False
    default_hyperparameters = TransformerClassifierHyperparameters(blend_linear=False)


class TransformerMultiLabelClassificationBackendV1(TransformerMultiLabelClassificationBackend):
    """``textcat.minilm-multi.v1``: a sigmoid per class, as before the softmax head.

    Binary cross-entropy over many rare classes learns slowly (goemotions, 90 s: micro-F1 0.25
    against 0.31 for the most frequent class), which is why v2 replaced it; it stays to load
    the folders it trained with the scores they were tuned on.
    """

    name = MULTI_LABEL_V1_BACKEND_NAME
    can_blend = False
    sigmoid = True
    default_hyperparameters = TransformerClassifierHyperparameters(
        max_train_pieces=800_000, blend_linear=False
    )


#: The e5 backends' caps on word pieces read in training: half of MiniLM's, since twice its
#: layers make a step about twice as long (the same ratio as ``ner.e5.v1``'s).
E5_TRAIN_PIECES = 300_000
E5_MULTI_LABEL_TRAIN_PIECES = 400_000


class E5ClassificationBackend(TransformerClassificationBackend):
    """``textcat.e5.v1``: ``textcat.minilm.v2``'s recipe (the TF-IDF blend included) on
    multilingual-e5-small, cased and trained on ~100 languages."""

    name = E5_SINGLE_LABEL_BACKEND_NAME
    encoder = E5
    #: 250,002 word pieces: int8 embeddings shrink the int8 graph by about 290 MB.
    quantizes_embeddings = True
    default_hyperparameters = TransformerClassifierHyperparameters(max_train_pieces=E5_TRAIN_PIECES)


class E5MultiLabelClassificationBackend(TransformerMultiLabelClassificationBackend):
    """``textcat.e5-multi.v1``: ``textcat.minilm-multi.v2``'s recipe on multilingual-e5-small."""

    name = E5_MULTI_LABEL_BACKEND_NAME
    encoder = E5
    quantizes_embeddings = True
    default_hyperparameters = TransformerClassifierHyperparameters(
        max_train_pieces=E5_MULTI_LABEL_TRAIN_PIECES
    )


class TransformerClassificationPredictor:
    """A loaded fine-tuned encoder classifier (MiniLM or e5)."""

    def __init__(
        self,
        network: Network,
        tokenizer: Tokenizer,
        labels: tuple[str, ...],
        multi_label: bool,
        thresholds: FloatArray,
        settings: TransformerClassifierHyperparameters,
        linear: LinearModel | None = None,
        linear_weight: float = 0.0,
        *,
        sigmoid: bool = False,
        temperature: float = 1.0,
    ) -> None:
        self.labels = labels
        self.multi_label = multi_label
        self._sigmoid = sigmoid
        self._temperature = temperature
        self._network = network
        self._linear = linear
        self._linear_weight = linear_weight
        self._pieces = WordPieces(tokenizer, settings.max_pieces_per_word)
        self._thresholds = thresholds
        self._window = settings.window
        # One forward pass at a time: torch already spreads one batch over every core.
        self._lock = threading.Lock()

    @property
    def runtime(self) -> str:
        """What runs the network: ``"pytorch"`` or ``"onnxruntime"``."""
        return self._network.runtime

    @property
    def network(self) -> Network:
        """The network it predicts with (for ONNX Runtime, ``network.path`` is its graph)."""
        return self._network

    def scores(self, texts: Sequence[str]) -> FloatArray:
        """Class scores per text (texts by labels): the encoder's softmax (or, v1 multi-label,
        a sigmoid per class), blended with the linear model's scores when the blend weight is
        above zero, then (single-label) tempered as the held-out documents chose."""
        documents = self._pieces.documents(texts)
        # A text without words is still read, as [CLS] [SEP], so it gets the scores the model
        # learned for an empty window rather than the class bias alone.
        windows = [
            window
            for number, document in enumerate(documents)
            for window in self._pieces.windows(number, document, self._window, 0)
            or [self._pieces.empty_window(number)]
        ]
        summed = np.zeros((len(texts), len(self.labels)), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        lengths = [len(window.ids) for window in windows]
        with self._lock:
            for batch in prediction_batches(lengths):
                chosen = [windows[index] for index in batch]
                for window, row in zip(chosen, self._network.logits(*padded(chosen)), strict=True):
                    summed[window.document] += len(window.ids) * row
                    weights[window.document] += len(window.ids)
        logits = summed / weights[:, None]
        probabilities = sigmoid(logits) if self._sigmoid else softmax(logits)
        if self._linear is not None:
            linear = self._linear
            words = blend.aligned(linear.scores(texts), linear.classes, self.labels)
            probabilities = blend.blend(probabilities, words, self._linear_weight)
        if self._temperature != 1.0:
            probabilities = tempered(log_probabilities(probabilities), self._temperature)
        result: FloatArray = probabilities.astype(np.float32)
        return result

    def predict(self, texts: Sequence[str]) -> list[list[ClassScore]]:
        """The chosen classes per text, best first (exactly one for single-label)."""
        if not texts:
            return []
        results: list[list[ClassScore]] = []
        for row in self.scores(texts):
            if self.multi_label:
                chosen = [
                    ClassScore(self.labels[index], _probability(row[index]))
                    for index in np.flatnonzero(row >= self._thresholds)
                ]
                chosen.sort(key=lambda score: (-score.confidence, score.category))
            else:
                best = int(np.argmax(row))
                chosen = [ClassScore(self.labels[best], _probability(row[best]))]
            results.append(chosen)
        return results


def _targets(examples: Sequence[ClassExample], labels: Sequence[str]) -> npt.NDArray[np.bool_]:
    """Documents by labels: whether each document has each class."""
    return np.array([[label in example.classes for label in labels] for example in examples])


def _probability(value: float | np.floating[Any]) -> float:
    return min(1.0, max(0.0, float(value)))
